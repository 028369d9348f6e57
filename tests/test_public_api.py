"""The public API is a curated list: adding or removing a name is a decision,
made here on purpose, not a side effect of an import."""

from __future__ import annotations

import importlib

import pytest

import essaim
import essaim.testing

#: essaim.__all__, pinned. Change it together with the package's __init__.py.
PUBLIC = {
    "Ack",
    "Actor",
    "CampaignCreated",
    "CampaignState",
    "CampaignTemplate",
    "Command",
    "CommandError",
    "DEFAULT_PLUGINS",
    "Engine",
    "EngineLimits",
    "EssaimError",
    "Event",
    "FACILITATOR",
    "Joined",
    "LimitExceeded",
    "MemoryStore",
    "NotFound",
    "PluginError",
    "PluginHost",
    "Registry",
    "SQLiteStore",
    "Store",
    "StoreError",
    "TemplateError",
    "Unauthorized",
    "WrongPhase",
    "hookimpl",
    "open_engine",
}

#: essaim.testing.__all__, the plugin author's kit, pinned too.
TESTING = {
    "DEFAULT_TEST_PROFILE",
    "HookCall",
    "PluginCallRecorder",
    "joined",
    "make_template",
    "open_test_engine",
    "run_campaign_to",
    "wait_for_phase",
}


def test_essaim_all_is_pinned() -> None:
    assert set(essaim.__all__) == PUBLIC
    assert len(essaim.__all__) == len(PUBLIC), "no name twice"


def test_every_public_name_exists() -> None:
    for name in essaim.__all__:
        assert getattr(essaim, name) is not None, name
    # The plugin decorator is the one the hook specs are checked against.
    assert essaim.hookimpl.project_name == "essaim"


def test_no_stray_public_names() -> None:
    """Everything importable from essaim without an underscore is either in
    __all__, a submodule, or the version."""
    modules = {name for name, value in vars(essaim).items() if isinstance(value, type(essaim))}
    stray = {n for n in vars(essaim) if not n.startswith("_")} - PUBLIC - modules - {"annotations"}
    assert stray == set()


def test_the_testing_kit_is_pinned() -> None:
    assert set(essaim.testing.__all__) == TESTING
    for name in essaim.testing.__all__:
        assert getattr(essaim.testing, name) is not None


def test_errors_form_the_documented_hierarchy() -> None:
    for error in (essaim.CommandError, essaim.TemplateError, essaim.PluginError, essaim.StoreError):
        assert issubclass(error, essaim.EssaimError)
    for error in (essaim.NotFound, essaim.Unauthorized, essaim.WrongPhase, essaim.LimitExceeded):
        assert issubclass(error, essaim.CommandError)


@pytest.mark.parametrize("module", ["essaim.plugin.registry", "essaim.model.types", "essaim.simulation", "essaim.testing"])
def test_documented_modules_declare_all(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__, module
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ lists {name!r}, which does not exist"
