"""Benchmarks (not tests): run with ``make bench-engine``, ``make bench-quality``."""
