"""How long the offline planner takes to answer, on wide real frames.

Each question is answered many times through ``plan`` (intent detection, column
kinds, templates, suggestion checks, answer text) on a workspace holding the wide
crime table (147 columns), a 100-column synthetic frame and the HR table. Baseline in
the same process: one ``frame.isna().sum()`` over the widest frame, the cheapest
pass a cell itself would make.

Target: < 50 ms per answer on a 100-column frame.

Run: .venv/bin/python benchmarks/offline_planner.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jupyter_dsagent.agent.offline import plan
from jupyter_dsagent.agent.workspace import Workspace

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUESTIONS = [
    "give me an overview",
    "what's missing?",
    "describe medIncome",
    "plot the distribution of population in crime",
    "plot PctUnemployed against ViolentCrimesPerPop",
    "correlations in crime",
    "what is correlated with feature_000 in wide",
    "train a model to predict ViolentCrimesPerPop in crime",
    "load the upload sales.csv",
    "help",
    "scatter feture_012 vs feature_018 in wide",
]


def wide_frame(rows: int = 5_000, columns: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i in range(columns):
        name = f"feature_{i:03d}"
        kind = i % 4
        if kind == 0:
            data[name] = rng.normal(size=rows)
        elif kind == 1:
            data[name] = rng.integers(0, 1000, size=rows)
        elif kind == 2:
            data[name] = rng.choice(["north", "south", "east", "west"], size=rows)
        else:
            data[name] = pd.date_range("2024-01-01", periods=rows, freq="h")
    return pd.DataFrame(data)


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    action()  # warm caches and imports
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def main(repeats: int = 30) -> None:
    crime = pd.read_csv(DATA / "messy/crimedata_latin1_wide.csv", encoding="latin-1", na_values="?")
    hr = pd.read_csv(DATA / "messy/HR_attrition_utf8_bom.csv", encoding="utf-8-sig")
    wide = wide_frame()
    workspace = Workspace(namespace={"hr": hr, "wide": wide, "crime": crime})
    baseline = statistics.median(timed(lambda: crime.isna().sum(), repeats))
    print(f"baseline crime.isna().sum(): {baseline:.2f} ms")
    worst = 0.0
    for question in QUESTIONS:
        durations = timed(lambda q=question: plan(q, workspace), repeats)
        median, high = statistics.median(durations), max(durations)
        worst = max(worst, median)
        print(
            f"{question[:55]:<55} median {median:6.2f} ms  max {high:6.2f} ms  "
            f"({median / baseline:5.1f}x baseline)"
        )
    print(f"slowest median: {worst:.2f} ms (target < 50 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
