"""What model calls used and cost, per user, model and UTC day, in SQLite.

The server and kernels calling models directly share one ``usage.sqlite`` in the data
directory. A call first *reserves* its prompt tokens (and their price): the budgets
are checked against what was charged plus every reservation still in flight, and the
reservation is written, in one ``BEGIN IMMEDIATE`` transaction, so concurrent calls
from several processes cannot all pass on the same remaining budget. When the call
ends it is *charged* with the tokens and cost the provider reported, or *released*
when it failed. Reservations of a process that died are ignored after two hours.

Users are stored by pseudonym (the audit log's salted hash), never by name.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import BudgetExhausted
from ..sqlite_files import open_private_sqlite
from .budgets import Budgets, Spent, seconds_until_next_day, utc_day

__all__ = ["HOLD_SECONDS", "Reservation", "UsageStore"]

#: A reservation older than this belongs to a call that can no longer be running.
HOLD_SECONDS = 2 * 3600.0

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS usage (
        actor TEXT NOT NULL,
        day TEXT NOT NULL,
        model TEXT NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (actor, day, model))""",
    "CREATE INDEX IF NOT EXISTS usage_day ON usage (day)",
    """CREATE TABLE IF NOT EXISTS holds (
        id TEXT PRIMARY KEY,
        actor TEXT NOT NULL,
        day TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        cost REAL NOT NULL,
        created REAL NOT NULL)""",
)

# Spent by the actor (total, today) and by everyone (total, today), holds included.
_SPENT = """
WITH spent(actor, day, tokens, cost) AS (
    SELECT actor, day, tokens_in + tokens_out, cost FROM usage
    UNION ALL SELECT actor, day, tokens, cost FROM holds
)
SELECT
    COALESCE(SUM(CASE WHEN actor = :actor THEN tokens END), 0),
    COALESCE(SUM(CASE WHEN actor = :actor THEN cost END), 0),
    COALESCE(SUM(CASE WHEN actor = :actor AND day = :day THEN tokens END), 0),
    COALESCE(SUM(CASE WHEN actor = :actor AND day = :day THEN cost END), 0),
    COALESCE(SUM(tokens), 0),
    COALESCE(SUM(cost), 0),
    COALESCE(SUM(CASE WHEN day = :day THEN tokens END), 0),
    COALESCE(SUM(CASE WHEN day = :day THEN cost END), 0)
FROM spent
"""


@dataclass(frozen=True)
class Reservation:
    """A call's claim on the budgets, from reserve() until charge() or release()."""

    id: str
    actor: str
    day: str
    held: bool  # False when no budget is set: nothing was written


class UsageStore:
    """Usage totals and budget reservations in one SQLite file, safe across processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        clock: Any = time.time,
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        with self._locked() as conn, self._write(conn):
            for statement in _SCHEMA:
                conn.execute(statement)

    # -- connection ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # Usage is bookkeeping, not evidence: a power cut may lose the last calls.
            conn = open_private_sqlite(
                self.path, busy_timeout=self._busy_timeout, synchronous="NORMAL"
            )
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connect()

    @staticmethod
    @contextmanager
    def _write(conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- the life of a call ----------------------------------------------------------------
    def reserve(self, actor: str, *, tokens: int, cost: float, budgets: Budgets) -> Reservation:
        """Check every budget for a call of ``tokens`` prompt tokens costing ``cost``, and
        hold them; BudgetExhausted names the first budget that would be exceeded."""
        now = self._clock()
        day = utc_day(now)
        reservation = Reservation(uuid.uuid4().hex, actor, day, held=bool(budgets))
        if not budgets:
            return reservation
        with self._locked() as conn, self._write(conn):
            conn.execute("DELETE FROM holds WHERE created < ?", (now - HOLD_SECONDS,))
            row = conn.execute(_SPENT, {"actor": actor, "day": day}).fetchone()
            spent = {
                ("user", "total"): Spent(row[0], row[1]),
                ("user", "day"): Spent(row[2], row[3]),
                ("server", "total"): Spent(row[4], row[5]),
                ("server", "day"): Spent(row[6], row[7]),
            }
            for limit in budgets.limits:
                used = spent[(limit.scope, limit.period)].of(limit.unit)
                needed = tokens if limit.unit == "tokens" else cost
                if used + needed > limit.amount or used >= limit.amount:
                    raise BudgetExhausted(
                        limit.refusal(used, needed),
                        retry_after=seconds_until_next_day(now) if limit.period == "day" else None,
                    )
            conn.execute(
                "INSERT INTO holds VALUES (?, ?, ?, ?, ?, ?)",
                (reservation.id, actor, day, tokens, cost, now),
            )
        return reservation

    def charge(
        self,
        reservation: Reservation,
        *,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost: float,
    ) -> None:
        """Replace the reservation by what the call actually used."""
        with self._locked() as conn, self._write(conn):
            if reservation.held:
                conn.execute("DELETE FROM holds WHERE id = ?", (reservation.id,))
            conn.execute(
                """INSERT INTO usage VALUES (?, ?, ?, 1, ?, ?, ?)
                   ON CONFLICT (actor, day, model) DO UPDATE SET
                       calls = calls + 1,
                       tokens_in = tokens_in + excluded.tokens_in,
                       tokens_out = tokens_out + excluded.tokens_out,
                       cost = cost + excluded.cost""",
                (reservation.actor, reservation.day, model, tokens_in, tokens_out, cost),
            )

    def release(self, reservation: Reservation) -> None:
        """Drop the reservation of a call that used nothing (refused or failed upstream)."""
        if not reservation.held:
            return
        with self._locked() as conn, self._write(conn):
            conn.execute("DELETE FROM holds WHERE id = ?", (reservation.id,))

    # -- reading ---------------------------------------------------------------------------
    def spent(self, actor: str) -> dict[tuple[str, str], Spent]:
        """``{(scope, period): Spent}`` for ``actor`` and the server, calls in flight included."""
        day = utc_day(self._clock())
        with self._locked() as conn:
            row = conn.execute(_SPENT, {"actor": actor, "day": day}).fetchone()
        return {
            ("user", "total"): Spent(row[0], row[1]),
            ("user", "day"): Spent(row[2], row[3]),
            ("server", "total"): Spent(row[4], row[5]),
            ("server", "day"): Spent(row[6], row[7]),
        }

    def rows(self) -> list[dict[str, Any]]:
        """Every ``(actor, day, model)`` row, for reports."""
        with self._locked() as conn:
            found = conn.execute(
                "SELECT actor, day, model, calls, tokens_in, tokens_out, cost FROM usage "
                "ORDER BY actor, model, day"
            ).fetchall()
        keys = ("actor", "day", "model", "calls", "tokens_in", "tokens_out", "cost")
        return [dict(zip(keys, row, strict=True)) for row in found]

    def today(self) -> str:
        return utc_day(self._clock())
