"""deploy/requirements.lock pins what the suite runs against, inside pyproject's ranges."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("essaim_deploy_lock", ROOT / "deploy" / "lock.py")
lock = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(lock)  # type: ignore[union-attr]


def test_the_lock_is_what_this_suite_runs_against():
    """The runtime closure installed here equals the lock (make venv installs
    with it as constraints); after a dependency change: make lock."""
    assert lock.read_lock() == lock.runtime_closure(), "deploy/requirements.lock is stale: run `make lock`"


def test_every_pin_is_inside_pyprojects_ranges():
    pins = lock.read_lock()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dependencies = project["dependencies"] + [r for extra in lock.DEPLOY_EXTRAS
                                              for r in project["optional-dependencies"][extra]]
    for text in dependencies:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but not in the lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req}"
        # An upper bound on each: a major release that breaks us must not reach a deployment.
        assert any(spec.operator == "<" for spec in req.specifier), f"{req} has no upper bound"


def test_a_stale_lock_is_reported(tmp_path):
    stale = tmp_path / "requirements.lock"
    pins = lock.read_lock()
    pins["trio"] = "0.1.0"
    stale.write_text(lock.render_lock(pins))
    assert lock.read_lock(stale) != lock.runtime_closure()
