"""Group item ids: how later sorting boards name the groups of earlier ones.

A stage-2 hand deals *groups* (ideas formed by stage-1 sorters) instead of
cards. The naming convention is part of the plugin contract
(:mod:`essaim.hand_items`), so the server and the simulator can show and
judge a group without importing this package; it is re-exported here for
the built-in strategies.
"""

from __future__ import annotations

from essaim.hand_items import GROUP_PREFIX, card_key, group_id, group_members, is_group

__all__ = ["GROUP_PREFIX", "group_id", "group_members", "is_group", "card_key"]
