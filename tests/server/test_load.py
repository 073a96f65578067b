"""Fifty concurrent 5 MB uploads to a real server: all accepted, none lost or mixed up.

The server is a separate ``jupyter server`` process, so its memory is measured from
``/proc`` (RSS before and after, and the peak, VmHWM). The per-user rate and
concurrency limits are raised so that every upload is admitted at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.ingest.store import Catalog

from .live import LiveServer, Uploaded, csv_block, live_server, rss_kib

UPLOADS = 50
UPLOAD_BYTES = 5_000_000
# Generous: 50 uploads in flight are 50 handlers and form parsers, not 50 bodies.
RSS_GROWTH_BOUND_KIB = 300 * 1024

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = {
        "DSAGENT_MAX_CONCURRENT_UPLOADS_PER_USER": str(UPLOADS * 2),
        "DSAGENT_REQUESTS_PER_MINUTE_PER_USER": "10000",
        "DSAGENT_MIN_FREE_DISK_BYTES": str(100_000_000),
    }
    with live_server(tmp_path / "home", tmp_path / "dsagent", settings) as running:
        yield running


def test_fifty_concurrent_uploads_are_all_stored_once_with_their_hashes(
    server: LiveServer,
) -> None:
    bodies = [csv_block(seed, UPLOAD_BYTES) for seed in range(UPLOADS)]
    sent = {f"load-{i:02d}.csv": hashlib.sha256(body).hexdigest() for i, body in enumerate(bodies)}
    assert len(set(sent.values())) == UPLOADS
    before = rss_kib(server.pid)

    def send(index: int) -> Uploaded:
        body = bodies[index]
        return server.upload(f"load-{index:02d}.csv", [body], len(body))

    with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
        answers = list(pool.map(send, range(UPLOADS)))
    after = rss_kib(server.pid)

    growth = after["VmRSS"] - before["VmRSS"]
    peak_growth = after["VmHWM"] - before["VmRSS"]
    figures = (
        f"server RSS before {before['VmRSS'] // 1024} MiB, after {after['VmRSS'] // 1024} MiB "
        f"(growth {growth // 1024} MiB), peak {after['VmHWM'] // 1024} MiB "
        f"(peak growth {peak_growth // 1024} MiB)"
    )
    print(f"\n{UPLOADS} x {UPLOAD_BYTES // 1_000_000} MB concurrent uploads: {figures}")

    assert [a.status for a in answers] == [201] * UPLOADS, [
        (a.status, a.body) for a in answers if a.status != 201
    ]
    assert {a.body["name"]: a.body["sha256"] for a in answers} == sent

    data = DataDir.prepare(server.data_dir)
    catalog = Catalog(data.catalog_db, data.ready, data.thumbnails)
    try:
        records = catalog.list(limit=10_000)
    finally:
        catalog.close()
    assert len(records) == UPLOADS
    assert {r.name: r.sha256 for r in records} == sent
    assert len({r.id for r in records}) == UPLOADS
    assert sorted(p.name for p in data.ready.iterdir()) == sorted(r.path for r in records)
    for record in records:
        on_disk = hashlib.sha256((data.ready / record.path).read_bytes()).hexdigest()
        assert on_disk == record.sha256, record.name
    assert list(data.quarantine.iterdir()) == []

    status, verified = server.get_json("/dsagent/api/audit/verify")
    assert status == 200 and verified["ok"] is True, verified
    audit = AuditLog(data.audit_db)
    try:
        assert audit.verify().ok
        accepted = audit.query(kind="upload.accepted", limit=1000)
    finally:
        audit.close()
    assert sorted(r.details["sha256"] for r in accepted) == sorted(sent.values())

    assert growth < RSS_GROWTH_BOUND_KIB, figures
    assert peak_growth < RSS_GROWTH_BOUND_KIB, figures
