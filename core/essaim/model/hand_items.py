"""What a sorting hand holds: cards, or groups of cards named by their members.

A structuring strategy deals item ids (:class:`essaim.model.types.Deal`). A later
board may deal *groups* that earlier sorters formed; a group's id lists its
cards, ``"g:c3+c17+c42"``, so the id is its own provenance: the server shows
a group as the texts of its cards, a simulated sorter judges it by them, an
aggregator knows what the sorter saw, all without asking the strategy. Any
structuring plugin that deals groups names them with :func:`group_id`.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["GROUP_PREFIX", "group_id", "group_members", "is_group", "card_key"]

GROUP_PREFIX = "g:"
_SEPARATOR = "+"


def card_key(cid: str) -> tuple[int, str]:
    """Sort key for card ids: numeric order ("c2" before "c10"), then text."""
    digits = "".join(ch for ch in cid if ch.isdigit())
    return (int(digits) if digits else 0, cid)


def group_id(cards: Iterable[str]) -> str:
    """The id of a group of cards (order-independent)."""
    return GROUP_PREFIX + _SEPARATOR.join(sorted(set(cards), key=card_key))


def is_group(item: str) -> bool:
    return item.startswith(GROUP_PREFIX)


def group_members(item: str) -> tuple[str, ...]:
    """The cards an item stands for: its members for a group, itself for a card."""
    if item.startswith(GROUP_PREFIX):
        return tuple(c for c in item[len(GROUP_PREFIX):].split(_SEPARATOR) if c)
    return (item,)
