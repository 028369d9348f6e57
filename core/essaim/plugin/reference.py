"""The hook reference, ``docs/hooks.md``, generated from the contract itself.

Everything in it comes from code: each hook's signature and docstring in
:mod:`essaim.plugin.hookspecs` (``When:``, ``Who implements:``,
``Blocking / thread:``, ``Args:``, ``Returns:``; shared arguments from
:data:`~essaim.plugin.hookspecs.ARGUMENTS`), the fields of the values hooks
receive and return (their ``#:`` comments in :mod:`essaim.model.types` and
:mod:`essaim.model.state`), and the built-in commands' declarations. So the
reference cannot drift from the code: ``tests/test_docs.py`` fails when
``docs/hooks.md`` differs from :func:`render`. Regenerate it with::

    python -m essaim.plugin.reference > docs/hooks.md
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from essaim.plugin import hookspecs

if TYPE_CHECKING:
    from essaim.model.commands import CommandSpec

__all__ = ["HookDoc", "hook_docs", "field_docs", "render", "DOCUMENTED_TYPES", "SECTIONS"]

#: Hook groups, in the order of a campaign: (title, name prefixes).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Registration", ("essaim_register_",)),
    ("Lifecycle", ("essaim_engine_", "essaim_campaign_", "essaim_phase_")),
    ("Collection", ("essaim_collection_",)),
    ("Structuring", ("essaim_structuring_",)),
    ("Moderation", ("essaim_moderation_",)),
    ("Evaluation", ("essaim_evaluation_",)),
    ("Results and exports", ("essaim_results_",)),
)

#: The values hooks receive and return, documented field by field.
DOCUMENTED_TYPES: tuple[tuple[str, str], ...] = (
    ("essaim.model.state", "CampaignState"),
    ("essaim.model.state", "Participant"),
    ("essaim.model.state", "Card"),
    ("essaim.model.state", "Hand"),
    ("essaim.model.state", "Placement"),
    ("essaim.model.state", "Item"),
    ("essaim.model.state", "Case"),
    ("essaim.model.state", "Judgment"),
    ("essaim.model.types", "Prompt"),
    ("essaim.model.types", "Suggestion"),
    ("essaim.model.types", "Screening"),
    ("essaim.model.types", "Deal"),
    ("essaim.model.types", "SortingInput"),
    ("essaim.model.types", "CardInfo"),
    ("essaim.model.types", "Structure"),
    ("essaim.model.types", "Theme"),
    ("essaim.model.types", "Idea"),
    ("essaim.model.types", "FlagOutcome"),
    ("essaim.model.types", "EvaluationTask"),
    ("essaim.model.types", "EvaluationInput"),
    ("essaim.model.types", "ItemScore"),
    ("essaim.model.types", "OpportunitySheet"),
    ("essaim.model.types", "Variant"),
    ("essaim.model.types", "Results"),
    ("essaim.model.types", "ExportFile"),
)

_LABELS = ("When", "Who implements", "Blocking / thread")


@dataclass
class HookDoc:
    """One hook's docstring, taken apart."""

    name: str
    signature: str
    summary: str
    labels: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    returns: str = ""
    version: str = ""
    #: Each argument's description: its own, else the shared one (None: undocumented).
    described: dict[str, str | None] = field(default_factory=dict)


def _signature(name: str, function: Callable[..., Any]) -> str:
    sig = inspect.signature(function)
    params = [f"{p.name}: {p.annotation}" for p in sig.parameters.values()]
    one_line = f"def {name}({', '.join(params)}) -> {sig.return_annotation}: ..."
    if len(one_line) <= 100:
        return one_line
    inner = "".join(f"    {p},\n" for p in params)
    return f"def {name}(\n{inner}) -> {sig.return_annotation}: ..."


