"""Fixtures of the cluster tests: a real redis-server per test (realservers.redis)."""

from realservers.redis import redis_server  # noqa: F401  (the fixture)
