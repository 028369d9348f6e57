"""Real servers for tests: Debian's redis-server, PostgreSQL, nginx and
Prometheus' promtool, started on loopback in temporary directories.

Each server has its own module here (``realservers.redis``, ...). A missing
binary skips the test locally with the command that installs it; under
``.ci/run`` (``ESSAIM_REQUIRE_SERVICES=1``) it fails instead, so CI never
passes by skipping. ``make test`` installs the packages when run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

__all__ = ["REQUIRE_ENV", "require_binary", "free_port"]

#: Set by .ci/run: a missing server binary is an error, not a skip.
REQUIRE_ENV = "ESSAIM_REQUIRE_SERVICES"


def require_binary(name: str, *, package: str, search: tuple[str, ...] = ()) -> str:
    """The path of ``name`` (on PATH or in one of the ``search`` folders, which
    may be glob patterns); skip the test, or fail under CI, when it is missing."""
    found = shutil.which(name)
    for pattern in search:
        if found:
            break
        matches = sorted(Path("/").glob(pattern.lstrip("/")), reverse=True)
        found = next((str(m / name) for m in matches if (m / name).exists()), None)
    if found:
        return found
    message = f"{name} is not installed (make test installs it as root: apt-get install -y {package})"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message + f"; {REQUIRE_ENV}=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server binds it next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
