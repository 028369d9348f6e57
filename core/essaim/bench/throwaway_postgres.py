"""A throwaway PostgreSQL cluster on loopback, for benchmarks and tests.

Made in a fresh temporary folder with Debian's ``postgresql`` binaries,
listening on 127.0.0.1 only, with fsync on (commits cost what they cost in
production). PostgreSQL refuses to run as root, so as root the folder is
given to the ``postgres`` user and ``initdb``/``pg_ctl`` run through
``runuser -u postgres``. ``make bench-engine`` uses it, and so do the
fixtures in ``tests/realservers/postgres.py``::

    with ThrowawayPostgres.started() as server:
        url = server.url(server.new_schema())
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ThrowawayPostgres", "find_initdb"]

#: Where Debian puts the server binaries (not on PATH).
DEBIAN_BIN_GLOB = "usr/lib/postgresql/*/bin"
#: Seconds pg_ctl waits for the server to accept connections, or to stop.
PG_CTL_SECONDS = 60


def find_initdb() -> str | None:
    """``initdb`` on PATH or in Debian's folder (newest version first), or None."""
    found = shutil.which("initdb")
    if found:
        return found
    for folder in sorted(Path("/").glob(DEBIAN_BIN_GLOB), reverse=True):
        if (folder / "initdb").exists():
            return str(folder / "initdb")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    """A PostgreSQL cluster in ``folder``, listening on 127.0.0.1:``port``."""

    def __init__(self, folder: Path, port: int, initdb: str) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = port
        self.initdb = initdb
        self.pg_ctl = str(Path(initdb).with_name("pg_ctl"))

    @classmethod
    @contextmanager
    def started(cls, initdb: str | None = None) -> Iterator[ThrowawayPostgres]:
        """Create, start, and at the end stop and delete a cluster."""
        initdb = initdb or find_initdb()
        if initdb is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
        folder = Path(tempfile.mkdtemp(prefix="essaim-pg-"))
        server = cls(folder, _free_port(), initdb)
        try:
            server.init()
            server.start()
            yield server
        finally:
            try:
                if (server.data / "postmaster.pid").exists():
                    server.stop("immediate")
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        # --no-sync: the cluster is thrown away, so initdb need not wait for
        # the disk; the server itself runs with fsync on.
        self._run(self.initdb, "-D", str(self.data), "--auth=trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.folder}'\n"
                "max_connections = 200\nshared_buffers = 32MB\n"
            )

    def start(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-w", "-t", str(PG_CTL_SECONDS), "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects every client, as a restart does; ``immediate`` is a crash."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_CTL_SECONDS), "stop")

    def url(self, schema: str | None = None) -> str:
        """The database's URL; with ``schema``, a store's tables go there."""
        base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return base if schema is None else f"{base}?options=-csearch_path%3D{schema}"

    def new_schema(self) -> str:
        """An empty schema of its own: as good as a new database, and far cheaper."""
        import psycopg

        name = "s_" + secrets.token_hex(6)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return name

    def drop_schema(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")
