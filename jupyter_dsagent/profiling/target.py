"""Target hints: the learning task a target suggests, leakage candidates, imbalance."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from jupyter_dsagent.profiling.model import ColumnProfile, ProfileWarning, TargetHint

__all__ = ["target_hint"]

REGRESSION_MIN_DISTINCT = 20
#: A column leaks when predicting the target from it alone removes this share of the
#: errors the majority class makes (classification) ...
LEAK_ERROR_REDUCTION = 0.98
#: ... or when its |Pearson r| with a numeric target reaches this (regression).
LEAK_CORRELATION = 0.98
LEAK_MAX_GROUP_SHARE = 0.1
LEAK_BINS = 20
LEAK_MAX_CELLS = 5_000_000
IMBALANCE_SHARE = 0.1


def _task(column: ColumnProfile) -> tuple[str | None, str]:
    # The name is quoted: reasons reach language models, and names are data.
    name, distinct = json.dumps(column.name[:60]), column.distinct
    if column.count == 0:
        return None, f"{name} has no values, so there is nothing to learn"
    if distinct == 1:
        return None, f"{name} is constant, so there is nothing to learn"
    if column.semantic_type == "boolean" or distinct == 2:
        return "binary", f"{name} has exactly 2 distinct values"
    if column.semantic_type == "numeric" and column.numeric is not None:
        if not column.numeric.integer_valued:
            return "regression", f"{name} is a number with fractional values"
        if distinct > REGRESSION_MIN_DISTINCT:
            return "regression", f"{name} is a whole number with {distinct} distinct values"
    if column.semantic_type == "datetime":
        return None, f"{name} holds dates; frame it as a forecasting task by hand"
    return "multiclass", f"{name} has {distinct} distinct classes"


def _codes(series: pd.Series, column: ColumnProfile) -> np.ndarray | None:
    """Group codes for ``series``: values as they are, or quantile bins for numbers."""
    many = column.distinct > LEAK_BINS
    if column.numeric is not None and column.semantic_type == "numeric" and many:
        kind = series.dtype
        values = series.dt.total_seconds() if pd.api.types.is_timedelta64_dtype(kind) else series
        floats = np.asarray(values.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
        finite = floats[np.isfinite(floats)]
        if finite.size == 0:
            return None
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, LEAK_BINS + 1)[1:-1]))
        codes = np.searchsorted(edges, floats, side="right")
        codes[~np.isfinite(floats)] = len(edges) + 1
        return np.asarray(codes, dtype="int64")
    try:
        codes, _ = pd.factorize(series, use_na_sentinel=False)
    except TypeError:  # unhashable cells
        codes, _ = pd.factorize(series.map(repr), use_na_sentinel=False)
    return np.asarray(codes, dtype="int64")


def _purity(groups: np.ndarray, classes: np.ndarray, n_classes: int) -> float | None:
    n_groups = int(groups.max()) + 1 if groups.size else 0
    if n_groups * n_classes > LEAK_MAX_CELLS or n_groups > LEAK_MAX_GROUP_SHARE * groups.size:
        return None  # so many groups that any column would "predict" by memorising
    table = np.bincount(groups * n_classes + classes, minlength=n_groups * n_classes)
    return float(table.reshape(n_groups, n_classes).max(axis=1).sum()) / groups.size


def target_hint(
    part: pd.DataFrame, columns: tuple[ColumnProfile, ...], position: int
) -> tuple[TargetHint, list[ProfileWarning]]:
    """The hint for the target at ``position``; ``part`` has positional column labels."""
    target = columns[position]
    task, reason = _task(target)
    warnings: list[ProfileWarning] = []
    leaks: list[str] = []
    present = part[position].notna().to_numpy(dtype=bool)
    rows = part[present]
    if task in ("binary", "multiclass") and len(rows):
        classes_codes, uniques = pd.factorize(rows[position].map(repr))
        classes = np.asarray(classes_codes, dtype="int64")
        counts = np.bincount(classes)
        baseline = float(counts.max()) / classes.size
        minority = float(counts.min()) / classes.size
        if minority < IMBALANCE_SHARE:
            warnings.append(
                ProfileWarning(
                    "imbalanced_target",
                    f"the rarest class holds {minority:.1%} of rows",
                    target.name,
                    position,
                )
            )
        for column in columns:
            if column.position == position or column.semantic_type in ("constant", "empty"):
                continue
            groups = _codes(rows[column.position], column)
            if groups is None or baseline >= 1.0:
                continue
            purity = _purity(groups, classes, len(uniques))
            if purity is not None and (purity - baseline) / (1 - baseline) >= LEAK_ERROR_REDUCTION:
                leaks.append(column.name)
                warnings.append(
                    ProfileWarning(
                        "possible_leakage",
                        f"predicts the target alone for {purity:.1%} of rows"
                        f" (majority class: {baseline:.1%})",
                        column.name,
                        column.position,
                    )
                )
    elif task == "regression" and len(rows) > 2:
        y = np.asarray(rows[position].to_numpy(dtype="float64", na_value=np.nan))
        for column in columns:
            if column.position == position or column.semantic_type != "numeric":
                continue
            if column.numeric is None or column.dtype.startswith("timedelta"):
                continue
            x = np.asarray(rows[column.position].to_numpy(dtype="float64", na_value=np.nan))
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3:
                continue
            with np.errstate(all="ignore"):
                xs, ys = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
                denominator = float(np.sqrt((xs * xs).sum() * (ys * ys).sum()))
                r = float((xs * ys).sum()) / denominator if denominator > 0 else 0.0
            if np.isfinite(r) and abs(r) >= LEAK_CORRELATION:
                leaks.append(column.name)
                warnings.append(
                    ProfileWarning(
                        "possible_leakage",
                        f"Pearson r = {r:.3f} with the target",
                        column.name,
                        column.position,
                    )
                )
    hint = TargetHint(target.name, position, task, reason, tuple(leaks))
    return hint, warnings
