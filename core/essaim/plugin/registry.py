"""The registry that registration hooks fill in.

Each plugin's registration hook gets a view of the registry bound to that
plugin's name, so a duplicate names both plugins involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from essaim.errors import PluginError, TemplateError
from essaim.model.commands import CommandSpec, CommandTable
from essaim.model.phase_state import NAME_PATTERN, PhaseState
from essaim.model.schema import MISSING, Anything, Field, Fields, Invalid
from essaim.model.template import CampaignTemplate, PhaseSpec
from essaim.plugin.phase_web import PhaseWeb

if TYPE_CHECKING:
    from essaim.model.state import CampaignState

__all__ = ["Registry", "PhaseType", "PhaseWeb", "StrategyInfo", "ExportFormat", "FAMILIES"]

#: Strategy families. "export" strategies are export formats.
FAMILIES = ("collection", "structuring", "moderation", "evaluation", "results", "export")

_NO_EVENTS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PhaseType:
    """A registered phase type (see :meth:`Registry.add_phase_type`)."""

    name: str
    family: str | None
    default_strategy: str
    #: participant commands allowed while it runs
    commands: frozenset[str]
    description: str
    plugin: str
    #: facilitator commands that only make sense in it (refused in other phases)
    facilitator_commands: frozenset[str] = frozenset()
    #: the class of the durable state it keeps in each campaign, or None
    state: type[PhaseState] | None = None
    #: its event names (stored as ``"<name>:<event>"``) -> what each records
    events: Mapping[str, str] = field(default_factory=lambda: _NO_EVENTS)
    #: the settings it reads from ``[phase.settings]`` (phase types without a family)
    settings: Fields | None = None
    #: its phone screen and console panel (ES modules in the plugin's package)
    web: PhaseWeb | None = None
    #: participants' frames carry the ranked results while it runs
    shows_results: bool = False

    def check_settings(self, settings: Any, *, source: str | None, key: str) -> None:
        """For a phase type without a family: its ``[phase.settings]`` fit
        what it declared (TemplateError otherwise)."""
        check_declared_settings(self.settings, settings, what=f"phase type {self.name!r}", source=source, key=key)


def check_declared_settings(declared_fields: Fields | None, settings: Any, *, what: str, source: str | None,
                            key: str) -> None:
    """Raise TemplateError, naming ``source``, the setting's key (``key`` is
    the settings table's, e.g. ``phase[1].settings``) and what is allowed,
    unless ``settings`` fit the declaration (None: anything goes)."""
    if declared_fields is None:
        return
    declared = dict(declared_fields)
    unknown = [k for k in settings if k not in declared] if isinstance(settings, Mapping) else []
    if unknown:
        allowed = "; ".join(f"{k}: {f.describe()}" for k, f in declared.items()) or "none"
        raise TemplateError(
            f"{what} has no setting {unknown[0]!r}; its settings are: {allowed}",
            source=source, key=f"{key}.{unknown[0]}",
        )
    try:
        declared_fields.check(settings)
    except Invalid as error:
        found = "" if error.found is MISSING else f"; found {error.found!r}"
        raise TemplateError(f"{what}: {error.expected}{found}",
                            source=source, key=f"{key}.{error.name}" if error.name else key) from None


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
        check_declared_settings(self.settings, settings, what=f"{self.family} strategy {self.name!r}",
                                source=source, key=key)


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
        #: phase type name -> the class of its durable state (what a campaign
        #: state needs to apply the events of plugin phase types)
        self.phase_states: dict[str, type[PhaseState]] = {}
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
        state: type[PhaseState] | None = None,
        events: Mapping[str, str] | None = None,
        settings: Mapping[str, Field | str] | Fields | None = None,
        web: PhaseWeb | None = None,
        shows_results: bool = False,
    ) -> None:
        """Declare a phase type.

        ``family`` is the strategy family the phase uses (None for a phase
        that needs no strategy: results, or a plugin's own kind of phase);
        ``commands`` are the commands it allows (declared ones, see
        :meth:`add_command`): participant commands allowed while it runs
        (those allowed in every phase need not be listed), and facilitator
        commands of the plugin's that only make sense in it (refused in
        other phases).

        A phase type of its own kind (docs/plugins.md, "Writing a new
        phase") also declares ``state``, the class of the durable state it
        keeps in each campaign (:class:`~essaim.model.phase_state.PhaseState`),
        and ``events``, the names of its events (stored as
        ``"<name>:<event>"``) with what each records; ``settings``, what it
        reads from ``[phase.settings]`` (checked when a campaign is
        created, as a strategy's); ``web``, its phone screen and console
        panel (:class:`~essaim.plugin.phase_web.PhaseWeb`); and
        ``shows_results``: participants get the ranked results while it runs.
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
        known = self.commands.participant | self.commands.facilitator
        unknown = set(commands) - known
        if unknown:
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r} allows unknown commands {sorted(unknown)}; "
                f"expected some of {sorted(self.commands.participant - self.commands.every_phase)} "
                "or the plugin's own (declare a new one with registry.add_command in essaim_register_commands)"
            )
        facilitator = frozenset(c for c in commands if c in self.commands.facilitator)
        borrowed = sorted(c for c in facilitator if self.commands.get(c).plugin != self._plugin)  # type: ignore[union-attr]
        if borrowed:
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r} lists facilitator commands {borrowed} of another "
                "plugin; a phase type lists only its own plugin's facilitator commands (the others work in "
                "every phase)"
            )
        if family is not None and not default_strategy:
            raise PluginError(f"plugin {self._plugin!r}: phase type {name!r} needs a default_strategy")
        if family is not None and settings is not None:
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r} uses the {family} family, whose strategies "
                "declare the settings; drop settings= (it is for phase types without a family)"
            )
        declared_events = self._events(name, state, events)
        if web is not None and not isinstance(web, PhaseWeb):
            raise PluginError(f"plugin {self._plugin!r}: phase type {name!r}: web= takes a PhaseWeb, "
                              f"not {type(web).__name__}")
        if web is not None:
            web.check(self._plugin, name)
        self.phase_types[name] = PhaseType(
            name, family, default_strategy, frozenset(commands) - facilitator, description, self._plugin,
            facilitator_commands=facilitator, state=state, events=declared_events,
            settings=self._settings(f"phase type {name!r}", settings), web=web, shows_results=shows_results,
        )
        if state is not None:
            self.phase_states[name] = state

    def _events(self, name: str, state: type[PhaseState] | None, events: Mapping[str, str] | None) -> Mapping[str, str]:
        """Check a phase type's state class and event names."""
        if state is None:
            if events:
                raise PluginError(f"plugin {self._plugin!r}: phase type {name!r} declares events but no state= "
                                  "class to apply them to")
            return _NO_EVENTS
        if not NAME_PATTERN.fullmatch(name):
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r} keeps a state, so its name is the namespace of its "
                f"events in the log: use lower-case letters, digits and '_' ({NAME_PATTERN.pattern})"
            )
        missing = [m for m in ("apply", "to_dict", "from_dict") if not callable(getattr(state, m, None))]
        if not isinstance(state, type) or missing:
            raise PluginError(
                f"plugin {self._plugin!r}: phase type {name!r}: state= takes a class with apply(event), to_dict() "
                f"and a classmethod from_dict(data) (essaim.model.phase_state.PhaseState); missing {missing}"
            )
        if not events:
            raise PluginError(f"plugin {self._plugin!r}: phase type {name!r} keeps a state but declares no events= "
                              "to change it: {event name: what it records}")
        bad = sorted(e for e in events if not isinstance(e, str) or not NAME_PATTERN.fullmatch(e))
        if bad:
            raise PluginError(f"plugin {self._plugin!r}: phase type {name!r}: event names {bad} must match "
                              f"{NAME_PATTERN.pattern} (they are stored as '{name}:<event>')")
        return MappingProxyType({e: str(d) for e, d in events.items()})

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
        self.strategies[key] = StrategyInfo(family, name, description, self._plugin,
                                            self._settings(f"strategy {name!r}", settings))

    def _settings(self, what: str, settings: Mapping[str, Field | str] | Fields | None) -> Fields | None:
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
                    f"plugin {self._plugin!r}: {what} declares setting {key!r} as "
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

    def require_installed(self, state: CampaignState) -> None:
        """Every phase type of the campaign's template is installed here: a
        campaign made with a plugin's phase cannot be served without that
        plugin (PluginError naming what is missing otherwise)."""
        template = state.template
        missing = sorted({p.type for p in template.phases} - set(self.phase_types)) if template else []
        if missing:
            raise PluginError(
                f"campaign {state.campaign_id} ({state.code}) has phases of type(s) {missing}, which no installed "
                "plugin provides; install the plugin that provides them (`essaim plugins` lists what is installed) "
                "to load this campaign"
            )

    def namespaces_of(self, plugin: str) -> dict[str, PhaseType]:
        """The phase types with a state that ``plugin`` registered, by name: the
        namespaces its commands' events may use."""
        return {p.name: p for p in self.phase_types.values() if p.plugin == plugin and p.state is not None}

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
            else:
                ptype.check_settings(ph.settings, source=source, key=f"phase[{i}].settings")
            phases.append(
                PhaseSpec(ph.type, ph.title, ph.duration, strategy, ph.settings, ph.auto_advance)
            )
        for section, choice in (("moderation", template.moderation), ("results", template.results)):
            info = self.require_strategy(section, choice.name, source=source, key=f"{section}.strategy")
            info.check_settings(choice.settings, source=source, key=f"{section}.settings")
        return replace(template, phases=tuple(phases))
