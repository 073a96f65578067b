"""Holdout metrics: one table of metric names, how each engine spells them, and scoring.

Scores are reported in each metric's natural direction (an RMSE is a positive error),
never in the "higher is better" sign engines use internally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CLASSIFICATION",
    "DEFAULT_METRIC",
    "METRICS",
    "TASKS",
    "MetricSpec",
    "confusion",
    "holdout_metrics",
    "score",
]

TASKS = ("binary", "multiclass", "regression")
CLASSIFICATION = ("binary", "multiclass")
#: The metric a run optimises and ranks by when none is named: AutoGluon's own defaults,
#: so a run and a direct AutoGluon fit are judged alike.
DEFAULT_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse"}


@dataclass(frozen=True)
class MetricSpec:
    """A metric: the tasks it applies to, its direction, and AutoGluon's name per task."""

    name: str
    tasks: tuple[str, ...]
    greater_is_better: bool
    needs_proba: bool
    autogluon: dict[str, str]

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than ``b``."""
        return a > b if self.greater_is_better else a < b


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "accuracy",
            CLASSIFICATION,
            True,
            False,
            {"binary": "accuracy", "multiclass": "accuracy"},
        ),
        MetricSpec(
            "balanced_accuracy",
            CLASSIFICATION,
            True,
            False,
            {"binary": "balanced_accuracy", "multiclass": "balanced_accuracy"},
        ),
        MetricSpec(
            "roc_auc",
            CLASSIFICATION,
            True,
            True,
            {"binary": "roc_auc", "multiclass": "roc_auc_ovr_macro"},
        ),
        MetricSpec("f1", CLASSIFICATION, True, False, {"binary": "f1", "multiclass": "f1_macro"}),
        MetricSpec(
            "rmse", ("regression",), False, False, {"regression": "root_mean_squared_error"}
        ),
        MetricSpec("mae", ("regression",), False, False, {"regression": "mean_absolute_error"}),
        MetricSpec("r2", ("regression",), True, False, {"regression": "r2"}),
        MetricSpec(
            "mape",
            ("regression",),
            False,
            False,
            {"regression": "mean_absolute_percentage_error"},
        ),
    )
}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _positive_scores(proba: pd.DataFrame, positive: Any) -> np.ndarray:
    return np.asarray(proba[positive].to_numpy(dtype="float64"))


def score(
    metric: str,
    y_true: pd.Series,
    y_pred: pd.Series,
    proba: pd.DataFrame | None = None,
    *,
    positive: Any = None,
) -> float | None:
    """``metric`` of predictions against the truth; None where it is undefined.

    ROC AUC needs probabilities (``proba``, one column per class) and two classes in the
    truth; MAPE skips rows whose true value is zero and is None when all are.
    """
    from sklearn import metrics as skm

    truth = np.asarray(y_true)
    predicted = np.asarray(y_pred)
    if metric == "accuracy":
        return float(skm.accuracy_score(truth, predicted))
    if metric == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(truth, predicted))
    if metric == "f1":
        if positive is not None:
            return float(skm.f1_score(truth, predicted, pos_label=positive, zero_division=0))
        return float(skm.f1_score(truth, predicted, average="macro", zero_division=0))
    if metric == "roc_auc":
        return _roc_auc(truth, proba, positive)
    actual = truth.astype("float64")
    estimate = predicted.astype("float64")
    if metric == "rmse":
        return _finite(math.sqrt(float(np.mean((actual - estimate) ** 2))))
    if metric == "mae":
        return _finite(float(np.mean(np.abs(actual - estimate))))
    if metric == "r2":
        if len(actual) < 2 or float(np.var(actual)) == 0.0:
            return None
        return _finite(float(skm.r2_score(actual, estimate)))
    if metric == "mape":
        nonzero = np.abs(actual) > np.finfo("float64").eps
        if not nonzero.any():
            return None
        ratios = np.abs((actual[nonzero] - estimate[nonzero]) / actual[nonzero])
        return _finite(float(np.mean(ratios)))
    raise ValueError(f"unknown metric {metric!r}")


def _roc_auc(truth: np.ndarray, proba: pd.DataFrame | None, positive: Any) -> float | None:
    from sklearn import metrics as skm

    present = pd.unique(truth)
    if proba is None or len(present) < 2:
        return None
    if positive is not None:
        binary = truth == positive
        return float(skm.roc_auc_score(binary, _positive_scores(proba, positive)))
    # One-vs-rest over the classes that occur in the holdout, each against the rest.
    aucs = [
        float(skm.roc_auc_score(truth == label, _positive_scores(proba, label)))
        for label in proba.columns
        if label in set(present)
    ]
    return float(np.mean(aucs)) if aucs else None


def holdout_metrics(
    task: str,
    y_true: pd.Series,
    y_pred: pd.Series,
    proba: pd.DataFrame | None,
    *,
    positive: Any = None,
) -> dict[str, float | None]:
    """Every metric that applies to ``task``, keyed by its name."""
    return {
        name: score(name, y_true, y_pred, proba, positive=positive)
        for name, spec in METRICS.items()
        if task in spec.tasks
    }


def confusion(y_true: pd.Series, y_pred: pd.Series, labels: list[Any]) -> pd.DataFrame:
    """Counts of true class (rows) against predicted class (columns)."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(np.asarray(y_true), np.asarray(y_pred), labels=labels)
    index = pd.Index(labels, name="true")
    columns = pd.Index(labels, name="predicted")
    return pd.DataFrame(matrix, index=index, columns=columns)
