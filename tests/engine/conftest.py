"""Fixtures of the engine tests (helpers live in engine_session.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite file for one test."""
    return tmp_path / "essaim.sqlite3"