def _parse(name: str, function: Callable[..., Any]) -> HookDoc:
    doc = HookDoc(name, _signature(name, function), "")
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    summary: list[str] = []
    section = "summary"
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        label = next((lab for lab in _LABELS if stripped.startswith(lab + ":")), None)
        if stripped.startswith(".. versionadded::"):
            doc.version = stripped.split("::", 1)[1].strip()
            section = "done"
        elif label is not None:
            section, current = "label", label
            doc.labels[label] = stripped[len(label) + 1:].strip()
        elif stripped in ("Args:", "Returns:"):
            section, current = stripped[:-1].lower(), None
        elif section == "summary":
            summary.append(line)
        elif section == "label" and stripped:
            doc.labels[current] += " " + stripped  # type: ignore[index]
        elif section == "args" and stripped:
            match = re.match(r"^(\w+): (.*)$", stripped)
            if match and line.startswith("    ") and not line.startswith("        "):
                current = match.group(1)
                doc.args[current] = match.group(2)
            elif current is not None:
                doc.args[current] += " " + stripped
        elif section == "returns" and stripped:
            doc.returns = f"{doc.returns} {stripped}".strip()
    doc.summary = "\n".join(summary).strip()
    for param in inspect.signature(function).parameters:
        doc.described[param] = doc.args.get(param) or hookspecs.ARGUMENTS.get(param)
    return doc


def hook_docs() -> list[HookDoc]:
    """Every hook of :mod:`essaim.plugin.hookspecs`, in source order."""
    hooks = [(name, value) for name, value in vars(hookspecs).items()
             if name.startswith("essaim_") and callable(value)]
    hooks.sort(key=lambda item: inspect.getsourcelines(item[1])[1])
    return [_parse(name, function) for name, function in hooks]


