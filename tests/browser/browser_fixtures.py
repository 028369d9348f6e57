"""Fixtures of the browser tests: Debian Chromium driven by Playwright, and a
real ``essaim serve`` subprocess per test module.

Test modules import them by name (not a conftest.py: tests/server imports its
own ``conftest`` module by that name, and two would clash in sys.modules).

Chromium comes from Debian (``make test`` installs it when missing);
Playwright's own browser download cannot work offline, so it is never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_harness import CHROMIUM_ARGS, ServerProcess, chromium_path, free_port

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev extra)")


# Per module, not per session: a fixture imported into several modules is one
# fixture per module, and Playwright's sync API allows one instance at a time.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install -y chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data: Path = tmp_path_factory.mktemp("essaim-data")
    proc = ServerProcess(data_dir=data, port=free_port())
    proc.start()
    yield proc
    proc.stop()
