"""Speed, memory and summary size of profile(), against baselines run in the same process.

Prints, for a 1 000 000 x 20 mixed-type frame (exact mode, ``sample=False``) and for
every table in ../shared/data: the seconds ``profile()`` takes and its ratio to
``df.describe(include="all")`` (target: at most 1.5 on the big frame); the peak extra
memory of each (tracemalloc, which sees numpy buffers and pandas hashtables) against the
frame's own size (target: under 1x); the time of a cache hit; the summary's token count
for every table (target: all within 1 500) with the first summary's time (it imports
litellm) and a warm one's. When ydata-profiling is importable here, or installed in
``--ydata-python``, the ratio of its minimal mode to profile() on the same frame (target:
40x faster), at ``--ydata-rows`` rows (ydata's own time grows too fast for a million).
ydata-profiling 4.18 needs numpy<2.4, scipy<1.17 and matplotlib<=3.10, older than this
project's environment, so it lives in its own venv:
``python -m venv /tmp/ydata-venv && /tmp/ydata-venv/bin/pip install ydata-profiling``.

Each timed call runs after one warm-up call on a small frame, so one-off imports are
not counted against either side; times are the best of a few runs on both sides, as
wall time and, for the headline ratios, as CPU time too (``time.process_time``), which
other processes on a shared machine disturb less. Against ydata, ours is timed just
before and just after ydata's runs (the better kept, both printed), because this
machine's speed drifts by up to half over minutes.

    python benchmarks/profile_speed.py [--rows N] [--ydata-rows N] [--ydata-python PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
YDATA_VENV_PYTHON = Path("/tmp/ydata-venv/bin/python")
#: Tables in the shared data that tests/ingest/manifest.py does not list.
EXTRA_TABLES = ("messy/pd_speech_features_ACTUALLY_HTML.csv",)
ZIPPED_TABLES = (
    ("zips/Bike-Sharing-Dataset.zip", "day.csv"),
    ("zips/Bike-Sharing-Dataset.zip", "hour.csv"),
)


def mixed_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """20 columns: floats with NaN, ints, nullable ints, skewed, text, category, ids,
    booleans, time zone aware dates and durations."""
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


def seconds(
    run: Callable[[], object], repeat: int = 1, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Best time of ``repeat`` runs: wall time, or CPU time with ``time.process_time``."""
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        run()
        best = min(best, clock() - started)
    return best


def peak_bytes(run: Callable[[], object]) -> int:
    # A separate run: tracemalloc slows allocation-heavy code down too much to time it.
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def frame_bytes(frame: pd.DataFrame) -> tuple[int, int]:
    """(shallow, deep) memory of the frame itself."""
    shallow = int(frame.memory_usage(index=True, deep=False).sum())
    return shallow, int(frame.memory_usage(index=True, deep=True).sum())


def shared_tables() -> dict[str, pd.DataFrame]:
    sys.path.insert(0, str(REPO))
    from tests.ingest.manifest import PROPER_READS

    tables = {
        name: pd.read_csv(SHARED_DATA / name, low_memory=False, **kwargs)
        for name, kwargs in PROPER_READS.items()
    }
    for name in EXTRA_TABLES:
        tables[name] = pd.read_csv(SHARED_DATA / name, low_memory=False)
    for archive, member in ZIPPED_TABLES:
        with zipfile.ZipFile(SHARED_DATA / archive) as bundle:
            data = bundle.read(member)
        tables[f"{archive}:{member}"] = pd.read_csv(io.BytesIO(data))
    return tables


def big_frame(rows: int) -> None:
    from jupyter_dsagent.profiling import profile

    frame = mixed_frame(rows)
    shallow, deep = frame_bytes(frame)
    print(f"== {rows} x 20 mixed frame: {shallow / 1e6:.0f} MB shallow, {deep / 1e6:.0f} MB deep")
    small = frame.head(1000)
    small.describe(include="all")
    profile(small, sample=False, use_cache=False)  # warm-up: one-off imports and caches

    def describe() -> object:
        return frame.describe(include="all")

    def exact() -> object:
        return profile(frame, sample=False, use_cache=False)

    describe_s, profile_s = seconds(describe, repeat=2), seconds(exact, repeat=2)
    cpu = time.process_time
    describe_cpu, profile_cpu = seconds(describe, 2, cpu), seconds(exact, 2, cpu)
    sampled_s = seconds(lambda: profile(frame, use_cache=False))
    print(f"describe(include='all'):     {describe_s:6.2f} s wall, {describe_cpu:6.2f} s CPU")
    print(f"profile(sample=False):       {profile_s:6.2f} s wall, {profile_cpu:6.2f} s CPU")
    print(
        f"ratio profile/describe:      {profile_s / describe_s:6.2f} wall,"
        f" {profile_cpu / describe_cpu:.2f} CPU   (target <= 1.5)"
    )
    print(f"profile() sampled 100 000:   {sampled_s:6.2f} s")
    first = profile(frame, sample=False)
    hit_s = seconds(lambda: profile(frame, sample=False), repeat=3)
    assert profile(frame, sample=False) is first
    print(f"cache hit (fingerprint):     {hit_s * 1000:6.1f} ms")
    describe_peak, profile_peak = peak_bytes(describe), peak_bytes(exact)
    print(
        f"peak extra memory: describe {describe_peak / 1e6:.0f} MB, profile"
        f" {profile_peak / 1e6:.0f} MB = {profile_peak / shallow:.2f}x the frame's shallow"
        f" size ({profile_peak / deep:.2f}x deep)   (target < 1x)"
    )


