"""The example plugins of docs/examples, installed as real distributions.

pip builds one from its folder with the hatchling already installed (no
build isolation, no index) into a target directory, so tests work offline
and leave the environment untouched; putting that directory on the path
(or PYTHONPATH, for a subprocess) makes Essaim find the plugin through its
entry point, as a deployment would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
DOT_VOTE = EXAMPLES / "essaim-example-plugin"
PLEDGES = EXAMPLES / "essaim-pledges-plugin"
#: Building and installing a one-module wheel takes a few seconds; two
#: minutes means something is wrong (pip waiting on the network, say).
PIP_TIMEOUT_SECONDS = 120


def install(example: Path, target: Path) -> Path:
    """Install the example at ``example`` into ``target``; returns ``target``."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(example)],
        capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False,
    )
    assert done.returncode == 0, done.stderr
    return target


def with_path(*installed: Path) -> dict[str, str]:
    """The environment of a subprocess that sees the installed examples."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([*map(str, installed), os.environ.get("PYTHONPATH", "")]))


def module_as_distribution(module: Path, entry_point: str, target: Path) -> Path:
    """``module`` (one .py file) installed into ``target`` as a minimal
    distribution (a ``.dist-info`` with its entry point in the ``essaim``
    group), so that a server subprocess loads it like an installed plugin."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(module, target / module.name)
    info = target / f"{entry_point}_test_plugin-0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {entry_point}-test-plugin\nVersion: 0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[essaim]\n{entry_point} = {module.stem}\n", encoding="utf-8")
    return target


def run_own_tests(example: Path, installed: Path) -> subprocess.CompletedProcess[str]:
    """The example's own tests, in a fresh interpreter that sees it installed."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example / "tests")],
        capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False, env=with_path(installed),
        cwd=example,
    )
