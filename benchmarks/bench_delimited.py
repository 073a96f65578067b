"""inspect_delimited throughput against a plain file copy, and its peak memory.

Writes a CSV of about 200 MB (ints, negative floats, dates, text, quoted fields holding
commas, doubled quotes and line breaks, a few formula-like cells) to a temporary
directory, then times in the same run, best of three:

- ``shutil.copyfile`` of that file (on Linux the kernel copies it: ``sendfile``);
- a user-space copy in 1 MiB reads and writes, for reference;
- ``inspect_delimited`` on it;
- ``inspect_delimited`` on the same rows led by an empty first column (every record
  starts with the separator, which the scan must look into: pandas skips a record of
  separators and blanks), and its ratio to the plain file.

Peak memory is measured in a fresh child process: the growth of the resident set's
high-water mark (VmHWM, reset just before the call) during one inspection.
Run: .venv/bin/python benchmarks/bench_delimited.py [megabytes]
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from jupyter_dsagent.ingest.delimited import inspect_delimited
from jupyter_dsagent.ingest.limits import Limits

HEADER = "id,date,category,value,count,city,comment\n"
CITIES = ["Zürich", "Lyon", "São Paulo", "Kraków", "Oslo", "Austin", "Pune", "Leeds"]
COMMENTS = [
    "plain text",
    '"with a comma, inside"',
    '"quoted ""word"" here"',
    '"two\nlines"',
    "",
    "ok",
]
# One row in 1,000 holds a formula-like cell, quoted the way pandas and Excel write it.
FORMULAS = ['"=HYPERLINK(""http://x"")"', "-not a number"]
BLOCK_ROWS = 50_000


def _block(rng: np.random.Generator, first_id: int, lead: str) -> bytes:
    """One block of rows; built from numpy draws so generation stays quick."""
    values = rng.normal(0, 1000, BLOCK_ROWS)
    counts = rng.integers(-500, 500, BLOCK_ROWS)
    days = rng.integers(1, 29, BLOCK_ROWS)
    cities = rng.integers(0, len(CITIES), BLOCK_ROWS)
    comments = rng.integers(0, len(COMMENTS), BLOCK_ROWS)
    lines = []
    for i in range(BLOCK_ROWS):
        comment = FORMULAS[i % 2000 // 1000] if i % 1000 == 0 else COMMENTS[comments[i]]
        lines.append(
            f"{lead}{first_id + i},2024-03-{days[i]:02d},cat{i % 17},{values[i]:.4f},{counts[i]},"
            f"{CITIES[cities[i]]},{comment}\n"
        )
    return "".join(lines).encode("utf-8")


def write_csv(path: Path, megabytes: int, lead: str = "") -> int:
    """Write about ``megabytes`` MB of CSV (each line starting with ``lead``) and return
    the number of data rows."""
    rng = np.random.default_rng(0)
    rows = 0
    with path.open("wb") as handle:
        handle.write((lead + HEADER).encode())
        while handle.tell() < megabytes * 1_000_000:
            handle.write(_block(rng, rows, lead))
            rows += BLOCK_ROWS
    return rows


def user_space_copy(source: Path, target: Path) -> None:
    buffer = bytearray(1 << 20)
    with source.open("rb", buffering=0) as reader, target.open("wb", buffering=0) as writer:
        while count := reader.readinto(buffer):
            writer.write(memoryview(buffer)[:count])


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def limits() -> Limits:
    return Limits.default(max_csv_rows=10**9, max_csv_cells=10**11)


def _high_water_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _peak_child(path: str, queue: multiprocessing.Queue[tuple[float, float]]) -> None:
    """Runs in a fresh process: the high-water mark before and after one inspection."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current resident set (Linux >= 4.0)
    before = _high_water_mb()
    inspect_delimited(Path(path), limits())
    queue.put((before, _high_water_mb()))


def peak_memory(path: Path) -> tuple[float, float]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[float, float]] = context.Queue()
    child = context.Process(target=_peak_child, args=(str(path), queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main(megabytes: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, copy = Path(tmp) / "big.csv", Path(tmp) / "copy.csv"
        rows = write_csv(source, megabytes)
        size_mb = source.stat().st_size / 1e6
        copied = best_of(3, lambda: shutil.copyfile(source, copy))
        copied_user = best_of(3, lambda: user_space_copy(source, copy))
        copy.unlink()
        result = inspect_delimited(source, limits())
        inspected = best_of(3, lambda: inspect_delimited(source, limits()))
        before_mb, peak_mb = peak_memory(source)
        led = Path(tmp) / "led.csv"
        led_rows = write_csv(led, megabytes, lead=",")
        led_mb = led.stat().st_size / 1e6
        led_result = inspect_delimited(led, limits())
        led_inspected = best_of(3, lambda: inspect_delimited(led, limits()))
    assert led_result.metadata["rows"] == led_rows, (led_result.metadata["rows"], led_rows)
    meta = result.metadata
    assert meta["rows"] == rows, (meta["rows"], rows)
    print(f"file:                     {size_mb:7.1f} MB, {rows:,} rows x {meta['columns']} columns")
    print(f"shutil.copyfile:          {size_mb / copied:7.0f} MB/s ({copied:.3f} s)")
    print(f"user-space copy (1 MiB):  {size_mb / copied_user:7.0f} MB/s ({copied_user:.3f} s)")
    print(f"inspect_delimited:        {size_mb / inspected:7.0f} MB/s ({inspected:.3f} s)")
    print(f"ratio to shutil.copyfile: {copied / inspected:7.2f}")
    print(f"ratio to user-space copy: {copied_user / inspected:7.2f}")
    sampled = " (in the first 64 MiB)" if meta["formula_cells_sampled"] else ""
    print(f"formula cells:            {meta['formula_cells']:7,}{sampled}")
    print(
        f"empty first column:       {led_mb / led_inspected:7.0f} MB/s ({led_inspected:.3f} s),"
        f" {(led_mb / led_inspected) / (size_mb / inspected):.2f}x the plain file's MB/s"
    )
    print(
        f"peak RSS growth:          {peak_mb - before_mb:7.1f} MB (RSS before {before_mb:.0f} MB)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
