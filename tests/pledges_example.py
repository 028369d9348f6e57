"""The pledges example plugin (docs/examples/essaim-pledges-plugin), importable
from its source folder in the core's tests: its own tests install it as a
distribution (tests/plugins/test_example_plugin.py does that for dot_vote)."""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "essaim-pledges-plugin" / "src"
if str(SOURCE) not in sys.path:
    sys.path.insert(0, str(SOURCE))

import essaim_pledges  # noqa: E402

__all__ = ["essaim_pledges", "SOURCE"]
