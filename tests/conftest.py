"""Shared test configuration.

Tests marked ``@pytest.mark.slow`` (soaks, big data) are skipped unless
``ESSAIM_SLOW=1`` is set (``make test-slow``), so the default suite stays fast.
"""

from __future__ import annotations

import os

import pytest

#: Environment variable that turns the slow tests on.
SLOW_ENV = "ESSAIM_SLOW"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow test; run with {SLOW_ENV}=1 (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# The real PostgreSQL of tests/realservers, for any test that asks for it.
from realservers.postgres import postgres_server, postgres_url  # noqa: E402,F401
