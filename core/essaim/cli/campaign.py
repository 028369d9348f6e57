"""``essaim campaign new|list|show``: campaigns in the data directory's store.

The server keeps its campaigns in memory while it runs: create campaigns
before starting it (or through its facilitator API), not beside a running
server on the same data directory.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
import trio

from essaim.cli.options import add_data_option, find_campaign, open_cli_engine
from essaim.cli.templates import builtin_templates, resolve_template
from essaim.engine import Engine
from essaim.model.state import CampaignState

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("campaign", help="create, list and show campaigns")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    new = actions.add_parser(
        "new", help="create a campaign from a template; prints its join code and facilitator token",
        description="Create a campaign in the data directory's store. A server already running on that "
        "directory sees it only after a restart: while it runs, create campaigns through its facilitator API.",
    )
    new.add_argument("template", metavar="TEMPLATE",
                     help=f"a TOML file, or a built-in template ({', '.join(sorted(builtin_templates()))})")
    add_data_option(new)
    new.add_argument("--json", action="store_true", help="print the result as JSON")

    listing = actions.add_parser("list", help="list the campaigns in the store")
    add_data_option(listing)
    listing.add_argument("--json", action="store_true", help="print the list as JSON")

    show = actions.add_parser("show", help="show one campaign: phases, strategies, counts")
    show.add_argument("campaign", metavar="CAMPAIGN", help="campaign id or join code")
    add_data_option(show)
    show.add_argument("--json", action="store_true", help="print the details as JSON")

    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    action = {"new": _new, "list": _list, "show": _show}[args.action]
    trio.run(action, args)
    return 0


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(text + "\n")


async def _new(args: argparse.Namespace) -> None:
    template, source = resolve_template(args.template)
    async with open_cli_engine(args, create=True) as engine:
        created = await engine.create_campaign(template, source=source)
    data = {
        "campaign_id": created.campaign_id,
        "code": created.code,
        "facilitator_token": created.facilitator_token,
        "title": template.title,
    }
    _emit(args, data, "\n".join([
        f"Created campaign {created.campaign_id}: {template.title}",
        f"  join code:         {created.code}",
        f"  facilitator token: {created.facilitator_token}",
        "  (the token is shown only now: keep it secret, it lets its holder run the campaign)",
    ]))


def summary(state: CampaignState, engine: Engine) -> dict[str, Any]:
    """What a list shows about a campaign."""
    template = state.template
    assert template is not None
    phase = state.phase
    return {
        "campaign_id": state.campaign_id,
        "code": state.code,
        "title": template.title,
        "status": state.status,
        "phase": phase.title if phase is not None else None,
        "phase_index": state.phase_index,
        "participants": state.counters.get("participants", 0),
        "cards": state.counters.get("cards", 0),
    }


async def _list(args: argparse.Namespace) -> None:
    async with open_cli_engine(args) as engine:
        rows = [summary(engine.state(cid), engine) for cid in engine.campaign_ids()]
    rows.sort(key=lambda r: (r["title"], r["campaign_id"]))
    if not rows:
        _emit(args, rows, "No campaigns yet; create one with `essaim campaign new demo`.")
        return
    lines = [f"{'ID':<14}{'CODE':<8}{'STATUS':<10}{'PHASE':<14}{'PEOPLE':>7}{'CARDS':>7}  TITLE"]
    for r in rows:
        lines.append(
            f"{r['campaign_id']:<14}{r['code']:<8}{r['status']:<10}{(r['phase'] or '-')[:13]:<14}"
            f"{r['participants']:>7}{r['cards']:>7}  {r['title']}"
        )
    _emit(args, rows, "\n".join(lines))


async def _show(args: argparse.Namespace) -> None:
    async with open_cli_engine(args) as engine:
        campaign_id = find_campaign(engine, args.campaign)
        state = engine.state(campaign_id)
        template = state.template
        assert template is not None
        data = summary(state, engine)
        data["anonymity"] = template.anonymity
        data["counters"] = dict(state.counters)
        data["phases"] = [
            {"index": i, "type": p.type, "title": p.title, "duration": p.duration, "strategy": p.strategy,
             "auto_advance": p.auto_advance}
            for i, p in enumerate(template.phases)
        ]
        data["moderation"] = template.moderation.name
        data["results"] = template.results.name
        data["profile"] = [a.key for a in template.profile]
    lines = [
        f"{data['title']}",
        f"  id {campaign_id}, join code {data['code']}, {data['anonymity']}, status {data['status']}",
        f"  moderation: {data['moderation']}; results: {data['results']}; "
        f"profile: {', '.join(data['profile']) or '-'}",
        "  phases:",
    ]
    for p in data["phases"]:
        marker = "->" if p["index"] == state.phase_index and state.status != "finished" else "  "
        strategy = f", strategy {p['strategy']}" if p["strategy"] else ""
        lines.append(f"   {marker} {p['index'] + 1}. {p['title']} ({p['type']}{strategy}, {p['duration']:g} s)")
    lines.append("  counts: " + ", ".join(f"{k} {v}" for k, v in data["counters"].items()))
    _emit(args, data, "\n".join(lines))
