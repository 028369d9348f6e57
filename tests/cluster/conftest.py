"""Fixtures of the cluster tests: a real redis-server per test (realservers.redis)."""

import sys
from pathlib import Path

# The server tests' WebSocket participant (tests/server/server_fixtures.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from realservers.redis import redis_server  # noqa: F401  (the fixture)
