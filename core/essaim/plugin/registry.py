"""The registry that registration hooks fill in.

Each plugin's registration hook gets a view of the registry bound to that
plugin's name, so a duplicate names both plugins involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from essaim.errors import PluginError, TemplateError
from essaim.model.commands import CommandSpec, CommandTable
from essaim.model.schema import MISSING, Anything, Field, Fields, Invalid
from essaim.model.template import CampaignTemplate, PhaseSpec

__all__ = ["Registry", "PhaseType", "StrategyInfo", "ExportFormat", "FAMILIES"]

#: Strategy families. "export" strategies are export formats.
FAMILIES = ("collection", "structuring", "moderation", "evaluation", "results", "export")


@dataclass(frozen=True, slots=True)
class PhaseType:
    name: str
    family: str | None
    default_strategy: str
    commands: frozenset[str]
    description: str
    plugin: str


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    """A registered strategy. ``settings`` declares every setting it reads
    (None: not declared, so a template's settings are not checked)."""

    family: str
    name: str
    description: str
    plugin: str
    settings: Fields | None = None

    def check_settings(self, settings: Any, *, source: str | None, key: str) -> None:
        """Raise TemplateError, naming ``source`` and the setting's key
        (``key`` is the settings table's, e.g. ``phase[1].settings``) and
        what is allowed, unless ``settings`` fit the declaration."""
        if self.settings is None:
            return
        declared = dict(self.settings)
        unknown = [k for k in settings if k not in declared] if isinstance(settings, Mapping) else []
        if unknown:
            allowed = "; ".join(f"{k}: {f.describe()}" for k, f in declared.items()) or "none"
            raise TemplateError(
                f"{self.family} strategy {self.name!r} has no setting {unknown[0]!r}; its settings are: {allowed}",
                source=source, key=f"{key}.{unknown[0]}",
            )
        try:
            self.settings.check(settings)
        except Invalid as error:
            found = "" if error.found is MISSING else f"; found {error.found!r}"
            raise TemplateError(f"{self.family} strategy {self.name!r}: {error.expected}{found}",
                                source=source, key=f"{key}.{error.name}" if error.name else key) from None


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    media_type: str
    description: str
    plugin: str


class Registry:
    """Commands, phase types, strategies and export formats declared by plugins."""

    def __init__(self) -> None:
        self.commands = CommandTable()
        self.phase_types: dict[str, PhaseType] = {}
        self.strategies: dict[tuple[str, str], StrategyInfo] = {}
        self.export_formats: dict[str, ExportFormat] = {}
        self._plugin = "<unknown>"

    def bound_to(self, plugin: str) -> Registry:
        """This registry, attributing what follows to ``plugin``."""
        self._plugin = plugin
        return self

    def add_command(self, spec: CommandSpec) -> None:
        """Declare a command (see :class:`~essaim.model.commands.CommandSpec`).

        Participant commands are allowed in the phases whose type lists them
        (``add_phase_type(commands=...)``), or in every running phase with
        ``every_phase=True``; facilitator commands at any time.
        """
        if not isinstance(spec, CommandSpec):
            raise PluginError(f"plugin {self._plugin!r}: add_command takes a CommandSpec, not {type(spec).__name__}")
        try:
            self.commands.add(replace(spec, plugin=self._plugin))
        except ValueError as exc:
            raise PluginError(f"plugin {self._plugin!r}: {exc}; rename one, or disable one of the plugins") from None

    def add_phase_type(
        self,
        name: str,
        *,
        family: str | None,
        default_strategy: str = "",
        commands: frozenset[str] | set[str] | tuple[str, ...] = (),
        description: str = "",
    ) -> None:
        """Declare a phase type.

        ``family`` is the strategy family the phase uses (None for a phase that
        only shows something, such as results); ``commands`` are the
        participant commands it allows (declared ones, see :meth:`add_command`;
        those allowed in every phase need not be listed).
        """
        if name in self.phase_types:
            other = self.phase_types[name].plugin
            raise PluginError(
                f"plugin {self._plugin!r} registers phase type {name!r}, already registered by "
                f"plugin {other!r}; rename one, or disable one of the plugins"
            )
        if family is not None and family not in FAMILIES:
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r} has unknown family {family!r}; "
                f"expected one of {list(FAMILIES)} or None"
            )
        unknown = set(commands) - self.commands.participant
        if unknown:
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r} allows unknown commands {sorted(unknown)}; "
                f"expected some of {sorted(self.commands.participant - self.commands.every_phase)} "
                "(declare a new one with registry.add_command in essaim_register_commands)"
            )
        if family is not None and not default_strategy:
            raise PluginError(f"plugin {self._plugin!r}: phase type {name!r} needs a default_strategy")
        self.phase_types[name] = PhaseType(
            name, family, default_strategy, frozenset(commands), description, self._plugin
        )

    def add_strategy(
        self, family: str, name: str, *, description: str = "",
        settings: Mapping[str, Field | str] | Fields | None = None,
    ) -> None:
        """Declare a strategy and every setting it reads.

        ``settings`` maps each setting to its shape (an
        :mod:`essaim.model.schema` field with its type, allowed values or
        range, default and description): a campaign whose template gives a
        setting the strategy does not declare, or a value that does not fit,
        is refused when it is created, with a TemplateError naming the file
        and key. A plain string only describes a setting (any value is
        accepted). Left out, the settings are not checked at all.
        """
        if family not in FAMILIES or family == "export":
            raise PluginError(
                f"plugin {self._plugin!r}: strategy {name!r} has unknown family {family!r}; "
                f"expected one of {[f for f in FAMILIES if f != 'export']}"
            )
        key = (family, name)
        if key in self.strategies:
            other = self.strategies[key].plugin
            raise PluginError(
                f"plugin {self._plugin!r} registers {family} strategy {name!r}, already registered by "
                f"plugin {other!r}; rename one, or disable one of the plugins"
            )
        self.strategies[key] = StrategyInfo(family, name, description, self._plugin, self._settings(name, settings))

    def _settings(self, strategy: str, settings: Mapping[str, Field | str] | Fields | None) -> Fields | None:
        if settings is None:
            return None
        if isinstance(settings, Fields):
            return Fields(dict(settings), closed=True)
        fields: dict[str, Field] = {}
        for key, value in settings.items():
            if isinstance(value, str):
                value = Anything(description=value)
            if not isinstance(key, str) or not isinstance(value, Field):
                raise PluginError(
                    f"plugin {self._plugin!r}: strategy {strategy!r} declares setting {key!r} as "
                    f"{type(value).__name__}; use a field of essaim.model.schema (Integer, Choice, ...)"
                )
            fields[key] = value
        return Fields(fields, closed=True)

    def add_export_format(self, name: str, *, media_type: str, description: str = "") -> None:
        """Declare an export format rendered by this plugin's ``essaim_results_export``."""
        if name in self.export_formats:
            other = self.export_formats[name].plugin
            raise PluginError(
                f"plugin {self._plugin!r} registers export format {name!r}, already registered by "
                f"plugin {other!r}"
            )
        self.export_formats[name] = ExportFormat(name, media_type, description, self._plugin)

    # -- lookups -----------------------------------------------------------------

    def available(self, family: str) -> list[str]:
        if family == "export":
            return sorted(self.export_formats)
        return sorted(name for fam, name in self.strategies if fam == family)

    def require_strategy(self, family: str, name: str, *, source: str | None = None, key: str | None = None) -> StrategyInfo:
        info = self.strategies.get((family, name))
        if info is None:
            raise TemplateError(
                f"unknown {family} strategy {name!r}; available: {self.available(family)}",
                source=source, key=key,
            )
        return info

    def check_template(self, template: CampaignTemplate, *, source: str | None = None) -> CampaignTemplate:
        """Resolve default strategies and check every name, and every
        strategy's settings, against what the plugins declared (what
        :meth:`CampaignTemplate.check` asks for).

        Returns the template with each phase's strategy filled in.
        """
        phases = []
        for i, ph in enumerate(template.phases):
            ptype = self.phase_types.get(ph.type)
            if ptype is None:
                raise TemplateError(
                    f"unknown phase type {ph.type!r}; available: {sorted(self.phase_types)}",
                    source=source, key=f"phase[{i}].type",
                )
            strategy = ph.strategy or ptype.default_strategy
            if ptype.family is not None:
                info = self.require_strategy(ptype.family, strategy, source=source, key=f"phase[{i}].strategy")
                info.check_settings(ph.settings, source=source, key=f"phase[{i}].settings")
            phases.append(
                PhaseSpec(ph.type, ph.title, ph.duration, strategy, ph.settings, ph.auto_advance)
            )
        for section, choice in (("moderation", template.moderation), ("results", template.results)):
            info = self.require_strategy(section, choice.name, source=source, key=f"{section}.strategy")
            info.check_settings(choice.settings, source=source, key=f"{section}.settings")
        return replace(template, phases=tuple(phases))
