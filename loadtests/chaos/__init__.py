"""The fault-injection suite (``make chaos``; a short run in ``.ci/run``).

Real processes on 127.0.0.1 (``essaim serve --cluster`` in failover mode,
redis-server, PostgreSQL, a SQLite server on a small tmpfs), phones writing
cards, one fault per scenario, and a verdict from the store's log:
acknowledged actions lost and duplicated (0 and 0), time to recover, views
converged. How to run it and read it: docs/operations.md, "Chaos suite".
"""
