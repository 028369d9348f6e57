"""Engine-free WebSocket servers that answer the campaign workload the way
``essaim serve`` does, minus the engine: the ceiling of a stack.

* ``bare_quart_trio``: hypercorn (trio) + quart-trio, our stack with nothing on it.
* ``uvicorn_websockets``: uvicorn + websockets (asyncio), the usual alternative.

Both speak just enough of docs/protocol.md (``mini.py``) for the lean
generator and the Locust user: join/resume → welcome, every action acked at
once, a counters refresh to everyone, phase changes driven over the same
facilitator HTTP routes, an ``echo`` frame, and ``/metrics`` with
``essaim_frames_out_total``. Run one with ``python -m loadtests.baselines.NAME``.
"""