def field_docs(module_name: str, class_name: str) -> list[tuple[str, str, str | None]]:
    """``(field, type, description)`` for each field of a class: dataclass
    fields, or for a plain class the ``self.x`` its ``__init__`` sets, with
    the ``#:`` comment lines just above each (None when there are none)."""
    module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
    cls = getattr(module, class_name)
    source = inspect.getsource(cls)
    lines = source.splitlines()
    tree = ast.parse(source)
    node = tree.body[0]
    assert isinstance(node, ast.ClassDef)
    out: list[tuple[str, str, str | None]] = []

    def comment_above(lineno: int) -> str | None:
        found: list[str] = []
        i = lineno - 2
        while i >= 0 and lines[i].strip().startswith("#:"):
            found.insert(0, lines[i].strip()[2:].strip())
            i -= 1
        return " ".join(found) or None

    def walk() -> Iterator[tuple[str, str, int]]:
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                yield item.target.id, ast.unparse(item.annotation), item.lineno
        init = next((i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"), None)
        for stmt in init.body if init is not None else ():
            target = stmt.target if isinstance(stmt, ast.AnnAssign) else (
                stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None)
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                if isinstance(stmt, ast.AnnAssign):
                    annotation = ast.unparse(stmt.annotation)
                else:
                    annotation = type(getattr(cls("x"), target.attr)).__name__
                yield target.attr, annotation, stmt.lineno

    for name, annotation, lineno in walk():
        out.append((name, annotation, comment_above(lineno)))
    return out


def _table(rows: list[tuple[str, str, str]], header: tuple[str, str, str]) -> list[str]:
    out = [f"| {header[0]} | {header[1]} | {header[2]} |", "|---|---|---|"]
    for a, b, c in rows:
        out.append(f"| `{a}` | `{b.replace('|', chr(92) + '|')}` | {c.replace('|', '/')} |")
    return out


def _rst(text: str) -> str:
    """Sphinx roles as plain Markdown code."""
    text = re.sub(r":(?:class|func|mod|data|meth|attr):`~?([\w.]+)`", lambda m: f"`{m.group(1).split('.')[-1]}`"
                  if m.group(0).count("~") else f"`{m.group(1)}`", text)
    return text.replace("``", "`")


def _hook_section(doc: HookDoc) -> list[str]:
    out = [f"#### {doc.name}", "", "```python", doc.signature, "```", ""]
    out += [_rst(doc.summary), ""]
    for label in _LABELS:
        out.append(f"- **{label}:** {_rst(doc.labels.get(label, '(undocumented)'))}")
    out.append("")
    sig = inspect.signature(getattr(hookspecs, doc.name))
    rows = [(p, str(sig.parameters[p].annotation), _rst(d or "(undocumented)")) for p, d in doc.described.items()]
    out += _table(rows, ("argument", "type", "meaning"))
    out.append("")
    if sig.return_annotation != "None":
        out.append(f"**Returns** `{sig.return_annotation}`: {_rst(doc.returns or '(undocumented)')}")
        out.append("")
    if doc.version:
        out.append(f"*Since {doc.version}.*")
        out.append("")
    return out


def _core_commands() -> list[CommandSpec]:
    """The commands the core declares, as a plugin host without any other
    plugin registers them (essaim.engine.commands, loaded by name: the plugin
    layer names the engine's core plugin, it does not import it)."""
    from essaim.plugin._host import PluginHost

    return list(PluginHost.load(builtins=(), entry_points=False).registry.commands)


def _commands_section() -> list[str]:
    commands = _core_commands()
    out = ["## Commands", "",
           "Declared in `essaim.engine.commands` (a plugin declares its own the same way, with "
           "`essaim_register_commands`). Fields not listed are ignored; the engine checks these shapes "
           "before a command reaches the campaign. `engine.commands.json_schema()` gives them as JSON Schema.",
           ""]
    for sender, title in (("participant", "Participant commands (WebSocket)"),
                          ("facilitator", "Facilitator commands (HTTP API)"),
                          ("engine", "The engine's own commands (never accepted from outside)")):
        out += [f"### {title}", ""]
        for spec in commands:
            if spec.sender != sender:
                continue
            out.append(f"#### `{spec.name}`")
            out.append("")
            out.append(spec.description)
            out.append("")
            if len(spec.payload):
                rows = [(key, ("required " if f.required else "optional ") + type(f).__name__,
                         _rst(f.summary())) for key, f in spec.payload]
                out += _table(rows, ("field", "shape", "meaning"))
            else:
                out.append("No payload.")
            out.append("")
    return out


def _types_section() -> list[str]:
    out = ["## Values hooks receive and return", ""]
    for module_name, class_name in DOCUMENTED_TYPES:
        module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
        cls = getattr(module, class_name)
        out += [f"### {class_name}", "", f"`{module_name}.{class_name}`: {_rst(inspect.cleandoc(cls.__doc__ or ''))}", ""]
        rows = [(name, annotation, _rst(doc or "(undocumented)")) for name, annotation, doc in
                field_docs(module_name, class_name)]
        out += _table(rows, ("field", "type", "meaning"))
        out.append("")
    return out


def render() -> str:
    """The whole of ``docs/hooks.md``."""
    out = [
        "# Hook reference",
        "",
        "<!-- Generated by `python -m essaim.plugin.reference > docs/hooks.md` from essaim.plugin.hookspecs, "
        "essaim.model.types, essaim.model.state and essaim.engine.commands. Do not edit: tests/test_docs.py "
        "fails when this file is stale. -->",
        "",
        "Every hook Essaim calls, in the order of a campaign, with every argument and what to return; the "
        "commands participants and the facilitator send; and the fields of every value hooks receive and "
        "return. How plugins work, the rules for implementations, wrappers, caches and examples are in "
        "[plugins.md](plugins.md).",
        "",
    ]
    docs = hook_docs()
    for title, prefixes in SECTIONS:
        out += [f"## {title}", ""]
        for doc in docs:
            if doc.name.startswith(prefixes):
                out += _hook_section(doc)
    out += _commands_section()
    out += _types_section()
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
