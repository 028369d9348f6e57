"""Tests of the deployment files in deploy/ (nginx, Prometheus, Grafana, systemd)."""
