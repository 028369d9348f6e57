"""The pledges example (a plugin's own phase), installed as a real
distribution: found through its entry point, web files included, its own
tests passing in a fresh interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_dists import PLEDGES, install, run_own_tests, with_path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install(PLEDGES, tmp_path_factory.mktemp("pledges-plugin") / "site")


def test_the_distribution_ships_its_screen_and_panel(installed: Path) -> None:
    web = installed / "essaim_pledges" / "web"
    assert (web / "screen.js").is_file() and (web / "panel.js").is_file()


def test_the_examples_own_tests_pass_in_a_fresh_interpreter(installed: Path) -> None:
    done = run_own_tests(PLEDGES, installed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
    assert with_path(installed)["PYTHONPATH"].startswith(str(installed))
