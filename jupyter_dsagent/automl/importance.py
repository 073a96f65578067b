"""Permutation feature importance on the holdout, bounded in time.

Shuffling one column and measuring how much the holdout score drops says how much the
model relies on it, for any engine. Every feature gets one shuffle before any gets a
second, so a run out of time still ranks all features it reached; the table says how
many shuffles each one got (0: not reached in time). Shuffled copies are stacked and
predicted together, because engines pay a fixed cost per predict call.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from .engines.base import TrainedModel, predict_with_proba
from .metrics import METRICS, score

__all__ = ["PermutationImportance"]

#: Rows of the holdout used (a seeded sample of a larger one), fewer (down to MIN_ROWS)
#: when one pass over all features would not otherwise fit in the time.
MAX_ROWS = 2_000
MIN_ROWS = 200
REPEATS = 3
#: Most rows predicted in one call (shuffled copies of the holdout, stacked).
BATCH_ROWS = 20_000
#: A call is started only when this many times its expected length is left.
CALL_MARGIN = 1.5


class _CallCost:
    """Seconds a predict call takes for k stacked copies: fixed + k * per_copy.

    Starts pessimistic (all of the first call's time per copy, nothing fixed) and
    learns the split from the first call with more than one copy.
    """

    def __init__(self, one_copy: float) -> None:
        self.one_copy = max(one_copy, 1e-3)
        self.fixed = 0.0
        self.per_copy = self.one_copy

    def observe(self, copies: int, seconds: float) -> None:
        if copies > 1:
            self.per_copy = max((seconds - self.one_copy) / (copies - 1), 1e-4)
            self.fixed = max(0.0, self.one_copy - self.per_copy)

    def blocks_within(self, seconds: float) -> int:
        return max(0, int((seconds - self.fixed) / self.per_copy))


class PermutationImportance:
    """Accumulates score drops; :meth:`table` is valid at any point, even after an interrupt."""

    def __init__(
        self,
        model: TrainedModel,
        holdout: pd.DataFrame,
        *,
        target: str,
        metric: str,
        classify: bool,
        positive: Any,
        seed: int,
    ) -> None:
        if len(holdout) > MAX_ROWS:
            holdout = holdout.sample(n=MAX_ROWS, random_state=seed)
        self.model = model
        self.features = holdout.drop(columns=[target])
        self.truth = holdout[target]
        self.metric = metric
        self.classify = classify
        self.positive = positive
        self.rng = np.random.default_rng(seed)
        self.drops: dict[str, list[float]] = {str(name): [] for name in self.features.columns}

    def _scores(self, blocks: list[pd.DataFrame]) -> list[float | None]:
        """The score of each block, predicted in one call (engines pay a fixed cost per call)."""
        stacked = pd.concat(blocks, ignore_index=True)
        predicted, proba = predict_with_proba(self.model, stacked, classify=self.classify)
        rows = len(self.truth)
        return [
            score(
                self.metric,
                self.truth,
                predicted.iloc[i * rows : (i + 1) * rows],
                None if proba is None else proba.iloc[i * rows : (i + 1) * rows],
                positive=self.positive,
            )
            for i in range(len(blocks))
        ]

    def _keep(self, rows: int) -> None:
        """Measure on a seeded sample of ``rows`` rows of the holdout."""
        chosen = self.rng.choice(len(self.features), size=rows, replace=False)
        self.features = self.features.iloc[chosen]
        self.truth = self.truth.iloc[chosen]

    @property
    def rows(self) -> int:
        """Holdout rows the importance is measured on."""
        return len(self.features)

    def _shuffled(self, name: str) -> pd.DataFrame:
        block = self.features.copy()
        column = block[name]
        block[name] = column.take(self.rng.permutation(len(block))).set_axis(column.index)
        return block

    def run(self, until: float) -> bool:
        """Shuffle columns until ``until`` (epoch seconds); True when every repeat was done.

        A predict call cannot be interrupted while it is in native code, so none is
        started that the measured cost of earlier calls says would not end by ``until``;
        within that, calls are as large as the time left allows.
        """
        started = time.time()
        (baseline,) = self._scores([self.features])
        one_copy = time.time() - started
        # Fewer rows when one pass over every feature would not fit in the time left.
        affordable = (until - time.time()) / CALL_MARGIN / len(self.features.columns)
        rows = max(MIN_ROWS, int(len(self.features) * affordable / max(one_copy, 1e-3)))
        if rows < len(self.features):
            self._keep(rows)
            started = time.time()
            (baseline,) = self._scores([self.features])
            one_copy = time.time() - started
        if baseline is None:
            return True
        cost = _CallCost(one_copy)
        sign = 1.0 if METRICS[self.metric].greater_is_better else -1.0
        names = [str(name) for name in self.features.columns]
        pending = names * REPEATS  # every feature once before any twice
        most = max(1, BATCH_ROWS // max(1, len(self.features)))
        while pending:
            blocks = min(
                len(pending), most, cost.blocks_within((until - time.time()) / CALL_MARGIN)
            )
            if blocks < 1:
                return False
            batch, pending = pending[:blocks], pending[blocks:]
            called = time.time()
            shuffled = self._scores([self._shuffled(name) for name in batch])
            cost.observe(blocks, time.time() - called)
            for name, value in zip(batch, shuffled, strict=True):
                if value is not None:
                    self.drops[name].append(sign * (baseline - value))
        return True

    def table(self) -> pd.DataFrame:
        """feature, importance (mean drop), std, repeats; most important first."""
        rows = [
            {
                "feature": name,
                "importance": float(np.mean(drops)) if drops else None,
                "std": float(np.std(drops)) if len(drops) > 1 else None,
                "repeats": len(drops),
            }
            for name, drops in self.drops.items()
        ]
        table = pd.DataFrame(rows, columns=["feature", "importance", "std", "repeats"])
        return table.sort_values("importance", ascending=False, na_position="last").reset_index(
            drop=True
        )
