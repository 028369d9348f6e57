"""deploy/essaim.service passes ``systemd-analyze verify`` and raises the fd limit."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "essaim.service"
#: Sockets one process should be able to hold (one fd each): the capacity
#: measured in docs/performance.md is 12,500-15,000 sessions.
MIN_NOFILE = 20_000


def _service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_the_unit_raises_the_open_files_limit_and_stops_by_draining():
    service = _service()
    assert int(service["LimitNOFILE"]) >= MIN_NOFILE
    assert service["KillSignal"] == "SIGTERM" and "essaim serve" in service["ExecStart"]


def _verify(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on ``text``, pointed at this virtualenv's essaim
    (verify checks that ExecStart exists; the unit names the deployment's)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package); the unit was not verified")
    unit = tmp_path / "essaim.service"
    unit.write_text(text.replace("/opt/essaim/venv/bin/essaim", str(Path(sys.executable).with_name("essaim"))))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0 and "Failed to connect" in result.stderr + result.stdout:
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()[:200]}")
    return result


def test_systemd_analyze_verify_finds_nothing(tmp_path):
    result = _verify(tmp_path, UNIT.read_text())
    # verify exits 0 on some problems (an unparsable value is only a warning): any output about the unit fails.
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "essaim.service" in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_verify_would_catch_a_broken_value(tmp_path):
    result = _verify(tmp_path, UNIT.read_text().replace("LimitNOFILE=65536", "LimitNOFILE=lots"))
    assert "Failed to parse resource value" in result.stdout + result.stderr
