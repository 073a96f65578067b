"""Properties of the whole pipeline on arbitrary input.

Whatever bytes arrive under whatever name: only the library's own errors come out,
quarantine is empty afterwards, ready/ holds exactly the catalogued files, and
nothing is written outside the data dir.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.exceptions import IngestError
from jupyter_dsagent.ingest.limits import Limits
from jupyter_dsagent.ingest.pipeline import Ingestor
from jupyter_dsagent.ingest.sandbox import Sandbox

pytestmark = pytest.mark.slow

MAGIC = [
    b"",
    b"PK\x03\x04",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"GIF89a",
    b"PAR1",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"\xef\xbb\xbf",
    b"[{",
    b"a,b\n",
]
NAMES = st.sampled_from(
    [
        "d.csv",
        "d.tsv",
        "d.txt",
        "d.json",
        "d.parquet",
        "d.xlsx",
        "d.zip",
        "p.png",
        "p.jpg",
        "p.gif",
        "p.webp",
        "../../x.csv",
        "p.heic",
    ]
)
# (NUL in names is covered by hand-built archives in test_archive.py: zipfile cannot write it.)
MEMBER_NAMES = st.text(alphabet="ab./\\:\x01é", min_size=1, max_size=12).map(lambda s: s + ".csv")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ingestor, Path]]:
    root = tmp_path_factory.mktemp("properties")
    data = DataDir.prepare(root / "data")
    limits = Limits.default(sandbox_wall_seconds=30, max_zip_uncompressed_bytes=5_000_000)
    sandbox = Sandbox(memory_bytes=limits.sandbox_memory_bytes, cpu_seconds=10, wall_seconds=30)
    yield Ingestor(data, limits, AuditLog(data.audit_db), sandbox=sandbox), root
    sandbox.close()


def check_invariants(ingestor: Ingestor, root: Path) -> None:
    assert list(ingestor.data.quarantine.iterdir()) == []
    catalogued = {
        r.path
        for top in ingestor.catalog.list(limit=10_000)
        for r in [top, *top.children, *(g for c in top.children for g in c.children)]
    }
    assert {p.name for p in ingestor.data.ready.iterdir()} == catalogued
    outside = [p for p in root.rglob("*") if ingestor.data.root not in [p, *p.parents]]
    assert outside == []


def attempt(ingestor: Ingestor, payload: bytes, name: str) -> None:
    """Only our own refusals may come out; anything else fails the property."""
    with contextlib.suppress(IngestError):
        ingestor.ingest(io.BytesIO(payload), name, actor="fuzz")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(prefix=st.sampled_from(MAGIC), body=st.binary(max_size=2048), name=NAMES)
def test_random_bytes_raise_only_our_errors_and_leave_nothing_behind(
    world: tuple[Ingestor, Path], prefix: bytes, body: bytes, name: str
) -> None:
    ingestor, root = world
    attempt(ingestor, prefix + body, name)
    check_invariants(ingestor, root)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    members=st.dictionaries(MEMBER_NAMES, st.binary(max_size=300), min_size=1, max_size=4),
    corrupt_at=st.none() | st.integers(min_value=0, max_value=400),
    nested=st.booleans(),
)
def test_random_small_archives_raise_only_our_errors_and_leave_nothing_behind(
    world: tuple[Ingestor, Path],
    members: dict[str, bytes],
    corrupt_at: int | None,
    nested: bool,
) -> None:
    ingestor, root = world
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    payload = bytearray(buffer.getvalue())
    if corrupt_at is not None and corrupt_at < len(payload):
        payload[corrupt_at] ^= 0xFF
    if nested:
        outer = io.BytesIO()
        with zipfile.ZipFile(outer, "w") as archive:
            archive.writestr("inner.zip", bytes(payload))
        payload = bytearray(outer.getvalue())
    attempt(ingestor, bytes(payload), "upload.zip")
    check_invariants(ingestor, root)
