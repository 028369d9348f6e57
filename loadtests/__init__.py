"""Load tests, the capacity benchmark and the baseline servers.

Two load generators live here, each for its job:

* ``locustfile.py``: Locust scenarios (smoke, campaign, reconnect-storm, soak)
  with realistic users, CSV/HTML reports and an SLO gate. One Locust process
  holds about 2,000 WebSocket users; more need distributed mode.
* ``lean.py``: a lean asyncio client speaking the same protocol, cheap enough
  to open 10,000+ sessions from one core; the capacity benchmark
  (``bench.py``) and the baseline comparison (``perf.py``) use it.
* ``chaos/``: the fault-injection suite (``make chaos``): its own small
  generator of phones whose every acknowledgement is checked against the
  store's log after a kill -9, a SIGSTOP, a restart or a full disk.

Locust is imported by ``locustfile.py`` only, and only in its own process (it
monkey-patches sockets); every other module here is importable anywhere.
"""
