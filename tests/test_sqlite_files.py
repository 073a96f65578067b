"""The project's SQLite files stay usable when several processes open and close them."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.ingest.store import Catalog
from jupyter_dsagent.sqlite_files import open_private_sqlite

OTHER_PROCESS_APPENDS = """
import sys
from jupyter_dsagent.audit import AuditLog
log = AuditLog(sys.argv[1])
log.append("config.loaded", actor="worker", subject="other process")
log.close()
"""


def test_a_second_connection_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """Opening another connection in this process, then a worker process opening and
    closing its own, must leave this process's log writable (the WAL is not deleted
    from under it)."""
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path)
    log.append("config.loaded", actor="kernel", subject="first")
    second = AuditLog(path)  # e.g. the ingest pipeline's own log in the same kernel
    second.append("config.loaded", actor="kernel", subject="second")
    subprocess.run([sys.executable, "-c", OTHER_PROCESS_APPENDS, str(path)], check=True)
    assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
    log.append("config.loaded", actor="kernel", subject="after the worker")
    second.append("config.loaded", actor="kernel", subject="after the worker")
    assert [r.subject for r in log.query(limit=2)] == ["after the worker"] * 2
    assert log.verify().ok
    log.close()
    second.close()


def test_the_catalog_is_opened_the_same_way(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite", tmp_path, tmp_path)
    other = Catalog(tmp_path / "catalog.sqlite", tmp_path, tmp_path)
    assert other.list() == catalog.list() == []
    assert stat.S_IMODE((tmp_path / "catalog.sqlite").stat().st_mode) == 0o600
    catalog.close()
    other.close()


def test_a_new_file_is_private_and_an_existing_one_is_left_alone(tmp_path: Path) -> None:
    created = tmp_path / "new.sqlite"
    open_private_sqlite(created, busy_timeout=1, synchronous="FULL").close()
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    shared = tmp_path / "shared.sqlite"
    shared.touch(mode=0o640)
    shared.chmod(0o640)
    open_private_sqlite(shared, busy_timeout=1, synchronous="FULL").close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
