"""The catalog: one SQLite row per file in ready/, shared by the server and kernels.

Crash safety comes from ordering. Files are renamed into ready/ first and their rows
inserted afterwards, in one transaction for an archive and all its members; a
deletion removes the rows first and the files afterwards. A crash between the two
steps can therefore leave only a file without a row, never a row without its file,
and :meth:`Catalog.reconcile` (run at start-up) removes such orphans.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models import UploadRecord, UploadWarning
from ..sqlite_files import open_private_sqlite

__all__ = ["Catalog"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY,
        parent TEXT REFERENCES uploads (id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        metadata TEXT NOT NULL,
        warnings TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS uploads_parent ON uploads (parent, position)",
    "CREATE INDEX IF NOT EXISTS uploads_name ON uploads (name, created)",
)
_COLUMNS = "id, parent, name, kind, size, sha256, created, path, metadata, warnings"


class Catalog:
    """Upload records in ``catalog.sqlite``; files live in ``ready_dir``, an image's
    thumbnail in ``thumbnails_dir`` as ``<id>.jpg``."""

    def __init__(
        self, path: Path, ready_dir: Path, thumbnails_dir: Path, *, busy_timeout: float = 30.0
    ) -> None:
        self.path = path
        self.ready_dir = ready_dir
        self.thumbnails_dir = thumbnails_dir
        self._lock = threading.Lock()
        self._conn = open_private_sqlite(path, busy_timeout=busy_timeout, synchronous="FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        with self._transaction() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _select(self, where: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(
                f"SELECT {_COLUMNS} FROM uploads {where}", tuple(params)
            ).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- writing ---------------------------------------------------------------------------
    def add(self, record: UploadRecord) -> None:
        """Insert a record and its children (files must already be in ready/)."""
        with self._transaction() as conn:
            for parent, position, item in _flatten(record):
                conn.execute(
                    f"INSERT INTO uploads ({_COLUMNS}, position) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        item.id,
                        parent,
                        item.name,
                        item.kind,
                        item.size,
                        item.sha256,
                        item.created,
                        item.path,
                        json.dumps(item.metadata, default=str),
                        json.dumps([w.model_dump() for w in item.warnings]),
                        position,
                    ),
                )

    def delete(self, upload_id: str) -> UploadRecord | None:
        """Remove a top-level record, its children and their files; return what was removed."""
        record = self.get(upload_id)
        if record is None:
            return None
        with self._transaction() as conn:
            conn.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
        for _, _, item in _flatten(record):
            self._remove_files(item)
        return record

    def thumbnail_path(self, upload_id: str) -> Path:
        return self.thumbnails_dir / f"{upload_id}.jpg"

    def _remove_files(self, record: UploadRecord) -> None:
        (self.ready_dir / record.path).unlink(missing_ok=True)
        self.thumbnail_path(record.id).unlink(missing_ok=True)

    # -- reading ---------------------------------------------------------------------------
    def get(self, upload_id: str) -> UploadRecord | None:
        rows = self._select("WHERE id = ?", (upload_id,))
        return self._with_children(rows[0]) if rows else None

    def find(self, name_or_id: str) -> UploadRecord | None:
        """By id, else the newest record with that name (a member's path inside its archive
        counts as a name too)."""
        found = self.get(name_or_id)
        if found is not None:
            return found
        rows = self._select(
            "WHERE name = ? ORDER BY created DESC, rowid DESC LIMIT 1", (name_or_id,)
        )
        return self._with_children(rows[0]) if rows else None

    def find_same(self, name: str, sha256: str) -> UploadRecord | None:
        """A top-level record of the same name and bytes, to reuse instead of re-storing."""
        rows = self._select(
            "WHERE name = ? AND sha256 = ? AND parent IS NULL ORDER BY created DESC LIMIT 1",
            (name, sha256),
        )
        return self._with_children(rows[0]) if rows else None

    def list(self, *, limit: int = 100) -> list[UploadRecord]:
        """Top-level records, newest first, each with its children."""
        rows = self._select(
            "WHERE parent IS NULL ORDER BY created DESC, rowid DESC LIMIT ?",
            (max(1, min(limit, 10_000)),),
        )
        return [self._with_children(row) for row in rows]

    def _with_children(self, row: tuple[Any, ...]) -> UploadRecord:
        children = self._select("WHERE parent = ? ORDER BY position", (row[0],))
        return _record(row, [self._with_children(child) for child in children])

    # -- start-up --------------------------------------------------------------------------
    def reconcile(self) -> tuple[int, int]:
        """Delete files (and thumbnails) without a row, and rows without a file.

        Run only where no upload can be in flight (the server's start-up).
        Returns ``(files_removed, rows_removed)``.
        """
        with self._lock:
            rows = self._conn.execute("SELECT id, path FROM uploads").fetchall()
        known_files = {path for _, path in rows}
        known_thumbnails = {f"{upload_id}.jpg" for upload_id, _ in rows}
        files_removed = 0
        for directory, known in (
            (self.ready_dir, known_files),
            (self.thumbnails_dir, known_thumbnails),
        ):
            for entry in directory.iterdir():
                if entry.name not in known:
                    entry.unlink(missing_ok=True)
                    files_removed += 1
        missing = [upload_id for upload_id, path in rows if not (self.ready_dir / path).exists()]
        with self._transaction() as conn:
            conn.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in missing])
        return files_removed, len(missing)


def _flatten(
    record: UploadRecord, parent: str | None = None, position: int = 0
) -> Iterator[tuple[str | None, int, UploadRecord]]:
    yield parent, position, record
    for index, child in enumerate(record.children):
        yield from _flatten(child, record.id, index)


def _record(row: tuple[Any, ...], children: list[UploadRecord]) -> UploadRecord:
    upload_id, parent, name, kind, size, sha256, created, path, metadata, warnings = row
    return UploadRecord(
        id=upload_id,
        parent=parent,
        name=name,
        kind=kind,
        size=size,
        sha256=sha256,
        created=created,
        path=path,
        metadata=json.loads(metadata),
        warnings=[UploadWarning(**w) for w in json.loads(warnings)],
        children=children,
    )
