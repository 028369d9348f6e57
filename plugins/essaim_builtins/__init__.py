"""Essaim's built-in strategies, each an ordinary plugin on the public hooks.

The engine registers these modules by name (``essaim.plugin.DEFAULT_PLUGINS``);
they use nothing a third-party plugin could not.
"""
