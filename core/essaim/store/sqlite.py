"""The embedded default store: one SQLite file in WAL mode.

``synchronous=FULL`` makes a committed transaction survive power loss, not
just a process crash; with group commit (one transaction per batch of
hundreds of events) it costs almost nothing. The schema is versioned with
``PRAGMA user_version`` and migrated forward on open.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from essaim.errors import StoreConflict, StoreError, StoreUnavailable
from essaim.model.events import Event
from essaim.store.base import (
    StoredCampaign,
    WriteItem,
    batch_marks,
    epochs_claimed,
    fenced_items,
    judge_written,
    sql_statements,
)

__all__ = ["SQLiteStore", "SCHEMA_VERSION", "MIGRATIONS"]

#: Migrations, in order; ``MIGRATIONS[i]`` takes the schema from version i to
#: i + 1. Append only: a released migration never changes.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        campaign TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts REAL NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (campaign, seq)
    ) WITHOUT ROWID;
    CREATE TABLE snapshots (
        campaign TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        state BLOB NOT NULL
    );
    """,
    # Fencing (Store.claim): who writes each campaign's log, at which epoch.
    """
    CREATE TABLE owners (
        campaign TEXT PRIMARY KEY,
        epoch INTEGER NOT NULL,
        node TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: Primary result codes that say "not now" rather than "never": the disk is
#: full, an I/O error (a disk remounted, a network filesystem gone), the file
#: locked by another program, or unopenable. The writer retries these.
TRANSIENT_CODES = frozenset({
    sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM,
})
#: Event rows in one INSERT statement (the writer's batches are up to ~2000
#: events). At 5 variables a row this is under SQLite's limit of 32,766
#: variables per statement (3.32 and later); an older SQLite lowers it.
ROWS_PER_STATEMENT = 2000


class SQLiteStore:
    """Events in ``<path>`` (a file, created with its folder if missing)."""

    blocking = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        # The engine has one writer, but reads at start-up and exports may
        # come from other threads: one lock keeps the connection serial.
        self._lock = threading.Lock()
        self._rows_per_statement = ROWS_PER_STATEMENT

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._rows_per_statement = max(
                1, min(ROWS_PER_STATEMENT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 5)
            )
            self._conn = conn
            self._migrate(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this Essaim understands "
                f"({SCHEMA_VERSION}); upgrade Essaim"
            )
        for target in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in sql_statements(MIGRATIONS[target]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the store at {self.path} is not open")
        return self._conn

    def append(self, batch: Sequence[WriteItem]) -> None:
        rows = [
            (item.campaign_id, ev.seq, ev.type, ev.ts, ev.encode())
            for item in batch
            for ev in item.events
        ]
        snapshots = [
            (item.campaign_id, item.snapshot_seq, item.snapshot)
            for item in batch
            if item.snapshot is not None
        ]
        size = self._rows_per_statement
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
        claimed = epochs_claimed(batch)
        with self._lock:
            conn = self.conn
            try:
                if len(chunks) == 1 and not snapshots and not claimed:
                    # The common batch: one statement is its own transaction.
                    self._insert(conn, chunks[0])
                    return
                conn.execute("BEGIN IMMEDIATE")
                if claimed:  # in the transaction: a claim cannot slip in between
                    fenced = fenced_items(claimed, self._epochs(conn, list(claimed)))
                    if fenced is not None:
                        conn.execute("ROLLBACK")
                        raise fenced
                for chunk in chunks:
                    self._insert(conn, chunk)
                if snapshots:
                    conn.executemany("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)", snapshots)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite rolled back on its own (a full disk does that)
                raise self._error("cannot write to", exc) from exc

    @staticmethod
    def _epochs(conn: sqlite3.Connection, campaign_ids: list[str]) -> dict[str, int]:
        marks = ",".join("?" * len(campaign_ids))
        return dict(conn.execute(f"SELECT campaign, epoch FROM owners WHERE campaign IN ({marks})",
                                 campaign_ids).fetchall())

    def claim(self, campaign_id: str, node: str) -> int:
        with self._lock:
            conn = self.conn
            try:
                # One statement, so its own transaction: it waits for an
                # append's (BEGIN IMMEDIATE) to commit, and the next one sees it.
                row = conn.execute(
                    "INSERT INTO owners VALUES (?, 1, ?) ON CONFLICT (campaign) "
                    "DO UPDATE SET epoch = epoch + 1, node = excluded.node RETURNING epoch",
                    (campaign_id, node)).fetchone()
            except sqlite3.Error as exc:
                raise self._error("cannot claim a campaign in", exc) from exc
        return int(row[0])

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        """The StoreError subclass that says whether retrying can help."""
        message = f"{doing} {self.path}: {exc}"
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreConflict(message)
        if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in TRANSIENT_CODES:
            return StoreUnavailable(message)
        return StoreError(message)

    def written(self, batch: Sequence[WriteItem]) -> bool:
        marks = batch_marks(batch)
        found: dict[tuple[str, int], bytes] = {}
        with self._lock:
            try:
                for campaign_id, seq, _ in marks:
                    row = self.conn.execute(
                        "SELECT data FROM events WHERE campaign = ? AND seq = ?", (campaign_id, seq)).fetchone()
                    if row is not None:
                        found[(campaign_id, seq)] = bytes(row[0])
            except sqlite3.Error as exc:
                raise self._error("cannot read", exc) from exc
        return judge_written(marks, found)

    @staticmethod
    def _insert(conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
        # One multi-row INSERT, not executemany: executemany releases and
        # retakes the GIL around every row, and while the trio thread is busy
        # each retake can wait a whole switch interval (5 ms), so a batch of
        # hundreds of rows took up to ~0.7 s under load instead of ~30 ms.
        values = ",".join(("(?,?,?,?,?)",) * len(rows))
        conn.execute(f"INSERT INTO events VALUES {values}", [v for row in rows for v in row])

    def campaign_ids(self) -> list[str]:
        with self._lock:
            cur = self.conn.execute("SELECT DISTINCT campaign FROM events ORDER BY campaign")
            return [row[0] for row in cur]

    def finished_campaigns(self) -> dict[str, str]:
        # One pass over the log (no index on type): ~0.1 s per million
        # events, once per start, in a worker thread; then one primary-key
        # lookup per finished campaign for its creation event.
        with self._lock:
            rows = self.conn.execute(
                "SELECT c.campaign, c.type, c.ts, c.data FROM events c WHERE c.seq = 1 AND c.campaign IN "
                "(SELECT DISTINCT campaign FROM events WHERE type = 'campaign_finished')").fetchall()
        return {cid: Event.decode(1, typ, ts, data).data["code"] for cid, typ, ts, data in rows}

    def load(self, campaign_id: str) -> StoredCampaign:
        with self._lock:
            row = self.conn.execute(
                "SELECT seq, state FROM snapshots WHERE campaign = ?", (campaign_id,)
            ).fetchone()
        seq, blob = (row[0], bytes(row[1])) if row else (0, None)
        return StoredCampaign(campaign_id, blob, seq, self.events(campaign_id, seq))

    def events(self, campaign_id: str, after: int = 0) -> list[Event]:
        with self._lock:
            cur = self.conn.execute(
                "SELECT seq, type, ts, data FROM events WHERE campaign = ? AND seq > ? ORDER BY seq",
                (campaign_id, after),
            )
            return [Event.decode(seq, typ, ts, data) for seq, typ, ts, data in cur]
