"""Ingestion throughput and memory, against a plain file copy in the same run.

For a CSV and a ZIP of CSVs at two sizes (to show memory stays flat as files grow),
prints MB/s of the whole pipeline (receive + hash + fsync, sniff, sandboxed
validation, publish) and two ratios, each against a baseline timed in the same process:
``shutil.copyfile`` (kernel-side copy; the target is >= 0.5) and a streaming copy
through Python in 1 MiB chunks (what any path that must see the bytes pays). Memory:
growth of the calling process, and the sandbox worker's peak minus its idle peak
(a warm worker with pandas imported, measured first).

Run: .venv/bin/python benchmarks/ingest_throughput.py [size_mb ...]   (default 50 200)
"""

from __future__ import annotations

import csv
import io
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.ingest.limits import Limits
from jupyter_dsagent.ingest.pipeline import Ingestor

MB = 1_000_000


def make_csv(path: Path, size: int) -> None:
    """Mixed numbers and text, some quoted fields with commas and newlines."""
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma, delta", "line\nbreak", "Köln", "naïve"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "x", "y", "label", "note", "count"])
        row = 0
        while handle.tell() < size:
            for _ in range(10_000):
                writer.writerow(
                    [
                        row,
                        f"{rng.random():.6f}",
                        f"{rng.gauss(0, 1):.4f}",
                        rng.choice(words),
                        rng.choice(words) * rng.randint(1, 3),
                        rng.randint(0, 10_000),
                    ]
                )
                row += 1


def make_zip(path: Path, size: int, scratch: Path) -> None:
    """A ZIP of several CSVs whose compressed size is about ``size``."""
    part = scratch / "part.csv"
    make_csv(part, size // 2)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        index = 0
        while path.stat().st_size < size:
            archive.write(part, f"data/part{index}.csv")
            index += 1
    part.unlink()


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1000  # Linux reports KiB


def measure(kind: str, size_mb: int, root: Path) -> None:
    source = root / f"input.{kind}"
    size = max(size_mb * MB, 10_000)
    (make_zip(source, size, root) if kind == "zip" else make_csv(source, size))
    actual = source.stat().st_size / MB

    started = time.perf_counter()
    shutil.copyfile(source, root / "copy")
    copy_seconds = time.perf_counter() - started
    (root / "copy").unlink()
    started = time.perf_counter()
    with open(source, "rb") as reader, open(root / "copy", "wb") as writer:
        while chunk := reader.read(1 << 20):
            writer.write(chunk)
    stream_seconds = time.perf_counter() - started
    (root / "copy").unlink()

    data = DataDir.prepare(root / f"data-{kind}-{size_mb}")
    limits = Limits.default(
        max_upload_bytes=10 * size + MB,
        max_csv_rows=10**9,
        max_csv_cells=10**11,
        max_zip_uncompressed_bytes=100 * size,
        max_zip_entries=10_000,
        sandbox_wall_seconds=3600,
        sandbox_cpu_seconds=3600,
    )
    ingestor = Ingestor(data, limits, AuditLog(data.audit_db))
    ingestor.ingest(io.BytesIO(b"a,b\n1,2\n"), "warm-up.csv", actor="bench")
    self_before = rss_mb(resource.RUSAGE_SELF)
    started = time.perf_counter()
    record = ingestor.ingest(source, source.name, actor="bench")
    seconds = time.perf_counter() - started
    self_growth = rss_mb(resource.RUSAGE_SELF) - self_before
    ingestor.close()  # ends the worker, so its peak shows in RUSAGE_CHILDREN
    worker_peak = rss_mb(resource.RUSAGE_CHILDREN)
    members = len(record.children)
    print(
        f"{kind:>4} {actual:6.1f} MB{f' ({members} members)' if members else '':>13}: "
        f"pipeline {actual / seconds:6.1f} MB/s | copyfile {actual / copy_seconds:7.1f} MB/s, "
        f"ratio {copy_seconds / seconds:4.2f} (target 0.50) | streamed copy "
        f"{actual / stream_seconds:6.1f} MB/s, ratio {stream_seconds / seconds:4.2f} | "
        f"caller RSS +{self_growth:5.1f} MB, worker peak {worker_peak:6.1f} MB"
    )
    shutil.rmtree(data.root)
    source.unlink()


def main(sizes: list[int]) -> None:
    """Each measurement runs in its own process, so the worker peaks do not mix."""
    print("ratio = baseline time / pipeline time, both measured in the same process.")
    print("The 0 MB rows give the worker's idle peak (interpreter, pandas, numpy).")
    for size_mb in [0, *sizes]:
        for kind in ("csv", "zip"):
            subprocess.run([sys.executable, __file__, "--one", kind, str(size_mb)], check=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        with tempfile.TemporaryDirectory() as tmp:
            measure(sys.argv[2], int(sys.argv[3]), Path(tmp))
    else:
        main([int(a) for a in sys.argv[1:]] or [50, 200])
