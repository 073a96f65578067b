"""Columns that restate the target, found by the profiler's leakage check before fitting.

A column such as titanic's ``alive`` (``survived`` spelled in words) gives a perfect
holdout score that will not hold on new data; the run still learns from every column
the person chose, but says which ones look like the answer in disguise.
"""

from __future__ import annotations

import json

import pandas as pd

from ..profiling import profile

__all__ = ["CHECK_ROWS", "leakage_candidates", "leakage_note"]

#: Rows of the training part the check reads: enough for the group statistics, cheap
#: next to any fit.
CHECK_ROWS = 20_000


def leakage_candidates(train: pd.DataFrame, target: str, *, seed: int) -> list[str]:
    """Feature columns the profiler flags as possible leakage of ``target``."""
    rows = train if len(train) <= CHECK_ROWS else train.sample(CHECK_ROWS, random_state=seed)
    hint = profile(rows, target=target, sample=False, use_cache=False).target
    return [] if hint is None else list(hint.leakage_candidates)


def leakage_note(columns: list[str], target: str) -> str:
    """One sentence naming the suspect columns and how to leave them out."""
    named = ", ".join(json.dumps(column) for column in columns)
    return (
        f"Possible target leakage: {named} almost determine{'s' if len(columns) == 1 else ''} "
        f"{json.dumps(target)} in the training rows, so the scores may not hold on new data; "
        f"if they are known only after the outcome, train without them "
        f"(df.drop(columns=[{named}]))."
    )
