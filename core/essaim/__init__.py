"""Essaim: an engine for massive synchronous collaboration.

Thousands of people join one live campaign and together collect ideas,
structure them, moderate each other and evaluate them. This package is the
engine (embed it with :func:`open_engine`), the plugin contract
(:mod:`essaim.plugin.hookspecs`), the server and the command-line tool.
"""

from essaim.engine import CampaignCreated, Engine, EngineLimits, Joined, open_engine
from essaim.errors import (
    CommandError,
    EssaimError,
    LimitExceeded,
    NotFound,
    PluginError,
    StoreError,
    TemplateError,
    Unauthorized,
    WrongPhase,
)
from essaim.model.commands import FACILITATOR, Ack, Actor, Command
from essaim.model.events import Event
from essaim.model.state import CampaignState
from essaim.model.template import CampaignTemplate
from essaim.plugin import DEFAULT_PLUGINS, PluginHost
from essaim.plugin.hookspecs import hookimpl
from essaim.plugin.registry import Registry
from essaim.store import MemoryStore, SQLiteStore, Store

__version__ = "0.1.0"

__all__ = [
    "Ack",
    "Actor",
    "CampaignCreated",
    "CampaignState",
    "CampaignTemplate",
    "Command",
    "CommandError",
    "DEFAULT_PLUGINS",
    "Engine",
    "EngineLimits",
    "EssaimError",
    "Event",
    "FACILITATOR",
    "Joined",
    "LimitExceeded",
    "MemoryStore",
    "NotFound",
    "PluginError",
    "PluginHost",
    "Registry",
    "SQLiteStore",
    "Store",
    "StoreError",
    "TemplateError",
    "Unauthorized",
    "WrongPhase",
    "hookimpl",
    "open_engine",
]
