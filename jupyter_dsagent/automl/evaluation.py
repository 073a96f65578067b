"""After the fit: holdout metrics, leaderboard and importance, each interrupted at its time.

Every step adds to the outcome and the outcome is written after each one, so if the
kernel has to kill the worker at the deadline it still finds everything finished so
far. A step that runs out of time is skipped with a note, never the whole result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .alarm import Alarm, Cutoff
from .budget import Budget
from .engines.base import Engine, predict_with_proba
from .importance import PermutationImportance
from .metrics import CLASSIFICATION, confusion, holdout_metrics
from .outcome import Outcome

__all__ = ["evaluate"]

#: Head-room on the leaderboard's expected time (every model predicts the holdout).
LEADERBOARD_MARGIN = 1.5
#: Rows predicted first to measure what predicting the holdout costs, and the head-room
#: kept on that estimate.
PROBE_ROWS = 256
PREDICT_MARGIN = 1.5
#: Holdout points kept for the residual plot of a regression: enough to see the shape
#: of the errors, few enough that ``result.json`` stays small.
RESIDUAL_POINTS = 1_000


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(row) for row in frame.to_dict(orient="records")]


def _bounded(until: float, outcome: Outcome | None, what: str) -> Alarm | None:
    if until - time.time() <= 0:
        if outcome is not None:
            outcome.note(f"{what} was skipped: no time was left.")
        return None
    return Alarm(until)


class _Staged:
    """Predictions on a growing seeded sample of the holdout, the largest that ended in time.

    Prediction runs in native code that an alarm cannot interrupt at once, so the
    holdout is predicted in stages (PROBE_ROWS rows, then four times as many, ... then
    all of it, directly when the measured cost says it fits), each started only when
    the cost of the earlier ones says it will end by the deadline. Scores on a sample
    beat no scores.
    """

    def __init__(self, engine: Engine, holdout: pd.DataFrame) -> None:
        self.engine = engine
        self.holdout = holdout
        self.order = np.random.default_rng(engine.spec.seed).permutation(len(holdout))
        self.rows: pd.DataFrame | None = None
        self.predicted: pd.Series | None = None
        self.proba: pd.DataFrame | None = None
        self.timings: list[tuple[int, float]] = []

    def _expected(self, size: int) -> float:
        (last_size, last), *_ = reversed(self.timings)
        per_row = last / last_size
        if len(self.timings) > 1:
            before_size, before = self.timings[-2]
            # At least a quarter of the last call counts as per-row cost, whatever the noise.
            per_row = max((last - before) / (last_size - before_size), per_row / 4)
        fixed = max(0.0, last - per_row * last_size)
        return fixed + per_row * size

    def _next_size(self, until: float) -> int | None:
        total = len(self.holdout)
        if not self.timings:
            return min(total, PROBE_ROWS)
        done = self.timings[-1][0]
        if done >= total:
            return None
        left = (until - time.time()) / PREDICT_MARGIN
        for size in (total, min(total, done * 4)):
            if self._expected(size) <= left:
                return size
        return None

    def run(self, until: float) -> None:
        classify = self.engine.spec.task in CLASSIFICATION
        target = self.engine.spec.target
        while (size := self._next_size(until)) is not None:
            rows = self.holdout.iloc[np.sort(self.order[:size])]
            alarm = _bounded(until, None, "")
            if alarm is None:
                return
            started = time.time()
            try:
                with alarm:
                    predicted, proba = predict_with_proba(
                        self.engine.model, rows.drop(columns=[target]), classify=classify
                    )
            except Cutoff:
                alarm.disarm()
                return
            self.timings.append((size, time.time() - started))
            self.rows, self.predicted, self.proba = rows, predicted, proba


def _metrics(engine: Engine, holdout: pd.DataFrame, until: float, outcome: Outcome) -> bool:
    """Holdout metrics (and the confusion matrix) of the best model; False if none in time."""
    spec = engine.spec
    model = engine.model
    staged = _Staged(engine, holdout)
    staged.run(until)
    if staged.rows is None or staged.predicted is None:
        outcome.note(
            "Holdout metrics were skipped: predicting even a few rows would not end in time."
        )
        return False
    scored, predicted, proba = staged.rows, staged.predicted, staged.proba
    outcome.data.setdefault("rows", {})["holdout_scored"] = len(scored)
    if len(scored) < len(holdout):
        outcome.note(
            f"Holdout metrics are on a seeded sample of {len(scored):,} of the "
            f"{len(holdout):,} holdout rows: predicting all of them would not have ended by "
            "the deadline."
        )
    truth = scored[spec.target]
    positive = None
    if spec.task in CLASSIFICATION:
        classes = model.classes or []
        positive = classes[-1] if spec.task == "binary" and classes else None
        matrix = confusion(truth, predicted, classes)
        outcome.data["confusion_matrix"] = {
            "labels": classes,
            "matrix": matrix.to_numpy().tolist(),
        }
        outcome.data["classes"] = classes
        outcome.data["positive_class"] = positive
    else:
        outcome.data["residuals"] = _residual_sample(truth, predicted)
    metrics = holdout_metrics(spec.task, truth, predicted, proba, positive=positive)
    outcome.data["metrics"] = metrics
    outcome.data["score"] = metrics.get(spec.metric)
    if spec.task == "regression" and (truth == 0).any():
        outcome.note(
            f"MAPE leaves out the {int((truth == 0).sum())} holdout rows whose true value is 0."
        )
    return True


def _residual_sample(truth: pd.Series, predicted: pd.Series) -> dict[str, list[float]]:
    """Evenly spaced holdout rows (all of them when few) as actual and predicted values."""
    actual = np.asarray(truth, dtype=float)
    guessed = np.asarray(predicted, dtype=float)
    keep = np.unique(np.linspace(0, len(actual) - 1, min(len(actual), RESIDUAL_POINTS)).astype(int))
    return {"actual": actual[keep].tolist(), "predicted": guessed[keep].tolist()}


def _step(what: str, step: Callable[[], None], until: float, outcome: Outcome) -> bool:
    """Run ``step`` under an alarm at ``until``; False (with a note) if it did not finish."""
    alarm = _bounded(until, outcome, what)
    if alarm is None:
        return False
    try:
        with alarm:
            step()
    except Cutoff:
        alarm.disarm()
        outcome.note(f"{what} did not finish by the deadline and was skipped.")
        return False
    finally:
        outcome.write()
    return True


def evaluate(engine: Engine, holdout: pd.DataFrame, budget: Budget, outcome: Outcome) -> None:
    """Score the best model on the holdout, rank all models on it, then importance.

    Predictions run in native code that an alarm cannot interrupt, so the leaderboard
    (which predicts with every model) is only started when the time the best model took
    on the holdout says it will end before the deadline.
    """
    started = time.time()
    scored = _metrics(engine, holdout, budget.finish_by, outcome)
    outcome.write()
    whole = outcome.data.get("rows", {}).get("holdout_scored") == len(holdout)
    models = len(outcome.data.get("leaderboard") or [])
    expected = (time.time() - started) * max(1, models) * LEADERBOARD_MARGIN
    if scored and whole and time.time() + expected < budget.finish_by:
        _step(
            "The holdout leaderboard",
            lambda: outcome.data.update(leaderboard=_records(engine.leaderboard(holdout))),
            budget.finish_by,
            outcome,
        )
    elif scored:
        outcome.note("Holdout scores of the other models were skipped: not enough time was left.")
    outcome.timing("evaluate", time.time() - started)
    _importance(engine, holdout, budget, outcome)


def _importance(engine: Engine, holdout: pd.DataFrame, budget: Budget, outcome: Outcome) -> None:
    started = time.time()
    until = min(budget.finish_by, started + budget.importance_limit)
    if budget.importance_limit <= 0:
        return
    importance = PermutationImportance(
        engine.model,
        holdout,
        target=engine.spec.target,
        metric=engine.spec.metric,
        classify=engine.spec.task in CLASSIFICATION,
        positive=outcome.data.get("positive_class"),
        seed=engine.spec.seed,
    )
    complete = False
    alarm = _bounded(until, outcome, "Feature importance")
    if alarm is not None:
        try:
            with alarm:
                complete = importance.run(until)
        except Cutoff:
            alarm.disarm()
    table = importance.table()
    outcome.data["feature_importance"] = _records(table)
    outcome.data["importance_complete"] = complete
    outcome.data["importance_rows"] = importance.rows
    if not complete:
        reached = int((table["repeats"] > 0).sum())
        outcome.note(
            f"Feature importance was cut at its time bound ({budget.importance_limit:.1f} s): "
            f"{reached} of {len(table)} features measured."
        )
    outcome.timing("importance", time.time() - started)
    outcome.write()
