"""Upload throughput through HTTP, and the server's memory during a 1 GB upload.

Against a real ``jupyter server`` subprocess on loopback, prints MB/s for one client
(1 x 256 MB) and for eight parallel clients (8 x 64 MB), each against writing the same
bytes to a local file (with fsync, as the server does) in the same run, and the ratio.
Two times per upload: when the client has sent the whole body (transfer into
quarantine: hashing, writing) and when the 201 arrives (plus sandboxed validation
and publishing). Then, on a fresh server, the peak RSS growth of the server process
during one 1 GB upload (sampled from /proc, plus VmHWM; target < 100 MB).

Run: .venv/bin/python benchmarks/upload_throughput.py [big_mb]   (default 1000)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The live-server helper lives with the server tests; run from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.live import LiveServer, csv_stream, live_server, rss_kib, stream_size

MB = 1_000_000
SETTINGS = {
    "DSAGENT_MAX_UPLOAD_BYTES": str(2_000 * MB),
    "DSAGENT_MAX_CONCURRENT_UPLOADS_PER_USER": "16",
    "DSAGENT_MIN_FREE_DISK_BYTES": str(100 * MB),
    # The upload is a big table: let validation see all of it.
    "DSAGENT_MAX_CSV_ROWS": str(10**9),
    "DSAGENT_MAX_CSV_CELLS": str(10**10),
    "DSAGENT_SANDBOX_CPU_SECONDS": "1800",
    "DSAGENT_SANDBOX_WALL_SECONDS": "1800",
    "DSAGENT_UPLOAD_TIMEOUT_SECONDS": "1800",
}


class Timed:
    """Wraps a body iterator and records when its last byte was handed to the socket."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.sent_at = 0.0

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        self.sent_at = time.perf_counter()


def upload(server: LiveServer, name: str, size: int, seed: int) -> tuple[float, float]:
    """Seconds until the body was sent and until the 201, for one streamed upload."""
    started = time.perf_counter()
    body = Timed(csv_stream(size, seed=seed))
    answer = server.upload(name, body, stream_size(size), timeout=1800)
    if answer.status != 201:
        raise RuntimeError(f"{name}: {answer.status} {answer.body}")
    return body.sent_at - started, time.perf_counter() - started


def local_write(directory: Path, sizes: list[int]) -> float:
    """Seconds to write the same streams to local files and fsync each."""
    started = time.perf_counter()
    for seed, size in enumerate(sizes):
        path = directory / f"baseline-{seed}.csv"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for piece in csv_stream(size, seed=seed):
                os.write(fd, piece)
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
    return time.perf_counter() - started


def throughput(server: LiveServer, scratch: Path, clients: int, size: int) -> None:
    with ThreadPoolExecutor(max_workers=clients) as pool:
        started = time.perf_counter()
        times = list(
            pool.map(lambda i: upload(server, f"t{clients}-{i}.csv", size, i), range(clients))
        )
        answered = time.perf_counter() - started
    sent = max(t[0] for t in times)
    total_mb = clients * stream_size(size) / MB
    baseline = local_write(scratch, [size] * clients)
    print(
        f"{clients} x {size // MB} MB: body sent {total_mb / sent:7.1f} MB/s, "
        f"201 received {total_mb / answered:7.1f} MB/s; local file write "
        f"{total_mb / baseline:7.1f} MB/s; ratio sent/local {baseline / sent:.2f}, "
        f"201/local {baseline / answered:.2f}"
    )


def peak_rss_growth(server: LiveServer, size: int) -> None:
    warm = 1 * MB  # one small upload first: imports and the sandbox worker are warm
    upload(server, "warm.csv", warm, 99)
    baseline = rss_kib(server.pid)["VmRSS"]
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, rss_kib(server.pid)["VmRSS"])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        sent, answered = upload(server, "big.csv", size, 7)
    finally:
        done.set()
        sampler.join(5)
    hwm = rss_kib(server.pid)["VmHWM"]
    growth = (max(peak, hwm) - baseline) / 1024
    print(
        f"1 x {size // MB} MB: body sent in {sent:.1f} s, 201 after {answered:.1f} s; server "
        f"RSS idle {baseline / 1024:.0f} MiB, sampled peak {peak / 1024:.0f} MiB, VmHWM "
        f"{hwm / 1024:.0f} MiB: peak growth {growth:.1f} MiB (target < 100 MB)"
    )


def main(big_mb: int = 1000) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dsagent-bench-") as tmp:
        root = Path(tmp)
        with live_server(root / "home", root / "dsagent", SETTINGS) as server:
            throughput(server, root, 1, 256 * MB)
            throughput(server, root, 8, 64 * MB)
        with live_server(root / "home2", root / "dsagent2", SETTINGS) as server:
            peak_rss_growth(server, big_mb * MB)
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
