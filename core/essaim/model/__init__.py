"""The data every layer reads: events, the pure reducer over them, commands,
campaign templates, and the values strategies return.

Nothing here imports the engine, the store or the server; a replica of a
campaign (a test, a simulator, a gateway) needs only this package.
"""
