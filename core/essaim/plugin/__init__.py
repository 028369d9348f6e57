"""The plugin contract: hook specifications, the registry that registration
hooks fill in, and the host that loads plugins and calls their hooks.

Plugin authors read :mod:`essaim.plugin.hookspecs` (the reference),
import :data:`hookimpl` from :mod:`essaim`, and write CSV exports with
:func:`essaim.plugin.spreadsheet.csv_bytes` (no live formulas).
"""

from essaim.plugin._host import CORE_PLUGINS, DEFAULT_PLUGINS, ENTRY_POINT_GROUP, ESSENTIAL_PLUGINS, PluginHost

__all__ = ["PluginHost", "CORE_PLUGINS", "DEFAULT_PLUGINS", "ESSENTIAL_PLUGINS", "ENTRY_POINT_GROUP"]
