"""Shared test configuration.

Tests marked ``@pytest.mark.slow`` (soaks, big data) are skipped unless
``ESSAIM_SLOW=1`` is set (``make test-slow``), so the default suite stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from frame_contract import checking_frames

#: Environment variable that turns the slow tests on.
SLOW_ENV = "ESSAIM_SLOW"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow test; run with {SLOW_ENV}=1 (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def frames_follow_the_published_schema() -> Iterator[None]:
    """Every frame a server of this test sends fits /asyncapi.json's schemas
    (tests/frame_contract.py); a test whose server sent one that does not fails."""
    problems: list[str] = []
    with checking_frames(problems):
        yield
    assert not problems, f"{len(problems)} frame(s) do not fit /asyncapi.json:\n" + "\n".join(problems[:5])


# The real PostgreSQL of tests/realservers, for any test that asks for it.
from realservers.postgres import postgres_server, postgres_url  # noqa: E402,F401
