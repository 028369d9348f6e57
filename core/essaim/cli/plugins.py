"""``essaim plugins``: what is loaded, which hooks each plugin implements,
and the phase types, strategies and export formats they provide."""

from __future__ import annotations

import argparse
from typing import Any

from essaim.cli.options import load_plugins
from essaim.plugin import PluginHost
from essaim.plugin.registry import FAMILIES, Registry

__all__ = ["register", "run", "describe_plugins"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plugins", help="list loaded plugins, their hooks, phase types and strategies by family"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(describe_plugins(load_plugins(args)))
    return 0


def describe_plugins(host: PluginHost) -> str:
    registry: Registry = host.registry
    names = host.plugin_names()
    lines = [f"Plugins ({len(names)}), in registration order:"]
    for name in names:
        lines.append(f"  {name}")
        hooks = host.implemented_hooks(name)
        lines.append("      hooks: " + (", ".join(hooks) if hooks else "-"))
    lines.append("")
    lines.append("Phase types:")
    for ptype in registry.phase_types.values():
        family = f"{ptype.family} (default {ptype.default_strategy})" if ptype.family else "no strategy"
        lines.append(f"  {ptype.name:<12} {family}; from {ptype.plugin}")
        if ptype.description:
            lines.append(f"      {ptype.description}")
        if ptype.family is None and ptype.commands | ptype.facilitator_commands:
            lines.append("      commands: " + ", ".join(sorted(ptype.commands | ptype.facilitator_commands)))
        if ptype.events:
            lines.append("      events: " + ", ".join(f"{ptype.name}:{e}" for e in ptype.events))
        for setting, field in ptype.settings or ():
            lines.append(f"      - {setting}: {field.summary()}")
        if ptype.web is not None:
            lines.append(f"      screen: {ptype.web.screen or '-'}; panel: {ptype.web.panel or '-'}")
    lines.append("")
    lines.append("Strategies by family:")
    for family in FAMILIES:
        if family == "export":
            continue
        lines.append(f"  {family}:")
        for name in registry.available(family):
            info = registry.strategies[(family, name)]
            lines.append(f"    {name:<20} from {info.plugin}")
            if info.description:
                lines.append(f"        {info.description}")
            if info.settings is None:
                lines.append("        (settings not declared: not checked)")
            for setting, field in info.settings or ():
                lines.append(f"        - {setting}: {field.summary()}")
        if not registry.available(family):
            lines.append("    (none)")
    lines.append("")
    lines.append("Export formats:")
    for fmt in registry.export_formats.values():
        lines.append(f"  {fmt.name:<12} {fmt.media_type}; from {fmt.plugin}")
        if fmt.description:
            lines.append(f"      {fmt.description}")
    return "\n".join(lines)
