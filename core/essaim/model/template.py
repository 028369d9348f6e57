"""Campaign templates: the TOML a facilitator writes to describe a campaign.

A template is parsed into a :class:`CampaignTemplate` (plain data, checked for
shape here) and then checked against the loaded plugins
(:meth:`CampaignTemplate.check`), so an unknown phase type or strategy fails at
campaign creation with the list of what is available. Every error names the
file, the key, what was found and what is expected.

Example::

    [campaign]
    title = "How do we run our projects?"
    anonymity = "anonymous"

    [[profile]]
    key = "site"
    label = "Your site"
    choices = ["North", "South"]

    [[phase]]
    type = "collect"
    duration = "8m"
    [phase.settings]
    prompts = [{id = "p1", text = "What slows your projects down?"}]

    [translations.fr]   # what phones set to French show instead
    title = "Comment menons-nous nos projets ?"
    phases = ["Collecte"]
    prompts = {p1 = "Qu'est-ce qui ralentit vos projets ?"}
    profile.site = {label = "Votre site", choices = {North = "Nord", South = "Sud"}}
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, overload

from essaim.errors import TemplateError

__all__ = ["CampaignTemplate", "PhaseSpec", "ProfileAttribute", "StrategyChoice", "TemplateChecker", "parse_duration",
           "TEMPLATE_KEYS", "TRANSLATION_KEYS"]

Anonymity = Literal["anonymous", "pseudonymous"]
ANONYMITY_MODES = ("anonymous", "pseudonymous")

#: Longest phase a template may ask for. Campaigns are live sessions; a typo
#: such as "30h" for "30m" should fail loudly rather than run for a day.
MAX_PHASE_SECONDS = 4 * 3600

#: Every key a template may have, by section: anything else is refused (a
#: typo such as ``titel`` or ``auto_advanse`` fails loudly instead of being
#: ignored). docs/examples/complete-template.toml uses every one of them.
TEMPLATE_KEYS: dict[str, tuple[str, ...]] = {
    "campaign": ("title", "anonymity", "language", "min_segment_size"),
    "profile": ("key", "label", "choices", "required"),
    "phase": ("type", "title", "duration", "strategy", "settings", "auto_advance"),
    "moderation": ("strategy", "settings"),
    "results": ("strategy", "settings"),
}

#: What ``[translations.<language>]`` may translate: the campaign's title, the
#: phases' titles (a list in the order of the [[phase]] tables), the prompts
#: (by id) and the profile questions (``profile.<key>`` with a ``label`` and
#: ``choices``, a table from each choice to its translation). Answers keep
#: the template's own choice, so segments are the same in every language.
TRANSLATION_KEYS = ("title", "phases", "prompts", "profile")
#: A language tag as browsers send it: "fr", "pt-BR".
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_duration(value: Any, *, key: str, source: str | None = None) -> float:
    """Seconds from ``480``, ``"480s"``, ``"8m"`` or ``"1h"``."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
    else:
        raise TemplateError(
            f"duration {value!r} is not understood; expected seconds (480) or a string like '8m', '90s', '1h'",
            source=source, key=key,
        )
    if not 0 < seconds <= MAX_PHASE_SECONDS:
        raise TemplateError(
            f"duration {seconds:g}s is out of range; expected more than 0 and at most {MAX_PHASE_SECONDS}s",
            source=source, key=key,
        )
    return seconds


