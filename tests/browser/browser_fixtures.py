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


#: Reported by every page of a watched context when the page's
#: Content-Security-Policy blocks something (Chromium also logs its own
#: "Refused to ... Content Security Policy" console errors).
_REPORT_CSP = """addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${e.sample || ""}`));"""


class CspWatchedBrowser:
    """The Playwright browser, whose contexts record every Content-Security-Policy
    violation of their pages in ``violations``: the app's own modules must
    satisfy the policy on every screen any browser test shows."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.add_init_script(_REPORT_CSP)
        context.on("console", self._console)
        return context

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()

    def unwatched_context(self, **options: Any) -> Any:
        """For a test that provokes violations on purpose (framing the console)."""
        return self._browser.new_context(**options)

    def _console(self, message: Any) -> None:
        text = message.text
        if text.startswith("CSP violation") or "Content Security Policy" in text:
            self.violations.append(f"{message.page.url if message.page else '?'}: {text}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


# Per module, not per session: a fixture imported into several modules is one
# fixture per module, and Playwright's sync API allows one instance at a time.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install -y chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        watched = CspWatchedBrowser(b)
        yield watched
        b.close()
    assert not watched.violations, "Content-Security-Policy violations:\n" + "\n".join(watched.violations)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data: Path = tmp_path_factory.mktemp("essaim-data")
    proc = ServerProcess(data_dir=data, port=free_port())
    proc.start()
    yield proc
    proc.stop()
