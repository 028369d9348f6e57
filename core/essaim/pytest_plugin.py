"""A failing async test prints its one error, not an exception group.

pytest-trio runs each async test in a trio nursery, so whatever fails in
it (the test's assertion, a plugin's :class:`~essaim.errors.PluginError`)
reaches pytest wrapped in an ``ExceptionGroup`` of one: the report shows
the group, then the error indented inside it. This plugin, loaded by
pytest through its ``pytest11`` entry point wherever essaim is installed,
takes that one error out so the report is the error and its traceback,
with its cause (the line of the plugin that raised). A group of several
errors is reported as it is: each of them matters.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from essaim.errors import error_to_reraise

__all__ = ["pytest_runtest_call"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except BaseExceptionGroup as group:
        leaf = error_to_reraise(group)
        if leaf is group:
            raise
        raise leaf  # noqa: B904 (not "from None": that would drop the leaf's own cause)