@dataclass(frozen=True, slots=True)
class ProfileAttribute:
    """A profile question asked at join (role, site, team...)."""

    key: str
    label: str
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class StrategyChoice:
    """The strategy a campaign uses for one family, with its settings."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    type: str
    title: str
    duration: float
    strategy: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    auto_advance: bool = True


class TemplateChecker(Protocol):
    """What checks a template against the loaded plugins: the plugin registry."""

    def check_template(self, template: CampaignTemplate, *, source: str | None = None) -> CampaignTemplate: ...


@dataclass(frozen=True, slots=True)
class CampaignTemplate:
    title: str
    phases: tuple[PhaseSpec, ...]
    profile: tuple[ProfileAttribute, ...] = ()
    anonymity: Anonymity = "anonymous"
    language: str = "en"
    min_segment_size: int = 5
    moderation: StrategyChoice = field(default_factory=lambda: StrategyChoice("jury"))
    results: StrategyChoice = field(default_factory=lambda: StrategyChoice("opportunity_sheets"))
    #: language -> the campaign's texts in it (see TRANSLATION_KEYS), checked against the template
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- parsing -----------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> CampaignTemplate:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TemplateError(f"cannot read the template: {exc.strerror}", source=str(path)) from exc
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str | None = None) -> CampaignTemplate:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(f"invalid TOML: {exc}", source=source) from exc
        return cls.from_toml(data, source=source)

    @classmethod
    def from_toml(cls, data: dict[str, Any], *, source: str | None = None) -> CampaignTemplate:
        r = _Reader(source)
        unknown = set(data) - set(TEMPLATE_KEYS) - {"translations"}
        if unknown:
            raise TemplateError(
                f"unknown section(s) {sorted(unknown)}; expected campaign, profile, phase, moderation, results, "
                "translations",
                source=source,
            )
        camp = r.table(data, "campaign", required=True)
        r.known_keys(camp, "campaign")
        title = r.string(camp, "title", "campaign.title", required=True, max_len=200)
        anonymity = r.string(camp, "anonymity", "campaign.anonymity") or "anonymous"
        if anonymity not in ANONYMITY_MODES:
            raise TemplateError(
                f"{anonymity!r} is not an anonymity mode; expected one of {list(ANONYMITY_MODES)}",
                source=source, key="campaign.anonymity",
            )
        language = r.string(camp, "language", "campaign.language") or "en"
        min_seg = camp.get("min_segment_size", 5)
        if not isinstance(min_seg, int) or isinstance(min_seg, bool) or min_seg < 1:
            raise TemplateError(
                f"{min_seg!r} is not a valid minimum segment size; expected a whole number >= 1",
                source=source, key="campaign.min_segment_size",
            )

        profile = []
        seen_keys: set[str] = set()
        for i, attr in enumerate(r.array(data, "profile")):
            key = f"profile[{i}]"
            r.known_keys(attr, "profile", key)
            akey = r.string(attr, "key", f"{key}.key", required=True, max_len=40)
            if akey in seen_keys:
                raise TemplateError(f"profile key {akey!r} is defined twice", source=source, key=f"{key}.key")
            seen_keys.add(akey)
            choices = attr.get("choices", [])
            if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                raise TemplateError("expected a list of strings", source=source, key=f"{key}.choices")
            profile.append(
                ProfileAttribute(
                    key=akey,
                    label=r.string(attr, "label", f"{key}.label") or akey,
                    choices=tuple(choices),
                    required=bool(attr.get("required", False)),
                )
            )

        phases = []
        raw_phases = r.array(data, "phase")
        if not raw_phases:
            raise TemplateError("a campaign needs at least one [[phase]]", source=source, key="phase")
        for i, ph in enumerate(raw_phases):
            key = f"phase[{i}]"
            r.known_keys(ph, "phase", key)
            ptype = r.string(ph, "type", f"{key}.type", required=True)
            settings = ph.get("settings", {})
            if not isinstance(settings, dict):
                raise TemplateError("expected a table", source=source, key=f"{key}.settings")
            phases.append(
                PhaseSpec(
                    type=ptype,
                    title=r.string(ph, "title", f"{key}.title") or ptype.capitalize(),
                    duration=parse_duration(ph.get("duration", "5m"), key=f"{key}.duration", source=source),
                    strategy=r.string(ph, "strategy", f"{key}.strategy"),
                    settings=settings,
                    auto_advance=bool(ph.get("auto_advance", True)),
                )
            )

        def choice(section: str, default: str) -> StrategyChoice:
            table = r.table(data, section)
            r.known_keys(table, section)
            name = r.string(table, "strategy", f"{section}.strategy") or default
            settings = table.get("settings", {})
            if not isinstance(settings, dict):
                raise TemplateError("expected a table", source=source, key=f"{section}.settings")
            return StrategyChoice(name, settings)

        return cls(
            title=title,
            phases=tuple(phases),
            profile=tuple(profile),
            anonymity=anonymity,  # type: ignore[arg-type]
            language=language,
            min_segment_size=min_seg,
            moderation=choice("moderation", "jury"),
            results=choice("results", "opportunity_sheets"),
            translations=_Translations(r, phases, profile).read(r.table(data, "translations")),
        )

    # -- checking against plugins ------------------------------------------------

    def check(self, registry: TemplateChecker, *, source: str | None = None) -> CampaignTemplate:
        """Resolve default strategies and check every name, and every
        strategy's settings, against what the plugins declare.

        Returns the template with each phase's strategy filled in. The plugin
        registry does it (:meth:`essaim.plugin.registry.Registry.check_template`):
        it knows what the plugins declared, and the model stays below it.
        """
        return registry.check_template(self, source=source)

    # -- storage form ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "anonymity": self.anonymity,
            "language": self.language,
            "min_segment_size": self.min_segment_size,
            "profile": [
                {"key": a.key, "label": a.label, "choices": list(a.choices), "required": a.required}
                for a in self.profile
            ],
            "phases": [
                {"type": p.type, "title": p.title, "duration": p.duration, "strategy": p.strategy,
                 "settings": p.settings, "auto_advance": p.auto_advance}
                for p in self.phases
            ],
            "moderation": {"strategy": self.moderation.name, "settings": self.moderation.settings},
            "results": {"strategy": self.results.name, "settings": self.results.settings},
            "translations": self.translations,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CampaignTemplate:
        return cls(
            title=d["title"],
            anonymity=d["anonymity"],
            language=d["language"],
            min_segment_size=d["min_segment_size"],
            profile=tuple(
                ProfileAttribute(a["key"], a["label"], tuple(a["choices"]), a["required"]) for a in d["profile"]
            ),
            phases=tuple(
                PhaseSpec(p["type"], p["title"], p["duration"], p["strategy"], p["settings"], p["auto_advance"])
                for p in d["phases"]
            ),
            moderation=StrategyChoice(d["moderation"]["strategy"], d["moderation"]["settings"]),
            results=StrategyChoice(d["results"]["strategy"], d["results"]["settings"]),
            # Campaigns stored before templates had translations have none.
            translations=d.get("translations", {}),
        )


class _Reader:
    """Typed access to TOML values with errors that name the key."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def table(self, data: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            if required:
                raise TemplateError(f"missing section [{key}]", source=self.source, key=key)
            return {}
        if not isinstance(value, dict):
            raise TemplateError(f"expected a table, found {type(value).__name__}", source=self.source, key=key)
        return value

    def known_keys(self, table: dict[str, Any], section: str, key: str | None = None) -> None:
        unknown = sorted(set(table) - set(TEMPLATE_KEYS[section]))
        if unknown:
            raise TemplateError(
                f"unknown key(s) {unknown} in [{'[' + section + ']' if section in ('profile', 'phase') else section}]; "
                f"expected {list(TEMPLATE_KEYS[section])}",
                source=self.source, key=f"{key or section}.{unknown[0]}",
            )

    def array(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise TemplateError(f"expected an array of tables ([[{key}]])", source=self.source, key=key)
        return value

    @overload
    def string(
        self, data: dict[str, Any], name: str, key: str, *, required: Literal[True], max_len: int = 2000
    ) -> str: ...

    @overload
    def string(
        self, data: dict[str, Any], name: str, key: str, *, required: bool = False, max_len: int = 2000
    ) -> str | None: ...

    def string(
        self, data: dict[str, Any], name: str, key: str, *, required: bool = False, max_len: int = 2000
    ) -> str | None:
        """The stripped string at ``name``; None when absent, unless ``required``
        (then absence is an error, so the value is always a ``str``)."""
        value = data.get(name)
        if value is None:
            if required:
                raise TemplateError("missing; expected a string", source=self.source, key=key)
            return None
        if not isinstance(value, str) or not value.strip():
            raise TemplateError(f"{value!r} is not a non-empty string", source=self.source, key=key)
        if len(value) > max_len:
            raise TemplateError(f"longer than {max_len} characters", source=self.source, key=key)
        return value.strip()


class _Translations:
    """Reads ``[translations.<language>]`` and checks it against the template:
    one title per phase, prompts and profile questions that exist, choices
    that the question offers. A translation that matches nothing would
    silently show the original, so it is an error."""

    def __init__(self, reader: _Reader, phases: list[PhaseSpec], profile: list[ProfileAttribute]) -> None:
        self.r = reader
        self.phases = phases
        self.profile = {a.key: a for a in profile}
        self.prompt_ids = [str(p.get("id")) for ph in phases for p in ph.settings.get("prompts", ())
                           if isinstance(p, dict)]

    def error(self, message: str, key: str) -> TemplateError:
        return TemplateError(message, source=self.r.source, key=key)

    def read(self, table: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {lang: self.language(lang, texts) for lang, texts in table.items()}

    def language(self, lang: str, texts: Any) -> dict[str, Any]:
        key = f"translations.{lang}"
        if not _LANGUAGE.match(lang):
            raise self.error(f"{lang!r} is not a language tag; expected e.g. 'fr' or 'pt-BR'", key)
        if not isinstance(texts, dict):
            raise self.error("expected a table", key)
        unknown = sorted(set(texts) - set(TRANSLATION_KEYS))
        if unknown:
            raise self.error(f"unknown key(s) {unknown}; expected {list(TRANSLATION_KEYS)}", f"{key}.{unknown[0]}")
        out: dict[str, Any] = {}
        if "title" in texts:
            out["title"] = self.r.string(texts, "title", f"{key}.title", required=True, max_len=200)
        if "phases" in texts:
            out["phases"] = self.phase_titles(texts["phases"], f"{key}.phases")
        if "prompts" in texts:
            out["prompts"] = self.prompts(texts["prompts"], f"{key}.prompts")
        if "profile" in texts:
            out["profile"] = self.questions(texts["profile"], f"{key}.profile")
        return out

    def phase_titles(self, titles: Any, key: str) -> list[str]:
        if not isinstance(titles, list) or len(titles) != len(self.phases) or not all(
                isinstance(t, str) and t.strip() for t in titles):
            raise self.error(f"expected a list of {len(self.phases)} phase titles, in the order of the [[phase]] "
                             "tables", key)
        return [t.strip() for t in titles]

    def prompts(self, prompts: Any, key: str) -> dict[str, str]:
        if not isinstance(prompts, dict):
            raise self.error("expected a table from prompt id to its text", key)
        for pid in prompts:
            if pid not in self.prompt_ids:
                raise self.error(f"no prompt has the id {pid!r}; the template's prompts are {self.prompt_ids}",
                                 f"{key}.{pid}")
        return {pid: self.r.string(prompts, pid, f"{key}.{pid}", required=True) for pid in prompts}

    def questions(self, questions: Any, key: str) -> dict[str, dict[str, Any]]:
        if not isinstance(questions, dict):
            raise self.error("expected a table from profile key to its label and choices", key)
        out = {}
        for akey, texts in questions.items():
            attr = self.profile.get(akey)
            if attr is None:
                raise self.error(f"no profile question has the key {akey!r}; expected one of {list(self.profile)}",
                                 f"{key}.{akey}")
            if not isinstance(texts, dict) or set(texts) - {"label", "choices"}:
                raise self.error("expected a table with 'label' and 'choices'", f"{key}.{akey}")
            own: dict[str, Any] = {}
            if "label" in texts:
                own["label"] = self.r.string(texts, "label", f"{key}.{akey}.label", required=True, max_len=200)
            choices = texts.get("choices", {})
            if not isinstance(choices, dict):
                raise self.error("expected a table from each choice to its translation", f"{key}.{akey}.choices")
            for choice in choices:
                if choice not in attr.choices:
                    raise self.error(f"{choice!r} is not a choice of {akey!r}; its choices are {list(attr.choices)}",
                                     f"{key}.{akey}.choices.{choice}")
            if choices:
                own["choices"] = {c: self.r.string(choices, c, f"{key}.{akey}.choices.{c}", required=True)
                                  for c in choices}
            out[akey] = own
        return out
