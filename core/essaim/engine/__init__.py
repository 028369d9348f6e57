"""The moving parts: campaigns on a store, one owner task per campaign, the
group-commit writer, shared reads, and the "wait until" helper.

Modules with a leading underscore are internal; this package re-exports the
public API (also available from :mod:`essaim`).
"""

from essaim.engine._engine import CampaignCreated, Engine, EngineLimits, Joined, open_engine

__all__ = ["Engine", "open_engine", "CampaignCreated", "Joined", "EngineLimits"]
