"""``essaim serve`` as its own process, as a deployment runs it: stdout
parsed for its address, its JSON log lines kept in a file for the test."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ServeProcess", "running_serve", "ADMIN_TOKEN"]

ADMIN_TOKEN = "realservers-admin-token"
#: Seconds the process gets to print its address, and to stop after SIGTERM.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
_CLI = "import sys; from essaim.cli import main; sys.exit(main(sys.argv[1:]))"


class ServeProcess:
    def __init__(self, proc: subprocess.Popen[str], base_url: str, log_path: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.port = int(base_url.rsplit(":", 1)[1])
        self.log_path = log_path

    def log_text(self) -> str:
        """Everything the process logged so far (JSON lines on stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait(self) -> int:
        """The exit code, once the process has exited (killed after STOP_TIMEOUT)."""
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@contextmanager
def running_serve(data_dir: Path, env: Mapping[str, str] = {}, args: tuple[str, ...] = ()) -> Iterator[ServeProcess]:
    """``essaim serve --port 0`` on 127.0.0.1 with ``ESSAIM_*`` settings from ``env``; stopped on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "serve.log"
    environ = {**os.environ, "ESSAIM_ADMIN_TOKEN": ADMIN_TOKEN, "ESSAIM_GRACEFUL_TIMEOUT": "0.5", **env}
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-c", _CLI, "serve", "--port", "0", "--data", str(data_dir), *args],
                                stdout=subprocess.PIPE, stderr=log, text=True, env=environ)
    try:
        base_url = _wait_listening(proc, log_path)
        yield ServeProcess(proc, base_url, log_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def _wait_listening(proc: subprocess.Popen[str], log_path: Path) -> str:
    assert proc.stdout is not None
    # The first line says where it listens (the fixture is synchronous: no loop to stall).
    readable, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    line = proc.stdout.readline() if readable else ""
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        proc.kill()
        raise AssertionError(f"essaim serve did not start: {line!r}\n{log_path.read_text(errors='replace')[-3000:]}")
    return found.group(1)
