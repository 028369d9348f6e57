"""Settings: defaults < TOML file < environment < flags, and all documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from essaim.server.settings import Settings, SettingsError, load_settings

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_priority_of_sources(tmp_path):
    config = tmp_path / "essaim.toml"
    config.write_text('[server]\nport = 9000\nrate_per_second = 2\nhost = "0.0.0.0"\n')
    s = load_settings(config_file=config, environ={"ESSAIM_PORT": "9100", "ESSAIM_ALLOWED_ORIGINS": "https://a, https://b"},
                      overrides={"port": "9200", "host": None})
    assert s.port == 9200  # flag beats environment beats file
    assert s.rate_per_second == 2.0  # file beats default
    assert s.host == "0.0.0.0"  # an absent flag does not hide the file
    assert s.allowed_origins == ("https://a", "https://b")
    assert load_settings(environ={}) == Settings()


@pytest.mark.parametrize("source", [
    {"environ": {"ESSAIM_PORT": "eighty"}},
    {"environ": {"ESSAIM_RATE_PER_SECOND": "0"}},
    {"overrides": {"no_such_setting": 1}},
    {"overrides": {"read_timeout": 10, "ping_interval": 20}},
])
def test_bad_values_are_refused_with_the_setting_named(source):
    with pytest.raises(SettingsError, match=r"'?[a-z_]+'?"):
        load_settings(**{"environ": {}, **source})


def test_unknown_key_in_file(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("prot = 80\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(config_file=config, environ={})


def test_every_setting_is_documented_with_its_default():
    text = OPERATIONS.read_text(encoding="utf-8")
    for f in fields(Settings):
        default = f.default
        shown = ",".join(default) or "(none)" if isinstance(default, tuple) else (default if default != "" else "(empty)")
        row = re.search(rf"^\| `{f.name}` \| `ESSAIM_{f.name.upper()}` \| `([^`]*)` \| (.+) \|$", text, re.M)
        assert row, f"docs/operations.md has no row for setting {f.name!r}"
        assert row.group(1) == str(shown), f"{f.name}: documented default {row.group(1)!r}, real {shown!r}"
