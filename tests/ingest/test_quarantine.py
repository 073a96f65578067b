"""Quarantine: random names, counted and hashed on the way, cut off at the limit."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from jupyter_dsagent.exceptions import UploadTooLarge
from jupyter_dsagent.ingest.quarantine import QuarantineWriter, human_bytes, receive, sweep


@pytest.fixture
def qdir(tmp_path: Path) -> Path:
    path = tmp_path / "quarantine"
    path.mkdir()
    return path


class CountingStream(io.RawIOBase):
    """An endless stream that records how much was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.read_bytes += size
        return b"x" * size


def test_receive_counts_hashes_and_names_randomly(qdir: Path) -> None:
    payload = os.urandom(3_000_000)
    received = receive(io.BytesIO(payload), qdir, max_bytes=10_000_000)
    assert received.size == len(payload)
    assert received.sha256 == hashlib.sha256(payload).hexdigest()
    assert received.path.parent == qdir
    assert received.path.read_bytes() == payload
    assert stat.S_IMODE(received.path.stat().st_mode) == 0o600
    assert receive(io.BytesIO(payload), qdir, 10_000_000).path != received.path


def test_stream_is_cut_off_as_soon_as_it_passes_the_limit(qdir: Path) -> None:
    stream = CountingStream()
    with pytest.raises(UploadTooLarge, match=r"larger than 5\.0 MB") as caught:
        receive(stream, qdir, max_bytes=5_000_000)  # type: ignore[arg-type]
    assert caught.value.http_status == 413
    assert stream.read_bytes == 5_000_001  # reads never reach past the first byte too many
    assert list(qdir.iterdir()) == []


def test_a_written_upload_is_hashed_on_the_way_and_synced_in_the_background(qdir: Path) -> None:
    pieces = [os.urandom(65_536) for _ in range(20)]
    with QuarantineWriter(qdir, 10_000_000) as writer:
        for piece in pieces:
            writer.write(piece)
        received = writer.finish()
    assert received.digest.done()  # known at once; only the fsync may still run
    assert received.sha256 == hashlib.sha256(b"".join(pieces)).hexdigest()
    received.wait_durable()
    assert received.path.read_bytes() == b"".join(pieces)
    with pytest.raises(ValueError, match="already finished"):
        writer.write(b"more")


def test_exactly_the_limit_is_accepted(qdir: Path) -> None:
    assert receive(io.BytesIO(b"y" * 4096), qdir, max_bytes=4096).size == 4096


def test_writer_removes_its_file_when_the_block_fails(qdir: Path) -> None:
    with pytest.raises(ConnectionResetError), QuarantineWriter(qdir, 100) as writer:
        writer.write(b"partial")
        raise ConnectionResetError("client went away")
    assert list(qdir.iterdir()) == []


def test_sweep_removes_leftovers(qdir: Path) -> None:
    (qdir / "a.part").write_bytes(b"x")
    (qdir / "b.d").mkdir()
    (qdir / "b.d" / "m").write_bytes(b"y")
    assert sweep(qdir) == 2
    assert list(qdir.iterdir()) == []


@pytest.mark.parametrize(
    ("n", "text"),
    [(812, "812 bytes"), (50_000_000, "50.0 MB"), (546_000_000_000, "546.0 GB")],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text
