"""Open the project's SQLite files the one way they are all opened.

The file is created private (0600) before SQLite touches it, so its -wal and -shm
files inherit the mode; WAL and a busy timeout let the server and several kernels
share it. Only the durability differs: evidence (the audit log) syncs fully.
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
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn
