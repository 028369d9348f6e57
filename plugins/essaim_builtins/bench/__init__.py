"""Benchmarks of the built-in strategies' quality on simulated crowds with a
known truth (``make bench-quality``), each against a simple baseline."""
