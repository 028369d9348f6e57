"""The Pol.is CSV export set, from an ``agree_disagree`` campaign.

Pol.is "comments" are the statements voted on: here, the evaluated items
(ideas). Ids are integers as Pol.is tools expect: a comment id is the item's
position (its Essaim id is in the last column of comments.csv), a
participant id is the number in its opaque pid. Votes are 1 agree,
-1 disagree, 0 pass, as in Pol.is exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from essaim.model.state import CampaignState, Judgment
from essaim.model.types import ExportFile
from essaim.plugin.spreadsheet import csv_bytes

from essaim_builtins.evaluation.opinions import KIND, VOTES, group_counts, opinion_map

__all__ = ["snapshot", "render", "PolisInput"]

MEDIA = "text/csv"


@dataclass(frozen=True, slots=True)
class PolisInput:
    title: str
    items: tuple[tuple[str, str, str, float, bool], ...]  # iid, title, author, created, hidden
    judgments: tuple[Judgment, ...]
    commenters: int
    min_votes: int
    seed: str


def snapshot(state: CampaignState) -> PolisInput:
    """Copies taken on the trio thread; :func:`render` runs in a worker."""
    items = []
    for iid in sorted(state.items):
        item = state.items[iid]
        cards = [state.cards[c] for c in item.cards if c in state.cards]
        author = cards[0].author if cards else ""
        created = cards[0].created_at if cards else 0.0
        items.append((iid, item.title, author, created, bool(cards) and all(c.hidden for c in cards)))
    min_votes = 7
    if state.template is not None:
        for ph in state.template.phases:
            if ph.strategy == "agree_disagree":
                min_votes = int(ph.settings.get("min_votes", min_votes))
    return PolisInput(
        title=state.template.title if state.template else "",
        items=tuple(items),
        judgments=tuple(j for j in state.judgments if j.kind == KIND),
        commenters=len({c.author for c in state.cards.values()}),
        min_votes=min_votes,
        seed=f"{state.campaign_id}:{state.seq}",
    )


def _pid_number(pid: str) -> int:
    digits = "".join(ch for ch in pid if ch.isdigit())
    return int(digits) if digits else 0


def _when(ts: float) -> tuple[int, str]:
    return int(ts * 1000), datetime.fromtimestamp(ts, UTC).strftime("%a %b %d %Y %H:%M:%S GMT+0000")


#: CSV rows as Pol.is writes them: numbers and text side by side.
Rows = list[list[object]]


def render(data: PolisInput) -> list[ExportFile]:
    iids = [i[0] for i in data.items]
    number = {iid: n for n, iid in enumerate(iids)}
    m = opinion_map(iids, data.judgments, min_votes=data.min_votes, seed=data.seed)
    counts = group_counts(m)
    votes_by_item = {iid: [0, 0, 0] for iid in iids}  # agree, disagree, pass
    for j in data.judgments:
        if j.data["iid"] in votes_by_item:
            votes_by_item[j.data["iid"]][("agree", "disagree", "pass").index(j.data["vote"])] += 1
    voters = sorted({j.pid for j in data.judgments}, key=_pid_number)

    summary: Rows = [
        ["topic", data.title], ["url", ""], ["voters", len(voters)], ["voters-in-conv", len(m.group)],
        ["commenters", data.commenters], ["comments", len(iids)], ["groups", m.n_groups],
        ["conversation-description", ""],
    ]
    comments: Rows = [["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated",
                 "comment-body", "essaim-iid"]]
    for iid, title, author, created, hidden in data.items:
        ts, when = _when(created)
        a, d, _ = votes_by_item[iid]
        comments.append([ts, when, number[iid], _pid_number(author) if author else "", a, d,
                         -1 if hidden else 1, title, iid])
    votes: Rows = [["timestamp", "datetime", "comment-id", "voter-id", "vote"]]
    for j in sorted(data.judgments, key=lambda j: (j.at, _pid_number(j.pid), j.data["iid"])):
        if j.data["iid"] in number:
            ts, when = _when(j.at)
            votes.append([ts, when, number[j.data["iid"]], _pid_number(j.pid), VOTES[j.data["vote"]]])
    participant_votes: Rows = [["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree",
                          *range(len(iids))]]
    rows = {pid: i for i, pid in enumerate(m.voters)}
    for pid in voters:
        v = m.votes[rows[pid]]
        cells = ["" if np.isnan(x) else int(x) for x in v]
        participant_votes.append([
            _pid_number(pid), m.group.get(pid, ""), 0, int((~np.isnan(v)).sum()),
            int((v == 1).sum()), int((v == -1).sum()), *cells,
        ])
    letters = "abcdefghijklmnopqrstuvwxyz"
    groups = sorted(counts) if m.n_groups else []
    header: list[object] = ["comment-id", "comment", "total-votes", "total-agrees", "total-disagrees", "total-passes"]
    for g in groups:
        header += [f"group-{letters[g]}-{w}" for w in ("votes", "agrees", "disagrees", "passes")]
    comment_groups: Rows = [header]
    for iid, title, *_ in data.items:
        a, d, p = votes_by_item[iid]
        row: list[Any] = [number[iid], title, a + d + p, a, d, p]
        for g in groups:
            ga, gd, gs = (int(x) for x in counts[g][:, number[iid]])
            row += [gs, ga, gd, gs - ga - gd]
        comment_groups.append(row)
    return [
        ExportFile("summary.csv", MEDIA, csv_bytes(summary)),
        ExportFile("comments.csv", MEDIA, csv_bytes(comments)),
        ExportFile("votes.csv", MEDIA, csv_bytes(votes)),
        ExportFile("participant-votes.csv", MEDIA, csv_bytes(participant_votes)),
        ExportFile("comment-groups.csv", MEDIA, csv_bytes(comment_groups)),
    ]
