"""Debian's nginx on loopback, running ``deploy/nginx.conf`` in front of a server.

The shipped file goes in nginx's ``http {}`` context; this wraps it in a
minimal main configuration in a temporary folder (pid, logs and temp paths
there, no root needed) and points its ``upstream`` and ``listen`` at the
test's ports. Nothing else of the shipped file is changed, so the test runs
what a deployment runs.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from realservers import free_port, require_binary

__all__ = ["running_nginx", "DEPLOY_NGINX_CONF", "NginxProxy"]

DEPLOY_NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
#: Seconds nginx gets to start listening and to stop.
START_TIMEOUT = 15.0

_MAIN = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/essaim.conf;
}}
"""


class NginxProxy:
    def __init__(self, port: int, folder: Path, proc: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.folder = folder
        self.proc = proc
        self.base_url = f"http://127.0.0.1:{port}"

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def site_config(upstream_port: int, listen_port: int) -> str:
    """The shipped file, with the test's upstream and listening ports."""
    text = DEPLOY_NGINX_CONF.read_text(encoding="utf-8")
    text, upstreams = re.subn(r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};", text)
    text, listens = re.subn(r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{listen_port};", text, flags=re.M)
    assert upstreams == 1 and listens == 1, "deploy/nginx.conf changed shape: update tests/realservers/nginx.py"
    return text


@contextmanager
def running_nginx(upstream_port: int, folder: Path) -> Iterator[NginxProxy]:
    nginx = require_binary("nginx", package="nginx", search=("/usr/sbin",))
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (folder / "essaim.conf").write_text(site_config(upstream_port, port), encoding="utf-8")
    (folder / "nginx.conf").write_text(_MAIN.format(dir=folder), encoding="utf-8")
    check = subprocess.run([nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proxy = NginxProxy(port, folder, proc)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, f"nginx exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen in time"
                time.sleep(0.05)
        yield proxy
    finally:
        proc.terminate()
        try:
            proc.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
