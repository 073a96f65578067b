"""Audit log throughput: chained, redacted appends against plain SQLite inserts.

Both write one row per transaction to a WAL database with synchronous=FULL, so the
ratio shows what the hash chain, redaction and locking cost on top of SQLite itself.
Also times verify() over the whole chain.
Run: .venv/bin/python benchmarks/bench_audit.py [records]
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from jupyter_dsagent.audit import AuditLog

DETAILS = {"upload": "3f2a9c", "size": 123456, "warnings": ["encoding_guessed"], "ms": 12.5}


def plain_inserts(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, kind TEXT, details TEXT)")
    started = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?, ?)", (i, "tool.run", json.dumps(DETAILS)))
        conn.execute("COMMIT")
    return time.perf_counter() - started


def audit_appends(path: Path, n: int) -> tuple[float, float]:
    log = AuditLog(path)
    started = time.perf_counter()
    for _ in range(n):
        log.append("tool.run", actor="bench", subject="s", details=DETAILS)
    appended = time.perf_counter() - started
    started = time.perf_counter()
    assert log.verify().ok
    return appended, time.perf_counter() - started


def main(n: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        baseline = plain_inserts(Path(tmp) / "plain.sqlite", n)
        appended, verified = audit_appends(Path(tmp) / "audit.sqlite", n)
    print(f"plain SQLite inserts (baseline): {n / baseline:9.0f} rows/s")
    print(f"AuditLog.append:                 {n / appended:9.0f} records/s")
    print(f"ratio append time / insert time: {appended / baseline:9.2f}")
    print(f"AuditLog.verify:                 {n / verified:9.0f} records/s ({n} records)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
