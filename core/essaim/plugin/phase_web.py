"""Where a plugin phase type's screens live: ES modules in its package.

A phase type of a plugin's own kind ships its phone screen and its console
panel as small ES modules (no build step, like the app's own modules) in a
folder of the plugin's package. The server serves that folder, same
origin, at ``/plugins/<phase type>/<file>`` (so the pages' Content-Security-
Policy, ``script-src 'self'``, lets them load); the phone app imports
``screen`` while a phase of that type runs, the facilitator console
imports ``panel``. Their client API is described in docs/plugins.md,
"Writing a new phase".
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from essaim.errors import PluginError

__all__ = ["PhaseWeb", "SERVED_SUFFIXES", "PLUGIN_ASSETS_PREFIX"]

#: What the server serves from a phase type's folder: modules, styles, images,
#: strings. Anything else there (Python files, notes) is not served.
SERVED_SUFFIXES = frozenset({".js", ".mjs", ".css", ".svg", ".png", ".webp", ".json"})
#: The URL prefix of the folders: /plugins/<phase type>/<file>.
PLUGIN_ASSETS_PREFIX = "/plugins"


@dataclass(frozen=True, slots=True)
class PhaseWeb:
    """A phase type's web files: ``folder`` inside the importable
    ``package`` (e.g. ``PhaseWeb(__name__, screen="screen.js",
    panel="panel.js")`` in the plugin's ``__init__.py``); ``screen`` and
    ``panel`` are file names in it (either may be None: the phone then
    shows a generic screen for the phase, the console no panel)."""

    package: str
    screen: str | None = None
    panel: str | None = None
    folder: str = "web"

    def directory(self) -> Path:
        """The folder on disk. Raises PluginError if the package cannot be
        found or is not a directory of files (a zipped package is not served)."""
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError) as exc:
            raise PluginError(f"web files: cannot find package {self.package!r}: {exc}") from None
        if spec is None or not spec.submodule_search_locations:
            raise PluginError(f"web files: {self.package!r} is not an installed package (a folder with "
                              "__init__.py); give PhaseWeb the package holding the web folder")
        return Path(next(iter(spec.submodule_search_locations))) / self.folder

    def check(self, plugin: str, phase_type: str) -> None:
        """At registration: the folder and the named modules exist, so a
        missing file fails at start-up rather than on a phone."""
        try:
            folder = self.directory()
        except PluginError as exc:
            raise PluginError(f"plugin {plugin!r}: phase type {phase_type!r}: {exc}") from None
        for role, name in (("screen", self.screen), ("panel", self.panel)):
            if name is None:
                continue
            path = (folder / name).resolve()
            if not path.is_relative_to(folder.resolve()) or not path.is_file() or path.suffix not in (".js", ".mjs"):
                raise PluginError(
                    f"plugin {plugin!r}: phase type {phase_type!r}: its {role} {name!r} is not a .js file in "
                    f"{folder} (PhaseWeb(package={self.package!r}, folder={self.folder!r}))"
                )

    def file(self, name: str) -> Path | None:
        """The file ``name`` of the folder, if it may be served (inside the
        folder, of a served kind); None otherwise."""
        folder = self.directory().resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or path.suffix not in SERVED_SUFFIXES:
            return None
        return path

    def url(self, phase_type: str, name: str | None) -> str | None:
        """Where the browser imports ``name`` from."""
        return None if name is None else f"{PLUGIN_ASSETS_PREFIX}/{phase_type}/{name}"
