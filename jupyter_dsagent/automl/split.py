"""Seeded sampling and the holdout split, both made before anything is fitted.

The holdout is set aside first and never shown to an engine, so its scores are honest:
stratified by class for classification (each class keeps its share), the latest rows
when a time column is named (the model is judged on the future it would face),
otherwise uniformly at random. The same seed gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .metrics import CLASSIFICATION

__all__ = ["Split", "holdout_split", "sample_rows"]


@dataclass(frozen=True)
class Split:
    """Row positions of the training part and the holdout, and how they were chosen."""

    train: np.ndarray
    holdout: np.ndarray
    strategy: str
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The split for ``result.json``: strategy, sizes and details."""
        return {
            "strategy": self.strategy,
            "train_rows": len(self.train),
            "holdout_rows": len(self.holdout),
            **self.details,
        }


def sample_rows(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """``frame`` itself when it has at most ``limit`` rows, else a seeded random sample.

    The sample keeps the frame's row order, so a time-ordered split stays meaningful.
    """
    if len(frame) <= limit:
        return frame
    chosen = np.sort(np.random.default_rng(seed).choice(len(frame), size=limit, replace=False))
    return frame.iloc[chosen]


def _holdout_size(rows: int, fraction: float) -> int:
    return min(rows - 1, max(1, round(rows * fraction)))


def _stratified(labels: pd.Series, fraction: float, rng: np.random.Generator) -> Split:
    codes, uniques = pd.factorize(labels, sort=True)
    train: list[np.ndarray] = []
    holdout: list[np.ndarray] = []
    single: list[str] = []
    for code in range(len(uniques)):
        members = rng.permutation(np.flatnonzero(codes == code))
        if len(members) < 2:  # one row cannot be in both parts: it trains
            train.append(members)
            single.append(str(uniques[code]))
            continue
        cut = _holdout_size(len(members), fraction)
        holdout.append(members[:cut])
        train.append(members[cut:])
    details: dict[str, Any] = {"classes": len(uniques)}
    if single:
        details["train_only_classes"] = single[:20]
    return Split(
        np.sort(np.concatenate(train)), np.sort(np.concatenate(holdout)), "stratified", details
    )


def _time_ordered(times: pd.Series, fraction: float) -> Split:
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = pd.to_datetime(times, errors="coerce", format="mixed")
    known = np.flatnonzero(times.notna().to_numpy())
    unknown = np.flatnonzero(times.isna().to_numpy())
    order = known[np.argsort(times.iloc[known].to_numpy(), kind="stable")]
    cut = len(order) - _holdout_size(len(order), fraction)
    train, holdout = order[:cut], order[cut:]
    details: dict[str, Any] = {
        "time_column": str(times.name),
        "train_until": str(times.iloc[train].max()),
        "holdout_from": str(times.iloc[holdout].min()),
    }
    if len(unknown):
        details["rows_without_time_in_train"] = len(unknown)
    return Split(np.sort(np.concatenate([train, unknown])), np.sort(holdout), "time", details)


def holdout_split(
    frame: pd.DataFrame,
    target: str,
    task: str,
    *,
    fraction: float,
    seed: int,
    time_column: str | None = None,
) -> Split:
    """Split ``frame`` (whose target has no missing values) into training and holdout rows."""
    if time_column is not None:
        return _time_ordered(frame[time_column], fraction)
    rng = np.random.default_rng(seed)
    if task in CLASSIFICATION:
        return _stratified(frame[target], fraction, rng)
    order = rng.permutation(len(frame))
    cut = _holdout_size(len(frame), fraction)
    return Split(np.sort(order[cut:]), np.sort(order[:cut]), "random")
