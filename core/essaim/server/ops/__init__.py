"""Operating the server: metrics, logs, garbage-collector tuning, shutdown."""
