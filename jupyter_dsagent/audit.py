"""Tamper-evident, append-only audit log in SQLite, shared by the server and kernels.

Every record carries a sequence number and ``hash = SHA-256(prev_hash || canonical
record)``, so editing, deleting or reordering a record breaks the chain and
:meth:`AuditLog.verify` names the first bad record. The chain cannot reveal a
truncation of its newest records or a complete rewrite by someone with the same file
rights: for that, compare against a checkpoint held elsewhere (the server prints the
chain head to its log at start; ``verify(checkpoint=...)`` checks one).

Writers serialise on SQLite's write lock (``BEGIN IMMEDIATE`` in WAL mode with a busy
timeout), so any number of processes can append and the chain stays linear.
Everything written is redacted first, and records hold ids and hashes, never file
contents, prompts or credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .exceptions import AuditError, AuditRecordError
from .redaction import redact
from .sqlite_files import open_private_sqlite

__all__ = ["GENESIS_HASH", "KINDS", "AuditLog", "AuditRecord", "Checkpoint", "VerifyResult"]

GENESIS_HASH = "0" * 64
MAX_DETAILS_BYTES = 16_384
SCHEMA_VERSION = "1"

#: Every kind of event the project records; an unknown kind is refused, so a typo
#: cannot create a category nobody queries.
KINDS = frozenset(
    {
        "config.loaded",
        "upload.accepted",
        "upload.rejected",
        "upload.deleted",
        "llm.call",
        "llm.denied",
        "tool.run",
        "automl.start",
        "automl.end",
        "suggestion.inserted",
        "budget.exhausted",
        "auth.denied",
    }
)
OUTCOMES = frozenset({"ok", "denied", "error", "cancelled", "timeout"})

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS records (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        time TEXT NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        outcome TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS records_kind ON records (kind, seq)",
    "CREATE INDEX IF NOT EXISTS records_time ON records (time)",
    # Refuse edits through SQL; the chain still catches anyone who drops these triggers.
    """CREATE TRIGGER IF NOT EXISTS records_append_only_update BEFORE UPDATE ON records
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS records_append_only_delete BEFORE DELETE ON records
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
)
_COLUMNS = "seq, id, time, actor, kind, subject, outcome, details, prev_hash, hash"


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as stored; ``details`` is already redacted."""

    seq: int
    id: str
    time: str
    actor: str
    kind: str
    subject: str
    outcome: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> AuditRecord:
        seq, id_, time, actor, kind, subject, outcome, details, prev_hash, hash_ = row
        return cls(
            seq, id_, time, actor, kind, subject, outcome, json.loads(details), prev_hash, hash_
        )


@dataclass(frozen=True)
class Checkpoint:
    """The chain head at some moment: keep it outside to detect truncation later."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse ``SEQ:HASH`` as printed by the server log and ``audit head``."""
        seq, _, hash_ = text.strip().partition(":")
        if not seq.isdigit() or len(hash_) != 64:
            raise ValueError(f"{text!r} is not a checkpoint; expected SEQ:HASH (64 hex digits)")
        return cls(int(seq), hash_.lower())


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain; ``first_bad`` is the id (or seq) of the first bad record."""

    ok: bool
    records: int
    first_bad: str | None = None
    first_bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "first_bad": self.first_bad,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


def canonical(fields: Mapping[str, Any]) -> str:
    """The exact text that is hashed: sorted keys, no spaces, no NaN."""
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """``SHA-256(prev_hash || canonical(fields))`` as hex."""
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


def _hashed_fields(record: AuditRecord) -> dict[str, Any]:
    fields = record.to_dict()
    del fields["prev_hash"], fields["hash"]
    return fields


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AuditLog:
    """Append-only, hash-chained audit log in one SQLite file.

    Safe to use from several threads (one connection behind a lock) and several
    processes (SQLite's write lock orders the appends).
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._salt = b""
        with self._locked() as conn:
            self._init_schema(conn)

    # -- connection ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            conn = open_private_sqlite(
                self.path, busy_timeout=self._busy_timeout, synchronous="FULL"
            )
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connect()
            except (sqlite3.Error, OSError) as exc:
                raise AuditError(f"The audit log {self.path} could not be used: {exc}.") from exc

    @staticmethod
    @contextmanager
    def _write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already; keep the real error
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        with self._write_transaction(conn):
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('actor_salt', ?)", (secrets.token_hex(32),)
            )
            (salt,) = conn.execute("SELECT value FROM meta WHERE key = 'actor_salt'").fetchone()
        self._salt = bytes.fromhex(salt)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- writing -------------------------------------------------------------------------
    def hash_actor(self, user: str) -> str:
        """Pseudonymise a user name with this install's salt (stable within an install)."""
        digest = hmac.new(self._salt, user.encode("utf-8"), hashlib.sha256).hexdigest()
        return "u_" + digest[:20]

    def append(
        self,
        kind: str,
        *,
        actor: str,
        subject: str = "",
        outcome: str = "ok",
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Redact, chain and store one record; return it as stored.

        ``actor`` is the plain user name: only its salted hash is written.
        """
        if kind not in KINDS:
            raise AuditRecordError(f"Unknown audit kind {kind!r}; known kinds: {sorted(KINDS)}.")
        if outcome not in OUTCOMES:
            raise AuditRecordError(
                f"Unknown audit outcome {outcome!r}; use one of {sorted(OUTCOMES)}."
            )
        clean_details = self._clean_details(details or {})
        clean_subject = redact(str(subject))[:500]
        with self._locked() as conn, self._write_transaction(conn):
            last = conn.execute(
                "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
            fields = {
                "seq": seq,
                "id": uuid.uuid4().hex,
                "time": _utc_now(),
                "actor": self.hash_actor(actor),
                "kind": kind,
                "subject": clean_subject,
                "outcome": outcome,
                "details": clean_details,
            }
            record = AuditRecord(**fields, prev_hash=prev_hash, hash=chain_hash(prev_hash, fields))
            conn.execute(
                f"INSERT INTO records ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    record.seq,
                    record.id,
                    record.time,
                    record.actor,
                    record.kind,
                    record.subject,
                    record.outcome,
                    canonical(clean_details),
                    record.prev_hash,
                    record.hash,
                ),
            )
        return record

    @staticmethod
    def _clean_details(details: Mapping[str, Any]) -> dict[str, Any]:
        try:
            # Render non-JSON values (paths, datetimes) to text first so redaction sees them.
            plain = json.loads(json.dumps(dict(details), default=str, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise AuditRecordError(f"Audit details must be JSON data: {exc}.") from None
        clean = redact(plain)
        size = len(canonical(clean).encode("utf-8"))
        if size > MAX_DETAILS_BYTES:
            raise AuditRecordError(
                f"Audit details are {size:,} bytes; at most {MAX_DETAILS_BYTES:,} are kept. "
                "Record ids and hashes, not contents."
            )
        return clean

    # -- reading -------------------------------------------------------------------------
    def query(
        self, *, kind: str | None = None, since: str | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first. ``kind`` matches exactly, or a family with no dot (``upload``)."""
        clauses, params = [], []
        if kind:
            if "." in kind:
                clauses.append("kind = ?")
                params.append(kind)
            else:
                clauses.append("kind LIKE ? ESCAPE '\\'")
                params.append(
                    kind.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
                )
        if since:
            clauses.append("time >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._locked() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM records {where} ORDER BY seq DESC LIMIT ?",
                (*params, max(1, min(int(limit), 10_000))),
            ).fetchall()
        return [AuditRecord.from_row(row) for row in rows]

    def head(self) -> Checkpoint:
        """The newest record's sequence number and hash (seq 0 when empty)."""
        with self._locked() as conn:
            row = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return Checkpoint(*row) if row else Checkpoint(0, GENESIS_HASH)

    def __len__(self) -> int:
        with self._locked() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def verify(self, *, checkpoint: Checkpoint | None = None) -> VerifyResult:
        """Walk the whole chain; report the first record that was edited, moved or follows a gap.

        With ``checkpoint``, also fail when that earlier head is no longer in the chain
        (the log was truncated or rewritten since it was taken).
        """
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        seen_checkpoint = checkpoint is None or checkpoint.seq == 0
        with self._locked() as conn:
            # A separate read transaction gives a consistent snapshot while writers go on.
            cursor = conn.execute(f"SELECT {_COLUMNS} FROM records ORDER BY seq")
            for row in cursor:
                try:
                    record = AuditRecord.from_row(row)
                    problem = self._check_link(record, expected_seq, prev_hash)
                except (ValueError, TypeError) as exc:
                    problem = f"is not readable ({exc})"
                if problem:
                    cursor.close()
                    return VerifyResult(
                        False,
                        count,
                        str(row[1]),
                        int(row[0]),
                        f"record {row[0]} ({row[1]}) {problem}",
                    )
                if checkpoint and record.seq == checkpoint.seq:
                    seen_checkpoint = record.hash == checkpoint.hash
                expected_seq, prev_hash, count = record.seq + 1, record.hash, count + 1
        if not seen_checkpoint:
            return VerifyResult(
                False,
                count,
                None,
                checkpoint.seq if checkpoint else None,
                f"the checkpoint {checkpoint} is no longer in the chain "
                "(records were truncated or rewritten)",
            )
        return VerifyResult(True, count)

    @staticmethod
    def _check_link(record: AuditRecord, expected_seq: int, prev_hash: str) -> str | None:
        if record.seq != expected_seq:
            return (
                f"has sequence number {record.seq} where {expected_seq} was expected "
                "(a record before it was deleted or moved)"
            )
        if record.prev_hash != prev_hash:
            return "does not link to the record before it (records were removed or reordered)"
        if chain_hash(prev_hash, _hashed_fields(record)) != record.hash:
            return "does not match its hash (it was edited)"
        return None
