"""The PostgreSQL store: the durable log of several processes (cluster mode),
or of one server that should not keep its events on its own disk.

Plain synchronous psycopg 3: the engine calls a store from its writer's
worker thread only, so an async driver would add a bridge and nothing else.
Each group commit is one transaction, and one statement: the batch's
events go in as arrays unnested into rows (measured against ``COPY``,
``executemany`` and a multi-row ``INSERT``: see ``_INSERT_EVENTS``),
snapshots are upserted, and the commit returns once PostgreSQL has flushed
its WAL (``synchronous_commit`` on, its
default): a durable ack still means committed. ``(campaign, seq)`` is the
primary key, so a second writer of the same seq is refused
(:class:`~essaim.errors.StoreConflict`), which is what fencing builds on.

Errors say whether retrying can help: a lost connection, a server
restarting or shutting down, a full disk or a read-only standby raise
:class:`~essaim.errors.StoreUnavailable` and drop the connection; the next
call connects again. The schema is versioned in the ``essaim_schema`` table
and migrated forward on open, in one transaction under an advisory lock, so
processes starting together migrate once. Install with
``pip install 'essaim[postgres]'``.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from essaim.errors import StoreConflict, StoreError, StoreUnavailable
from essaim.model.events import Event
from essaim.store.base import (
    StoredCampaign,
    WriteItem,
    batch_marks,
    epochs_claimed,
    judge_written,
    sql_statements,
    stale_epochs,
)

__all__ = ["PostgresStore", "MIGRATIONS", "SCHEMA_VERSION"]


#: Migrations, in order; ``MIGRATIONS[i]`` takes the schema from version i to
#: i + 1. Append only: a released migration never changes.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        campaign text NOT NULL,
        seq bigint NOT NULL,
        type text NOT NULL,
        ts double precision NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (campaign, seq)
    );
    CREATE TABLE snapshots (
        campaign text PRIMARY KEY,
        seq bigint NOT NULL,
        state bytea NOT NULL
    );
    """,
    # A start-up asks which campaigns are finished: without this, a pass over
    # every event of every campaign ever run.
    """
    CREATE INDEX events_finished ON events (campaign) WHERE type = 'campaign_finished';
    """,
    # Cluster failover: who writes each campaign's log and at which epoch
    # (Store.claim; appends check it), and the number of the campaign's
    # advisory lock (essaim.cluster.lease), a row's own so no two campaigns share one.
    """
    CREATE TABLE essaim_owners (
        campaign text PRIMARY KEY,
        epoch bigint NOT NULL,
        node text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        lock_id integer GENERATED ALWAYS AS IDENTITY UNIQUE
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: The advisory lock processes take while they migrate (any fixed number
#: no other program uses: a CRC of the name).
MIGRATION_LOCK = zlib.crc32(b"essaim schema migration")

# Connection settings, used unless the URL sets them. They bound how long the
# writer's thread can hang on a server that stopped answering (paused,
# partitioned): the writer then reports the store unavailable and retries.
#: Seconds to establish a connection.
CONNECT_TIMEOUT_SECONDS = 5
#: Milliseconds sent data may stay unacknowledged before the kernel drops the
#: connection (a commit stuck on a dead peer).
TCP_USER_TIMEOUT_MS = 15_000
#: TCP keepalives on an idle connection: first probe after this many seconds...
KEEPALIVES_IDLE_SECONDS = 10
#: ...then one every this many seconds, and the connection is dead after this many unanswered.
KEEPALIVES_INTERVAL_SECONDS = 5
KEEPALIVES_COUNT = 3

_DEFAULTS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    "keepalives": 1,
    "keepalives_idle": KEEPALIVES_IDLE_SECONDS,
    "keepalives_interval": KEEPALIVES_INTERVAL_SECONDS,
    "keepalives_count": KEEPALIVES_COUNT,
    "application_name": "essaim",
}
#: SQLSTATEs outside psycopg's OperationalError that still mean "not now":
#: a read-only transaction (a standby not yet promoted after a failover).
_TRANSIENT_SQLSTATES = frozenset({"25006"})
T = TypeVar("T")
# A batch is one statement: the events as arrays (binary parameters), unnested
# into rows; with snapshots, both inserts in one statement. Measured against
# COPY, executemany and a multi-row INSERT (docs/performance.md): as fast as
# COPY for large batches when the process is idle, 1.5-2x faster when another
# Python thread is busy (the trio thread, under load), because it takes one
# round trip where COPY in a transaction takes four, and the writer's thread
# waits for the GIL after each of them.
_UNNEST_EVENTS = "SELECT * FROM unnest(%b::text[], %b::int8[], %b::text[], %b::float8[], %b::bytea[])"
_INSERT_EVENTS = f"INSERT INTO events {_UNNEST_EVENTS}"
_INSERT_EVENTS_AND_SNAPSHOTS = (
    f"WITH e AS ({_INSERT_EVENTS}) INSERT INTO snapshots "
    "SELECT DISTINCT ON (campaign) * FROM unnest(%b::text[], %b::int8[], %b::bytea[]) AS s(campaign, seq, state) "
    "ORDER BY campaign, seq DESC "
    "ON CONFLICT (campaign) DO UPDATE SET seq = excluded.seq, state = excluded.state"
)

# With fencing (cluster failover), the same statement first takes a share lock
# on the owners rows of the batch's campaigns whose epoch is the one claimed:
# a claim (an UPDATE of the row) waits for the commit, and a commit after a
# claim finds the new epoch (READ COMMITTED re-checks a row changed under it)
# and inserts nothing. It returns the campaigns that passed.
_FENCE = (
    "WITH fence AS (SELECT o.campaign FROM essaim_owners o "
    "JOIN unnest(%b::text[], %b::int8[]) AS f(campaign, epoch) ON o.campaign = f.campaign AND o.epoch = f.epoch "
    "FOR SHARE OF o), allowed AS (SELECT count(*) = %b::int8 AS ok FROM fence), "
    "e AS (INSERT INTO events SELECT u.* FROM unnest(%b::text[], %b::int8[], %b::text[], %b::float8[], %b::bytea[]) "
    "AS u(campaign, seq, type, ts, data), allowed WHERE allowed.ok RETURNING 1)"
)
_FENCED_SNAPSHOTS = (
    ", s AS (INSERT INTO snapshots SELECT DISTINCT ON (x.campaign) x.* "
    "FROM unnest(%b::text[], %b::int8[], %b::bytea[]) AS x(campaign, seq, state), allowed WHERE allowed.ok "
    "ORDER BY x.campaign, x.seq DESC "
    "ON CONFLICT (campaign) DO UPDATE SET seq = excluded.seq, state = excluded.state RETURNING 1)"
)
_FENCE_PASSED = " SELECT array(SELECT campaign FROM fence)"
_CLAIM = (
    "INSERT INTO essaim_owners (campaign, epoch, node) VALUES (%s, 1, %s) ON CONFLICT (campaign) "
    "DO UPDATE SET epoch = essaim_owners.epoch + 1, node = excluded.node, claimed_at = now() RETURNING epoch"
)


class _Connection:
    """One connection used by one thread at a time, made again after a failure."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._conn: psycopg.Connection[Any] | None = None
        self.lock = threading.Lock()

    def get(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(**self._store.conninfo, autocommit=True)
        return self._conn

    def drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass


class PostgresStore:
    """Events in the PostgreSQL database ``url`` names; its tables go in the
    first schema of the search path (``?options=-csearch_path%3Dname``)."""

    blocking = True

    def __init__(self, url: str) -> None:
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"not a valid PostgreSQL URL ({str(exc).strip()}); expected "
                             "postgresql://user@host:port/database[?param=value...]") from None
        self.conninfo: dict[str, Any] = {**_DEFAULTS, **params}
        # What messages name: never the URL itself, which may hold a password.
        self.where = "{}:{}/{}".format(params.get("host", "localhost"), params.get("port", 5432),
                                       params.get("dbname", params.get("user", "")))
        self._writes = _Connection(self)
        self._reads = _Connection(self)

    # -- opening ---------------------------------------------------------------------------

    def open(self) -> None:
        with self._use(self._writes, "cannot open the store in") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS essaim_schema (version integer NOT NULL)")
            row = conn.execute("SELECT version FROM essaim_schema").fetchone()
            if row is None:
                conn.execute("INSERT INTO essaim_schema VALUES (0)")
            version = 0 if row is None else row[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database at {self.where} has schema version {version}, newer than this "
                    f"Essaim understands ({SCHEMA_VERSION}); upgrade Essaim"
                )
            for target in range(version, SCHEMA_VERSION):
                for statement in sql_statements(MIGRATIONS[target]):
                    conn.execute(statement)
            conn.execute("UPDATE essaim_schema SET version = %s", (SCHEMA_VERSION,))

    def close(self) -> None:
        for connection in (self._writes, self._reads):
            with connection.lock:
                connection.drop()

    @contextmanager
    def _use(self, connection: _Connection, doing: str) -> Iterator[psycopg.Connection[Any]]:
        """The connection, serialised; psycopg errors become the StoreError
        subclass that says whether retrying can help."""
        with connection.lock:
            try:
                yield connection.get()
            except psycopg.Error as exc:
                error = self._error(doing, exc)
                if isinstance(error, StoreUnavailable):
                    connection.drop()  # the next call connects afresh
                raise error from exc

    def _error(self, doing: str, exc: psycopg.Error) -> StoreError:
        message = f"{doing} PostgreSQL at {self.where}: {str(exc).strip() or type(exc).__name__}"
        if isinstance(exc, psycopg.errors.UniqueViolation):
            return StoreConflict(message)
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) or exc.sqlstate in _TRANSIENT_SQLSTATES:
            return StoreUnavailable(message)
        return StoreError(message)

    # -- writing ---------------------------------------------------------------------------

    def append(self, batch: Sequence[WriteItem]) -> None:
        events = [(item.campaign_id, ev.seq, ev.type, ev.ts, ev.encode()) for item in batch for ev in item.events]
        snapshots = [(item.campaign_id, item.snapshot_seq, item.snapshot)
                     for item in batch if item.snapshot is not None]
        columns: list[list[Any]] = [list(c) for c in zip(*events)] or [[], [], [], [], []]
        claimed = epochs_claimed(batch)
        with self._use(self._writes, "cannot write to") as conn:
            # One statement in autocommit: its own transaction, one round trip.
            if claimed:
                self._append_fenced(conn, claimed, columns, snapshots)
            elif snapshots:
                conn.execute(_INSERT_EVENTS_AND_SNAPSHOTS, columns + [list(c) for c in zip(*snapshots)])
            else:
                conn.execute(_INSERT_EVENTS, columns)

    @staticmethod
    def _append_fenced(conn: psycopg.Connection[Any], claimed: dict[str, int], columns: list[list[Any]],
                       snapshots: Sequence[tuple[str, int, bytes]]) -> None:
        query = _FENCE + (_FENCED_SNAPSHOTS if snapshots else "") + _FENCE_PASSED
        params: list[Any] = [list(claimed), list(claimed.values()), len(claimed), *columns]
        if snapshots:
            params += [list(c) for c in zip(*snapshots)]
        row = conn.execute(query, params).fetchone()
        passed = set(row[0] if row else ())
        if len(passed) != len(claimed):
            raise stale_epochs({cid: epoch for cid, epoch in claimed.items() if cid not in passed})

    def claim(self, campaign_id: str, node: str) -> int:
        with self._use(self._writes, "cannot claim a campaign in") as conn:
            row = conn.execute(_CLAIM, (campaign_id, node)).fetchone()
        assert row is not None
        return int(row[0])

    def written(self, batch: Sequence[WriteItem]) -> bool:
        marks = batch_marks(batch)
        with self._use(self._writes, "cannot read from") as conn:
            rows = conn.cursor(binary=True).execute(
                "SELECT e.campaign, e.seq, e.data FROM events e "
                "JOIN unnest(%s::text[], %s::bigint[]) AS m(campaign, seq) USING (campaign, seq)",
                ([m[0] for m in marks], [m[1] for m in marks]),
            ).fetchall()
        return judge_written(marks, {(cid, seq): data for cid, seq, data in rows})

    # -- reading ---------------------------------------------------------------------------

    def _read(self, query: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run a read; once more on a fresh connection if the first failed for
        now (a connection left idle across a server restart fails its first
        use, and a read can be asked twice)."""
        try:
            with self._use(self._reads, "cannot read from") as conn:
                return query(conn)
        except StoreUnavailable:
            with self._use(self._reads, "cannot read from") as conn:
                return query(conn)

    def campaign_ids(self) -> list[str]:
        # A loose index scan over the primary key: one probe per campaign,
        # where DISTINCT would read every event.
        rows = self._read(lambda conn: conn.execute(
            "WITH RECURSIVE c(campaign) AS ("
            " SELECT min(campaign) FROM events"
            " UNION ALL SELECT (SELECT min(campaign) FROM events WHERE campaign > c.campaign)"
            " FROM c WHERE c.campaign IS NOT NULL)"
            " SELECT campaign FROM c WHERE campaign IS NOT NULL ORDER BY campaign"
        ).fetchall())
        return [row[0] for row in rows]

    def finished_campaigns(self) -> dict[str, str]:
        rows = self._read(lambda conn: conn.cursor(binary=True).execute(
            "SELECT campaign, type, ts, data FROM events WHERE seq = 1 AND campaign IN "
            "(SELECT campaign FROM events WHERE type = 'campaign_finished')"
        ).fetchall())
        return {cid: Event.decode(1, typ, ts, data).data["code"] for cid, typ, ts, data in rows}

    def load(self, campaign_id: str) -> StoredCampaign:
        def snapshot_and_tail(conn: psycopg.Connection[Any]) -> StoredCampaign:
            with conn.transaction():
                # One view of the campaign: the snapshot and the tail after it.
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                row = conn.cursor(binary=True).execute(
                    "SELECT seq, state FROM snapshots WHERE campaign = %s", (campaign_id,)).fetchone()
                seq, blob = (row[0], bytes(row[1])) if row else (0, None)
                return StoredCampaign(campaign_id, blob, seq, self._events(conn, campaign_id, seq))

        return self._read(snapshot_and_tail)

    def events(self, campaign_id: str, after: int = 0) -> list[Event]:
        return self._read(lambda conn: self._events(conn, campaign_id, after))

    @staticmethod
    def _events(conn: psycopg.Connection[Any], campaign_id: str, after: int) -> list[Event]:
        # Binary results: bytea comes back as it is, not hex-encoded.
        cur = conn.cursor(binary=True).execute(
            "SELECT seq, type, ts, data FROM events WHERE campaign = %s AND seq > %s ORDER BY seq",
            (campaign_id, after),
        )
        return [Event.decode(seq, typ, ts, data) for seq, typ, ts, data in cur]
