"""What a plugin author sees when a test fails: pytest, run for real on a
small test suite like theirs, reports the one error with its cause (the
line of the plugin that raised), not an exception group around it
(essaim.pytest_plugin, loaded through its pytest11 entry point, and
essaim.testing.open_test_engine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: pytest starting in a fresh interpreter and running three tiny tests: seconds.
PYTEST_TIMEOUT_SECONDS = 120

AUTHORS_TESTS = '''
import trio
from essaim import hookimpl
from essaim.testing import make_template, open_test_engine


class FailsOnCreation:
    __name__ = "fails_on_creation"

    @hookimpl
    def essaim_campaign_created(self) -> None:
        raise RuntimeError("my plugin's bug")  # the line the author must see


async def test_my_plugin() -> None:
    async with open_test_engine(plugins=[FailsOnCreation()]) as engine:
        await engine.create_campaign(make_template())


async def test_my_own_check() -> None:
    async with open_test_engine() as engine:
        assert engine.campaign_ids() == ["one"], "my own check"


async def test_two_errors_at_once() -> None:
    async def fail(message: str) -> None:
        raise ValueError(message)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fail, "first of two")
        nursery.start_soon(fail, "second of two")
'''


def run_pytest(folder: Path) -> str:
    (folder / "test_authors_plugin.py").write_text(AUTHORS_TESTS, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\ntrio_mode = true\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rN", str(folder)],
                          cwd=folder, capture_output=True, text=True, timeout=PYTEST_TIMEOUT_SECONDS, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def section(report: str, test: str) -> str:
    start = report.index(f"_ {test} _")
    end = report.find("\n____", start + 1)
    return report[start:] if end < 0 else report[start:end]


def test_a_failing_plugin_is_reported_as_one_error_with_the_plugins_line(tmp_path: Path) -> None:
    report = run_pytest(tmp_path)
    plugin = section(report, "test_my_plugin")
    assert "ExceptionGroup" not in plugin and "sub-exception" not in plugin, plugin
    assert "essaim.errors.PluginError: plugin 'fails_on_creation' raised in essaim_campaign_created" in plugin
    # Its cause, with the plugin's own line: where the author has to look.
    assert 'raise RuntimeError("my plugin\'s bug")  # the line the author must see' in plugin, plugin
    assert "The above exception was the direct cause of the following exception" in plugin

    own = section(report, "test_my_own_check")
    assert "ExceptionGroup" not in own and "AssertionError: my own check" in own, own

    # Several errors at once stay a group, shown whole: each of them matters.
    both = section(report, "test_two_errors_at_once")
    assert "(2 sub-exceptions)" in both and "first of two" in both and "second of two" in both, both
