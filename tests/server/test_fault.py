"""A server killed (SIGKILL) mid-upload leaves nothing behind once it starts again.

The first server accepts one upload, then is killed while a large one is streaming into
quarantine. A second server on the same data directory must sweep the partial file,
keep ready/ and the catalog in step, keep the audit chain intact and accept uploads.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.ingest.store import Catalog

from .live import LiveServer, csv_block, csv_stream, live_server, stream_size

pytestmark = pytest.mark.slow

LIMIT_BYTES = 300_000_000
LARGE_BYTES = 200_000_000
# Bytes that must be in the .part file before the kill: the upload is under way.
IN_QUARANTINE_BYTES = 4_000_000
WAIT_SECONDS = 60.0

SETTINGS = {
    "DSAGENT_MAX_UPLOAD_BYTES": str(LIMIT_BYTES),
    "DSAGENT_MIN_FREE_DISK_BYTES": str(100_000_000),
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "dsagent"


def _paced(pieces: Iterator[bytes], resume: threading.Event, after: int) -> Iterator[bytes]:
    """Yield ``pieces``; after ``after`` bytes, wait (bounded) until ``resume`` is set."""
    sent = 0
    for piece in pieces:
        yield piece
        sent += len(piece)
        if sent >= after:
            resume.wait(WAIT_SECONDS)


def _part_file(quarantine: Path, min_bytes: int) -> Path:
    """Poll quarantine (bounded) until a ``.part`` file holds ``min_bytes``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for entry in quarantine.glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_size >= min_bytes:
                    return entry
        time.sleep(0.05)
    raise AssertionError(f"no .part file of {min_bytes} bytes in {WAIT_SECONDS} s")


def _kill_mid_upload(server: LiveServer) -> Path:
    """Stream a large upload, SIGKILL the server once it is partly in quarantine."""
    resume = threading.Event()
    outcome: list[BaseException | int] = []

    def send() -> None:
        pieces = _paced(csv_stream(LARGE_BYTES), resume, after=2 * IN_QUARANTINE_BYTES)
        try:
            outcome.append(server.upload("large.csv", pieces, stream_size(LARGE_BYTES)).status)
        except (OSError, ValueError) as exc:  # the server vanished under the client
            outcome.append(exc)

    client = threading.Thread(target=send, daemon=True)
    client.start()
    try:
        part = _part_file(server.data_dir / "quarantine", IN_QUARANTINE_BYTES)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(WAIT_SECONDS)
    finally:
        resume.set()
        client.join(WAIT_SECONDS)
    assert not client.is_alive(), "the client did not notice the server was gone"
    assert outcome and not isinstance(outcome[0], int), f"the upload finished: {outcome}"
    return part


def test_restart_after_sigkill_mid_upload_sweeps_quarantine_and_keeps_catalog_consistent(
    home: Path, data_dir: Path
) -> None:
    first = csv_block(1, 1_000_000)
    with live_server(home, data_dir, SETTINGS) as server:
        kept = server.upload("kept.csv", [first], len(first))
        assert kept.status == 201, kept.body
        part = _kill_mid_upload(server)
        assert server.process.returncode == -signal.SIGKILL
    assert part.exists(), "the killed server had no chance to clean up: the sweep must"

    with live_server(home, data_dir, SETTINGS) as server:
        data = DataDir.prepare(data_dir)
        assert list(data.quarantine.iterdir()) == []

        catalog = Catalog(data.catalog_db, data.ready, data.thumbnails)
        try:
            records = catalog.list(limit=10_000)
            assert [r.id for r in records] == [kept.body["id"]]
            assert sorted(p.name for p in data.ready.iterdir()) == sorted(r.path for r in records)

            status, verified = server.get_json("/dsagent/api/audit/verify")
            assert status == 200 and verified["ok"] is True, verified

            fresh = csv_block(2, 1_000_000)
            answer = server.upload("fresh.csv", [fresh], len(fresh))
            assert answer.status == 201, answer.body
            records = catalog.list(limit=10_000)
        finally:
            catalog.close()
        assert {r.name for r in records} == {"kept.csv", "fresh.csv"}
        assert sorted(p.name for p in data.ready.iterdir()) == sorted(r.path for r in records)
        assert list(data.quarantine.iterdir()) == []
        status, verified = server.get_json("/dsagent/api/audit/verify")
        assert status == 200 and verified["ok"] is True, verified
