"""How the CLI reports a failure: one line saying what, one saying what to do.

Subcommands raise :class:`CLIError` for their own failures; errors from the
engine (:class:`~essaim.errors.EssaimError`) are described here. Either way
the user sees no traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from essaim.errors import (
    BusError,
    CommandError,
    EssaimError,
    NotFound,
    PluginError,
    StoreError,
    TemplateError,
    sole_error,
)

__all__ = ["CLIError", "Failure", "describe", "sole_error", "EXIT_FAILURE", "EXIT_USAGE"]

#: Exit codes: 1 when something failed, 2 when the input was wrong (as argparse does).
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CLIError(Exception):
    """A failure of a subcommand, with a hint of what to do."""

    def __init__(self, message: str, *, hint: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.hint = hint
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Failure:
    message: str
    hint: str
    exit_code: int

    def render(self) -> str:
        return f"essaim: error: {self.message}\n  hint: {self.hint}"


def describe(error: BaseException) -> Failure | None:
    """The message, hint and exit code for an error, or None if it is a bug."""
    error = sole_error(error)
    if isinstance(error, CLIError):
        return Failure(str(error), error.hint, error.exit_code)
    hint = getattr(error, "hint", None)
    if isinstance(error, EssaimError) and isinstance(hint, str):  # e.g. essaim.simulation.SimulationError
        return Failure(str(error), hint, EXIT_FAILURE)
    if isinstance(error, TemplateError):
        return Failure(str(error), "fix that key in the template; docs/plugins.md lists phase types and "
                       "strategies, and `essaim plugins` shows what is installed", EXIT_USAGE)
    if isinstance(error, NotFound):
        return Failure(str(error), "list the campaigns with `essaim campaign list --data DIR`", EXIT_FAILURE)
    if isinstance(error, PluginError):
        return Failure(str(error), "fix or uninstall that plugin, or skip it with "
                       "`essaim --disable-plugin NAME ...`; `essaim plugins` shows what is loaded", EXIT_FAILURE)
    if isinstance(error, StoreError):
        return Failure(str(error), "check that --data names a writable directory with enough space",
                       EXIT_FAILURE)
    if isinstance(error, BusError):
        return Failure(str(error), "start Valkey (or Redis 7) there, or fix --cluster / ESSAIM_CLUSTER; "
                       "without --cluster the server runs on its own", EXIT_FAILURE)
    if isinstance(error, CommandError):
        return Failure(error.message, "check the command's arguments with `essaim COMMAND --help`", EXIT_FAILURE)
    if isinstance(error, EssaimError):
        return Failure(str(error), "see `essaim --help`", EXIT_FAILURE)
    return None
