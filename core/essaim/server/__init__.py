"""The real-time server: participant WebSocket, facilitator API, operations.

:func:`serve` runs an engine behind hypercorn's trio worker;
:class:`Settings` / :func:`load_settings` hold every limit. See
docs/protocol.md (what clients see) and docs/operations.md (settings,
limits, metrics, logs).
"""

from essaim.server.app import EssaimServer
from essaim.server.run import serve
from essaim.server.settings import Settings, SettingsError, load_settings

__all__ = ["EssaimServer", "Settings", "SettingsError", "load_settings", "serve"]
