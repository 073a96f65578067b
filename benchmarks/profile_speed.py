"""Speed and memory of profile() on a 1 000 000 x 20 mixed frame, without sampling.

Prints the seconds profile() takes, the ratio to ``df.describe(include="all")`` timed
in the same process, and, in separate runs, the peak extra memory each allocates
(tracemalloc, which sees numpy and pandas buffers).

    python benchmarks/profile_speed.py [rows]
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from jupyter_dsagent.profiling import profile


def mixed_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=rows)
    floats[rng.random(rows) < 0.05] = np.nan
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"], dtype=object)
    columns: dict[str, Any] = {}
    for i in range(6):
        columns[f"float_{i}"] = floats * (i + 1) + i
    for i in range(4):
        columns[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), rows)
    columns["int_nullable"] = pd.array(
        np.where(rng.random(rows) < 0.1, None, rng.integers(0, 100, rows)), dtype="Int64"
    )
    columns["skewed"] = rng.lognormal(0, 2, rows)
    for i in range(3):
        columns[f"cat_{i}"] = words[rng.integers(0, 5, rows)]
    columns["category"] = pd.Categorical(words[rng.integers(0, 5, rows)])
    columns["text_id"] = np.array([f"id-{i}" for i in range(rows)], dtype=object)
    columns["flag"] = rng.random(rows) < 0.3
    columns["when"] = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 10**8, rows), unit="s"
    )
    columns["duration"] = pd.to_timedelta(rng.integers(0, 10**6, rows), unit="s")
    return pd.DataFrame(columns)


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def peak_bytes(run: Callable[[], object]) -> int:
    # A separate run: tracemalloc slows allocation-heavy code down too much to time it.
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    frame = mixed_frame(rows)
    print(f"frame: {frame.shape[0]} x {frame.shape[1]},", end=" ")
    print(f"{frame.memory_usage(deep=False).sum() / 1e6:.0f} MB shallow")

    def describe() -> object:
        return frame.describe(include="all")

    def full() -> object:
        return profile(frame, sample=False, use_cache=False)

    def sampled() -> object:
        return profile(frame, use_cache=False)

    describe_s, profile_s, sampled_s = seconds(describe), seconds(full), seconds(sampled)
    describe_peak, profile_peak = peak_bytes(describe), peak_bytes(full)
    print(f"describe(include='all'): {describe_s:.2f} s, peak extra {describe_peak / 1e6:.0f} MB")
    print(f"profile(sample=False):   {profile_s:.2f} s, peak extra {profile_peak / 1e6:.0f} MB")
    print(f"ratio profile/describe:  {profile_s / describe_s:.2f}")
    print(f"profile(default, samples 100 000 rows): {sampled_s:.2f} s")


if __name__ == "__main__":
    main()