def real_tables() -> None:
    from jupyter_dsagent.llm import count_tokens
    from jupyter_dsagent.profiling import profile

    tables = shared_tables()
    print(f"\n== {len(tables)} tables in ../shared/data (exact mode; best of 3 runs each)")
    header = f"{'table':58} {'shape':>12} {'describe':>9} {'profile':>9} {'ratio':>6}"
    print(header + f" {'tokens':>6} {'summary':>8}")
    first_summary = None
    worst_tokens, profile_total, describe_total = 0, 0.0, 0.0
    for name, frame in tables.items():
        describe_s = seconds(lambda f=frame: f.describe(include="all"), repeat=3)
        profile_s = seconds(lambda f=frame: profile(f, sample=False, use_cache=False), repeat=3)
        result = profile(frame)
        if first_summary is None:  # the first summary imports litellm and its tokenizer
            first_summary = seconds(result.summary)
        summary_s = seconds(result.summary, repeat=3)
        tokens = count_tokens(result.summary(max_tokens=1500))
        worst_tokens = max(worst_tokens, tokens)
        profile_total += profile_s
        describe_total += describe_s
        shape = f"{frame.shape[0]}x{frame.shape[1]}"
        print(
            f"{name[:58]:58} {shape:>12} {describe_s:8.3f}s {profile_s:8.3f}s"
            f" {profile_s / describe_s:6.2f} {tokens:6d} {summary_s * 1000:6.1f}ms"
        )
    print(
        f"all tables: describe {describe_total:.2f} s, profile {profile_total:.2f} s,"
        f" ratio {profile_total / describe_total:.2f}"
    )
    print(f"largest summary: {worst_tokens} tokens   (target <= 1500 for every table)")
    print(f"first summary() in the process: {first_summary:.2f} s (imports litellm once)")


YDATA_SCRIPT = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, {benchmarks!r})
from profile_speed import mixed_frame
from ydata_profiling import ProfileReport
frame = mixed_frame({rows})
ProfileReport(frame.head(1000), minimal=True, progress_bar=False).to_html()
best = {{}}
for _ in range({repeat}):
    for step in ("stats", "report"):
        started, used = time.perf_counter(), time.process_time()
        report = ProfileReport(frame, minimal=True, progress_bar=False)
        report.get_description() if step == "stats" else report.to_html()
        wall, cpu = time.perf_counter() - started, time.process_time() - used
        old = best.get(step, (float("inf"), float("inf")))
        best[step] = (min(old[0], wall), min(old[1], cpu))
print(json.dumps(best))
"""


def ydata(rows: int, python: Path | None, repeat: int) -> None:
    from jupyter_dsagent.profiling import profile

    print(f"\n== ydata-profiling minimal mode, {rows} x 20 mixed frame (best of {repeat} runs)")
    try:
        import ydata_profiling  # noqa: F401

        interpreter = Path(sys.executable)
    except ImportError:
        interpreter = python if python is not None and python.exists() else None
    if interpreter is None:
        print("ydata-profiling is not installed here nor in --ydata-python; skipped")
        return
    frame = mixed_frame(rows)
    profile(frame.head(1000), sample=False, use_cache=False)._repr_html_()
    repeats = max(repeat, 15)  # cheap runs: more of them, to see past other processes

    def stats() -> object:
        return profile(frame, sample=False, use_cache=False)

    def report() -> object:
        return stats()._repr_html_()  # type: ignore[attr-defined]

    def ours() -> dict[str, tuple[float, float]]:
        """Best wall and CPU seconds of each step, and describe's wall seconds."""
        timed = {
            step: (seconds(run, repeats), seconds(run, repeats, time.process_time))
            for step, run in (("stats", stats), ("report", report))
        }
        timed["describe"] = (seconds(lambda: frame.describe(include="all"), repeats), 0.0)
        return timed

    # Ours is timed just before and just after ydata's runs, and the better of the two
    # kept, so that a slow spell of a shared machine does not fall on one side only.
    before = ours()
    script = YDATA_SCRIPT.format(benchmarks=str(Path(__file__).parent), rows=rows, repeat=repeat)
    done = subprocess.run(
        [str(interpreter), "-c", script], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(f"ydata-profiling failed:\n{done.stderr[-2000:]}")
        return
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    after = ours()
    best = {
        step: (min(before[step][0], after[step][0]), min(before[step][1], after[step][1]))
        for step in before
    }
    print(
        f"describe(include='all'):     {best['describe'][0]:6.2f} s wall"
        f" (before ydata {before['describe'][0]:.2f}, after {after['describe'][0]:.2f})"
    )
    print(f"ydata-profiling from {interpreter}")
    for step, what in (
        ("stats", "statistics: get_description() vs profile()"),
        ("report", "HTML report: to_html() vs profile()._repr_html_()"),
    ):
        theirs_wall, theirs_cpu = measured[step]
        ours_wall, ours_cpu = best[step]
        print(f"-- {what}")
        print(f"   ydata minimal: {theirs_wall:6.2f} s wall, {theirs_cpu:6.2f} s CPU")
        print(
            f"   ours:          {ours_wall:6.3f} s wall, {ours_cpu:6.3f} s CPU"
            f" (before ydata {before[step][0]:.3f} s, after {after[step][0]:.3f} s)"
        )
        print(
            f"   ydata / ours:  {theirs_wall / ours_wall:6.1f}x wall,"
            f" {theirs_cpu / ours_cpu:.1f}x CPU   (target >= 40x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ydata-rows", type=int, default=200_000)
    parser.add_argument("--ydata-python", type=Path, default=YDATA_VENV_PYTHON)
    parser.add_argument("--ydata-repeat", type=int, default=2)
    parser.add_argument("--skip-ydata", action="store_true")
    options = parser.parse_args()
    big_frame(options.rows)
    real_tables()
    if not options.skip_ydata:
        ydata(options.ydata_rows, options.ydata_python, options.ydata_repeat)


if __name__ == "__main__":
    main()
