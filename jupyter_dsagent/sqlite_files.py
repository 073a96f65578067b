"""Open the project's SQLite files the one way they are all opened.

The file is created private (0600) before SQLite touches it, so its -wal and -shm
files inherit the mode; WAL and a busy timeout let the server and several kernels
share it. Only the durability differs: evidence (the audit log) syncs fully.

An existing file is never opened outside SQLite: closing any descriptor of a file
drops every POSIX lock this process holds on it, SQLite's included, and another
process closing its connection would then take the file for unused and delete the
-wal and -shm under this one (a "disk I/O error" on the next write).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["open_private_sqlite"]


def open_private_sqlite(
    path: str | os.PathLike[str] | Path, *, busy_timeout: float, synchronous: str
) -> sqlite3.Connection:
    """An autocommit connection usable from any thread (callers hold their own lock)."""
    _create_private(path)
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def _create_private(path: str | os.PathLike[str] | Path) -> None:
    """Create the file 0600 if it is missing; leave an existing one untouched."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    os.close(fd)
