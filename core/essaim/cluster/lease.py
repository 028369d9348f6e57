"""Campaign leases on PostgreSQL: which process owns which campaign.

Every campaign of a cluster on PostgreSQL has a row in ``essaim_owners``
(its epoch, see :meth:`essaim.store.Store.claim`, and the number of its
advisory lock). The process that holds the campaign's session-level
advisory lock is its owner; the others serve it as gateways. Why an
advisory lock and not a Valkey ``SET NX PX`` key (docs/scaling.md):

- the lock lives where the fence lives: the epoch every commit checks is in
  the same database, so no second system's view of ownership can disagree;
- a killed owner's lock goes the moment the kernel closes its socket: the
  server sees the end of the connection at once, so a ``kill -9`` is taken
  over within one scan, not after a lease expires;
- a paused or partitioned owner loses it after ``LEASE_SECONDS``: the
  session runs with ``idle_session_timeout``, and only the scans of
  :mod:`essaim.cluster.ownership` (every ``SCAN_SECONDS``) keep it busy, so a process that stops
  scanning has its session ended by the server, and its locks with it;
- Valkey runs without persistence here: a lease key would vanish on every
  Valkey restart and move every campaign at once.

The lock session must reach PostgreSQL directly (or through a pooler in
*session* mode): a transaction-mode pooler would hand the lock to whichever
client uses the server connection next.

All methods are synchronous (psycopg, like the store) and serialised; the
cluster engine calls them from worker threads. Any failure of the session
raises :class:`LeaseLost`: every lock is gone with it (or soon will be),
and the caller reconnects and takes its campaigns back where their epoch
did not move (:meth:`Leases.relock`).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from essaim.cluster.ownership import LEASE_SECONDS, LeaseLost

__all__ = ["Leases"]


class Leases:
    """The advisory locks of this process, on one PostgreSQL session."""

    def __init__(self, conninfo: dict[str, Any], where: str, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self._conninfo = conninfo
        self.where = where
        self.lease_seconds = lease_seconds
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        #: The first key of every lock: the schema's own, so two stores in two
        #: schemas of one database (tests) never share a lock.
        self._space = 0
        #: Campaign -> lock number, of the locks held on the current session.
        self.held: dict[str, int] = {}

    # -- the session ------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            if self._conn is None or self._conn.closed:
                raise LeaseLost(f"no lock session to PostgreSQL at {self.where}")
            try:
                yield self._conn
            except psycopg.Error as exc:
                self._drop()
                raise LeaseLost(f"the lock session to PostgreSQL at {self.where} failed: "
                                f"{str(exc).strip() or type(exc).__name__}") from None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self.held.clear()
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def connect(self) -> None:
        """A new lock session (holding nothing yet); raises LeaseLost if PostgreSQL is unreachable."""
        with self._lock:
            self._drop()
            try:
                conn = psycopg.connect(**self._conninfo, autocommit=True)
                conn.execute(f"SET idle_session_timeout = {int(self.lease_seconds * 1000)}")
                row = conn.execute("SELECT current_schema()").fetchone()
            except psycopg.Error as exc:
                raise LeaseLost(f"cannot open a lock session to PostgreSQL at {self.where}: "
                                f"{str(exc).strip() or type(exc).__name__}") from None
            # A signed 32-bit key (advisory locks take two int4 keys).
            self._space = zlib.crc32(str(row[0] if row else "").encode()) - 2**31
            self._conn = conn

    @property
    def backend_pid(self) -> int | None:
        """The server process of the lock session (for an operator's pg_terminate_backend)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    def close(self) -> None:
        """End the session: every lock goes with it (a clean shutdown hands over at once)."""
        with self._lock:
            self._drop()

    # -- locks ------------------------------------------------------------------------------

    def register(self, campaign_ids: Collection[str], node: str) -> None:
        """Give campaigns stored before any claim (a store first used by one
        process) their row, epoch 0, so scans find them."""
        if not campaign_ids:
            return
        with self._session() as conn:
            conn.execute("INSERT INTO essaim_owners (campaign, epoch, node) SELECT c, 0, %s FROM unnest(%s::text[]) c "
                         "ON CONFLICT (campaign) DO NOTHING", (node, list(campaign_ids)))

    def lock_new(self, campaign_id: str, node: str) -> None:
        """A campaign being created here: its row and its lock in one
        transaction, so no scan of another process sees it unlocked."""
        with self._session() as conn, conn.transaction():
            row = conn.execute("INSERT INTO essaim_owners (campaign, epoch, node) VALUES (%s, 0, %s) "
                               "RETURNING lock_id", (campaign_id, node)).fetchone()
            assert row is not None
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (self._space, row[0]))
            self.held[campaign_id] = row[0]

    def scan(self, mine: Collection[str], *, take: bool) -> list[str]:
        """Keep the session alive; with ``take``, lock every campaign nobody
        holds (its owner died, or stepped down) and return them: this process
        now takes them over. Campaigns in ``mine`` are skipped (a lock is
        re-entrant: taking ours again would count it twice)."""
        with self._session() as conn:
            if not take:
                conn.execute("SELECT 1")
                return []
            # OFFSET 0 keeps the filter on ``mine`` before the locking call.
            rows = conn.execute(
                "SELECT c.campaign, c.lock_id FROM (SELECT campaign, lock_id FROM essaim_owners "
                "WHERE campaign <> ALL(%s::text[]) OFFSET 0) c WHERE pg_try_advisory_lock(%s, c.lock_id)",
                (list(mine), self._space)).fetchall()
        taken = [campaign for campaign, _ in rows]
        self.held.update(rows)
        return taken

    def relock(self, epochs: dict[str, int]) -> dict[str, bool]:
        """After a new session: lock each campaign this process owned again,
        and keep it only if its epoch did not move meanwhile (nobody took it
        over). Returns campaign -> kept; a campaign not kept is unlocked."""
        kept: dict[str, bool] = {}
        with self._session() as conn:
            for campaign_id, epoch in epochs.items():
                row = conn.execute("SELECT lock_id, epoch, pg_try_advisory_lock(%s, lock_id) FROM essaim_owners "
                                   "WHERE campaign = %s", (self._space, campaign_id)).fetchone()
                if row is None:
                    kept[campaign_id] = False
                    continue
                lock_id, now, locked = row
                kept[campaign_id] = bool(locked) and now == epoch
                if locked and now != epoch:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._space, lock_id))
                elif locked:
                    self.held[campaign_id] = lock_id
        return kept

    def unlock(self, campaign_id: str) -> None:
        """Let another process take the campaign (this one stepped down)."""
        lock_id = self.held.pop(campaign_id, None)
        if lock_id is None:
            return
        with self._session() as conn:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._space, lock_id))
