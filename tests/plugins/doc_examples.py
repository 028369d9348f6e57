"""The worked examples of docs/examples/, imported from their files (they
are documentation, not packages on sys.path)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def example(relative: str) -> ModuleType:
    """The module at ``docs/examples/<relative>`` (a ``.py`` file)."""
    path = EXAMPLES / relative
    name = "essaim_doc_example_" + path.stem.replace("-", "_") if path.stem != "__init__" else \
        "essaim_doc_example_" + path.parent.name
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
