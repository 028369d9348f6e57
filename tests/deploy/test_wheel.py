"""The wheel ships what type checkers and plugin authors rely on.

Built offline from this tree (pip, no build isolation, no index), like
tests/plugins/test_example_plugin.py builds the example plugin.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Building the wheel copies ~150 files: seconds; a minute means pip waits on the network.
BUILD_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--wheel-dir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, check=False,
    )
    assert done.returncode == 0, done.stderr
    [built] = out.glob("essaim-*.whl")
    return zipfile.ZipFile(built)


def test_both_packages_are_marked_typed(wheel: zipfile.ZipFile) -> None:
    """PEP 561: without py.typed, mypy ignores the annotations of an installed package."""
    names = set(wheel.namelist())
    assert {"essaim/py.typed", "essaim_builtins/py.typed"} <= names


def test_the_metadata_says_typed(wheel: zipfile.ZipFile) -> None:
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    classifiers = Parser().parsestr(wheel.read(metadata).decode()).get_all("Classifier")
    assert "Typing :: Typed" in classifiers
