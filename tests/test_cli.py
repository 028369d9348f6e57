"""The ``essaim`` command, run in-process on real SQLite stores in tmp_path."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from essaim.cli import SUBCOMMANDS, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_subcommand_module_has_register_and_run() -> None:
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"essaim.cli.{name}")
        assert callable(module.register) and callable(module.run), name


def test_campaign_new_list_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    code, out, _ = run(capsys, "campaign", "new", "demo", "--data", data, "--json")
    assert code == 0
    created = json.loads(out)
    assert len(created["code"]) == 6 and created["facilitator_token"]

    code, out, _ = run(capsys, "campaign", "list", "--data", data, "--json")
    assert code == 0
    [row] = json.loads(out)
    assert row["campaign_id"] == created["campaign_id"] and row["status"] == "draft"

    code, out, _ = run(capsys, "campaign", "show", created["code"].lower(), "--data", data)
    assert code == 0
    assert created["campaign_id"] in out and "Sorting (sort, strategy crowd_sort" in out

    code, out, _ = run(capsys, "campaign", "new", "demo", "--data", data)
    assert code == 0 and "join code:" in out and "facilitator token:" in out
    code, out, _ = run(capsys, "campaign", "list", "--data", data)
    assert code == 0 and len(out.strip().splitlines()) == 3  # header + two campaigns


def test_campaign_new_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "mine.toml"
    template.write_text('[campaign]\ntitle = "Mine"\n[[phase]]\ntype = "collect"\n', encoding="utf-8")
    code, out, _ = run(capsys, "campaign", "new", str(template), "--data", str(tmp_path / "d"), "--json")
    assert code == 0 and json.loads(out)["title"] == "Mine"


def test_a_bad_template_names_file_and_key_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "bad.toml"
    template.write_text('[campaign]\ntitle = "x"\n[[phase]]\ntype = "colect"\n', encoding="utf-8")
    code, out, err = run(capsys, "campaign", "new", str(template), "--data", str(tmp_path / "d"))
    assert code == 2 and out == ""
    assert str(template) in err and "[phase[0].type]" in err and "'collect'" in err
    assert "hint:" in err and "Traceback" not in err

    template.write_text('[campaign]\ntitle = "x"\n[[phase]]\ntype = "collect"\nduration = "30h"\n')
    code, _, err = run(capsys, "campaign", "new", str(template), "--data", str(tmp_path / "d"))
    assert code == 2 and "[phase[0].duration]" in err


def test_unknown_template_names_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "campaign", "new", "nosuch", "--data", str(tmp_path))
    assert code == 2 and "demo" in err and "hint:" in err
    code, _, err = run(capsys, "campaign", "new", str(tmp_path / "missing.toml"), "--data", str(tmp_path))
    assert code == 2 and "no template file" in err


def test_errors_on_missing_data_and_unknown_campaigns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "campaign", "list", "--data", str(tmp_path / "empty"))
    assert code == 1 and "essaim campaign new demo" in err
    assert not (tmp_path / "empty").exists(), "listing must not create a data directory"
    run(capsys, "campaign", "new", "demo", "--data", str(tmp_path))
    code, _, err = run(capsys, "campaign", "show", "NOPE42", "--data", str(tmp_path))
    assert code == 1 and "NOPE42" in err and "essaim campaign list" in err
    code, _, err = run(capsys, "export", "NOPE42", "--data", str(tmp_path))
    assert code == 1 and "Traceback" not in err


def test_the_data_directory_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESSAIM_DATA_DIR", str(tmp_path / "env"))
    assert run(capsys, "campaign", "new", "demo")[0] == 0
    assert (tmp_path / "env" / "essaim.sqlite3").exists()


def test_campaigns_go_to_postgresql_with_store_or_its_environment_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "campaign", "new", "demo", "--store", postgres_url, "--json")
    assert code == 0
    first = json.loads(out)["campaign_id"]
    monkeypatch.setenv("ESSAIM_STORE", postgres_url)
    assert run(capsys, "campaign", "new", "demo")[0] == 0
    code, out, _ = run(capsys, "campaign", "list", "--json")
    assert code == 0 and first in {row["campaign_id"] for row in json.loads(out)} and len(json.loads(out)) == 2
    assert not (tmp_path / "data").exists()  # no SQLite file on the side


def test_simulate_then_show_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    code, out, err = run(
        capsys, "simulate", "--participants", "25", "--phase-seconds", "0.5", "--seed", "2", "--data", data,
    )
    assert code == 0
    assert "Top opportunity sheets" in out and " 1. " in out
    assert "[1/4] Ideas" in err and "[4/4] Results" in err  # progress, one line per phase off a terminal

    code, out, _ = run(capsys, "campaign", "list", "--data", data, "--json")
    [row] = json.loads(out)
    assert row["status"] == "finished" and row["participants"] == 25

    out_dir = tmp_path / "out"
    for fmt, name in (("json", "results.json"), ("csv", "results.csv")):
        code, out, _ = run(capsys, "export", row["code"], "--format", fmt, "--out", str(out_dir), "--data", data)
        assert code == 0 and out.strip().endswith(name)
    doc = json.loads((out_dir / "results.json").read_text())
    assert doc["campaign_id"] == row["campaign_id"] and doc["sheets"]
    assert (out_dir / "results.csv").read_text().startswith('"rank",')

    code, _, err = run(capsys, "export", row["code"], "--format", "nosuch", "--data", data)
    assert code == 1 and "available" in err


def test_simulate_checks_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "simulate", "--participants", "0")
    assert code == 2 and "--participants" in err and "hint:" in err
    code, _, err = run(capsys, "simulate", "--evaluation", "coin_toss")
    assert code == 2 and "'coin_toss'" in err and "pairwise" in err and "Traceback" not in err


def test_simulate_with_another_evaluation_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", "--participants", "20", "--phase-seconds", "0.5",
                       "--evaluation", "approval", "--no-progress", "--top", "3")
    assert code == 0 and " 3. " in out and " 4. " not in out


def test_plugins_lists_hooks_phase_types_and_strategies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plugins")
    assert code == 0
    assert "essaim_builtins.evaluation" in out and "essaim_evaluation_scores" in out
    assert "collect" in out and "pairwise" in out and "opportunity_sheets" in out and "json" in out


def test_plugins_describes_a_plugin_phase_its_commands_events_settings_and_screens() -> None:
    from pledges_example import essaim_pledges

    from essaim.cli.plugins import describe_plugins
    from essaim.plugin import PluginHost

    out = describe_plugins(PluginHost.load(extra=[essaim_pledges], entry_points=False))
    pledges = out[out.index("  pledges "):out.index("Strategies by family")]
    assert "commands: pledge, spotlight, withdraw_pledge" in pledges
    assert "events: pledges:pledged, pledges:withdrawn, pledges:spotlit" in pledges
    assert "- max_pledges:" in pledges and "screen: screen.js; panel: panel.js" in pledges


def test_disable_plugin_and_essential_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--disable-plugin", "essaim_builtins.results", "plugins")
    # Without the results plugin no results strategy exists, but listing works.
    assert code == 0 and "essaim_builtins.results\n" not in out
    code, _, err = run(capsys, "--disable-plugin", "essaim_builtins.phases", "plugins")
    assert code == 1 and "essential" in err and "hint:" in err


def test_python_dash_m_essaim_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "essaim", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    for name in SUBCOMMANDS:
        assert name in done.stdout
