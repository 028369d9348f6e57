"""Exceptions raised by Essaim.

Every error a user can cause carries a stable machine-readable ``code`` and a
human message that says what to do instead. The hierarchy::

    EssaimError
    ├── CommandError          a command was refused; nothing changed
    │   ├── NotFound          the campaign, card, hand... does not exist
    │   ├── Unauthorized      bad or missing token, or the wrong actor
    │   ├── WrongPhase        not allowed in the current phase
    │   └── LimitExceeded     a size or rate limit was hit
    ├── TemplateError         a campaign template is invalid (names file and key)
    ├── PluginError           a plugin is malformed or raised (names the plugin)
    │   └── PhaseStateError   a phase type's reducer raised on one of its events
    └── StoreError            the store cannot be opened or written
        ├── StoreUnavailable  for now: disk full, database restarting, connection
        │                     lost; the engine retries and refuses writes meanwhile
        └── StoreConflict     the log already holds other events at those seqs
            │                 (a second writer); never retried
            └── StoreFenced   a newer owner claimed the campaign: this one's
                              epoch is stale (cluster failover); it steps down
"""

from __future__ import annotations

__all__ = [
    "EssaimError",
    "CommandError",
    "NotFound",
    "Unauthorized",
    "WrongPhase",
    "LimitExceeded",
    "TemplateError",
    "PluginError",
    "PhaseStateError",
    "StoreError",
    "StoreUnavailable",
    "StoreConflict",
    "StoreFenced",
    "sole_error",
    "error_to_reraise",
]


class EssaimError(Exception):
    """Base class of every error Essaim raises on purpose."""


class CommandError(EssaimError):
    """A command was refused. The campaign state is unchanged.

    ``code`` is stable (clients switch on it); ``message`` is for people.
    """

    code: str = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class NotFound(CommandError):
    code = "not_found"


class Unauthorized(CommandError):
    code = "unauthorized"


class WrongPhase(CommandError):
    code = "wrong_phase"


class LimitExceeded(CommandError):
    code = "limit_exceeded"


class BusError(EssaimError):
    """Cluster mode: the bus (Valkey) cannot be reached or refused a command.
    The message names its URL."""


class TemplateError(EssaimError):
    """A campaign template is invalid.

    The message names the file (when there is one), the key, what was found
    and what is expected.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        where = ""
        if source:
            where += f"{source}: "
        if key:
            where += f"[{key}] "
        super().__init__(where + message)


class PluginError(EssaimError):
    """A plugin failed to load, registered something malformed, or raised."""


class PhaseStateError(PluginError):
    """A plugin phase type's reducer (``PhaseState.apply``) raised.

    ``namespace`` is the phase type whose state is now suspect. Raised by
    :meth:`CampaignState.apply <essaim.model.state.CampaignState.apply>`;
    the campaign's owner then records nothing of the command, answers
    ``unavailable`` and rebuilds that state from the log."""

    def __init__(self, message: str, *, namespace: str) -> None:
        super().__init__(message)
        self.namespace = namespace


class StoreError(EssaimError):
    """The store could not be opened, migrated or written."""


class StoreUnavailable(StoreError):
    """The store cannot be written *for now* (disk full, the database
    restarting, a lost connection). The writer keeps the batch and retries;
    meanwhile campaigns refuse writes with ``unavailable``. An append that
    raised this may or may not have committed (the connection dropped while
    the commit was on its way): :meth:`Store.written` tells which."""


class StoreConflict(StoreError):
    """The log already holds different events at the seqs being written: a
    second writer appended to the campaign (two owners, or a stale one).
    Retrying cannot help."""


class StoreFenced(StoreConflict):
    """Appends carried an epoch older than their campaign's: another process
    claimed the campaign since (cluster failover, :meth:`Store.claim`). Nothing
    of the batch was written. ``campaigns`` maps each fenced campaign to the
    stale epoch refused; the writer drops the items of those (campaign,
    epoch) pairs and commits the rest, and the stale owner steps down."""

    def __init__(self, message: str, campaigns: dict[str, int]) -> None:
        super().__init__(message)
        self.campaigns = campaigns


def sole_error(error: BaseException) -> BaseException:
    """The one error inside nested exception groups (trio nurseries wrap
    errors in groups); a group of several stays as it is."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def error_to_reraise(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """What to raise in place of ``group``: its one error, however deeply
    nested in groups of one, with the group hidden as its context; or the
    group itself, whole, if it holds several errors. Raise it with a plain
    ``raise``: ``raise ... from None`` would also erase the error's own
    cause (a PluginError's is the plugin's exception, with the line of the
    plugin that raised)."""
    leaf = sole_error(group)
    if isinstance(leaf, BaseExceptionGroup):
        return group
    leaf.__suppress_context__ = True
    return leaf
