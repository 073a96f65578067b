"""Target hints: the learning task a target suggests, leakage candidates, imbalance."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from jupyter_dsagent.profiling.model import ColumnProfile, ProfileWarning, TargetHint
from jupyter_dsagent.profiling.thresholds import Thresholds, configured_thresholds
from jupyter_dsagent.profiling.values import factorize_cells

__all__ = ["TARGET_THRESHOLDS", "infer_task", "target_hint"]

REGRESSION_MIN_DISTINCT = 20
#: A column with more groups than this share of the rows is not checked for leakage:
#: with so many groups any column would "predict" the target by memorising it.
LEAK_MAX_GROUP_SHARE = 0.1
#: Numbers with more distinct values are cut into this many quantile bins (classification).
LEAK_BINS = 20
LEAK_MAX_CELLS = 5_000_000
#: The fixed cut-offs, reported in ``Profile.thresholds``; the leakage and imbalance
#: thresholds themselves are settings (``Thresholds``).
TARGET_THRESHOLDS: dict[str, float | int] = {
    "regression_min_distinct": REGRESSION_MIN_DISTINCT,
    "leakage_max_group_share": LEAK_MAX_GROUP_SHARE,
    "leakage_bins": LEAK_BINS,
}
#: Features whose groups are compared with a numeric target (eta squared).
_GROUPED = ("categorical", "boolean", "integer-coded categorical", "text", "datetime")


def infer_task(column: ColumnProfile) -> tuple[str | None, str]:
    """The learning task a target column suggests (binary, multiclass, regression) and why.

    ``None`` when nothing can be learned from it (empty, constant, dates). Shared by the
    profiler's target hint and AutoML, so both name the same task for the same column.
    """
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


def _codes(
    series: pd.Series, column: ColumnProfile, known: np.ndarray | None = None
) -> np.ndarray | None:
    """Group codes for ``series``: values as they are (missing as a group of its own), or
    quantile bins for numbers. ``known`` are the codes counting already made (-1:
    missing), reused instead of factorizing the column again."""
    many = column.distinct > LEAK_BINS
    if column.numeric is not None and column.semantic_type == "numeric" and many:
        kind = series.dtype
        values = series.dt.total_seconds() if pd.api.types.is_timedelta64_dtype(kind) else series
        floats = np.asarray(values.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
        finite = floats[np.isfinite(floats)]
        if finite.size == 0:
            return None
        with np.errstate(all="ignore"):  # huge values: the bins may come out fewer
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, LEAK_BINS + 1)[1:-1]))
        codes = np.searchsorted(edges, floats, side="right")
        codes[~np.isfinite(floats)] = len(edges) + 1
        return np.asarray(codes, dtype="int64")
    if known is None:
        try:
            known, _ = factorize_cells(series)
        except (TypeError, NotImplementedError):  # unhashable cells, pyarrow lists
            known, _ = pd.factorize(series.map(repr).where(series.notna()))
    codes = np.asarray(known, dtype="int64").copy()
    codes[codes < 0] = codes.max(initial=-1) + 1  # missing values: a group of their own
    return codes


def _purity(groups: np.ndarray, classes: np.ndarray, n_classes: int) -> float | None:
    n_groups = int(groups.max()) + 1 if groups.size else 0
    if n_groups * n_classes > LEAK_MAX_CELLS or n_groups > LEAK_MAX_GROUP_SHARE * groups.size:
        return None  # so many groups that any column would "predict" by memorising
    table = np.bincount(groups * n_classes + classes, minlength=n_groups * n_classes)
    return float(table.reshape(n_groups, n_classes).max(axis=1).sum()) / groups.size


def _eta_squared(groups: np.ndarray, y: np.ndarray) -> float | None:
    """Share of the variance of ``y`` between the groups (the correlation ratio squared)."""
    n_groups = int(groups.max()) + 1 if groups.size else 0
    if n_groups < 2 or n_groups > LEAK_MAX_GROUP_SHARE * groups.size:
        return None
    with np.errstate(all="ignore"):  # sums that overflow make the share undefined
        centred = y - y.mean()
        total = float(np.einsum("i,i->", centred, centred))
        if not 0 < total < math.inf:
            return None
        sizes = np.bincount(groups, minlength=n_groups)
        sums = np.bincount(groups, weights=centred, minlength=n_groups)
        filled = sizes > 0
        between = float((sums[filled] ** 2 / sizes[filled]).sum())
    return min(1.0, between / total) if math.isfinite(between) else None


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    # einsum, not np.dot: BLAS threads would only fight over the cores for a dot product.
    with np.errstate(all="ignore"):
        xs, ys = x - x.mean(), y - y.mean()
        denominator = math.sqrt(
            float(np.einsum("i,i->", xs, xs)) * float(np.einsum("i,i->", ys, ys))
        )
        r = float(np.einsum("i,i->", xs, ys)) / denominator if denominator > 0 else 0.0
    return r if math.isfinite(r) else None


def _class_codes(
    series: pd.Series, present: np.ndarray, known: np.ndarray | None
) -> tuple[np.ndarray, int]:
    if known is not None:
        classes = known[present].astype("int64")
        return classes, int(classes.max(initial=-1)) + 1
    try:
        codes, uniques = factorize_cells(series)
    except (TypeError, NotImplementedError):  # unhashable cells, pyarrow lists
        codes, uniques = pd.factorize(series.map(repr).where(series.notna()))
    return np.asarray(codes, dtype="int64")[present], len(uniques)


def _classification_leaks(
    part: pd.DataFrame,
    columns: tuple[ColumnProfile, ...],
    position: int,
    present: np.ndarray,
    limits: Thresholds,
    known: Mapping[int, np.ndarray],
) -> list[ProfileWarning]:
    target = columns[position]
    classes, n_classes = _class_codes(part[position], present, known.get(position))
    counts = np.bincount(classes, minlength=n_classes)
    baseline = float(counts.max()) / classes.size
    minority = float(counts[counts > 0].min()) / classes.size
    warnings = []
    if minority < limits.profile_imbalance_share:
        message = f"the rarest class holds {minority:.1%} of rows"
        warnings.append(ProfileWarning("imbalanced_target", message, target.name, position))
    if baseline >= 1.0:
        return warnings
    for column in columns:
        if column.position == position or column.semantic_type in ("constant", "empty"):
            continue
        groups = _codes(part[column.position], column, known.get(column.position))
        if groups is None:
            continue
        purity = _purity(groups[present], classes, n_classes)
        reduction = None if purity is None else (purity - baseline) / (1 - baseline)
        if reduction is not None and reduction >= limits.profile_leakage_error_reduction:
            message = (
                f"predicts the target alone for {purity:.1%} of rows"
                f" (majority class: {baseline:.1%})"
            )
            warnings.append(
                ProfileWarning("possible_leakage", message, column.name, column.position)
            )
    return warnings


def _regression_leaks(
    part: pd.DataFrame,
    columns: tuple[ColumnProfile, ...],
    position: int,
    present: np.ndarray,
    limits: Thresholds,
    known: Mapping[int, np.ndarray],
) -> list[ProfileWarning]:
    values = part[position].to_numpy(dtype="float64", na_value=np.nan)
    usable = present & np.isfinite(values)
    y = values[usable]
    warnings = []
    for column in columns:
        if column.position == position:
            continue
        series = part[column.position]
        message = None
        numeric = column.numeric is not None and not column.dtype.startswith("timedelta")
        if column.semantic_type == "numeric" and numeric:
            x = series.to_numpy(dtype="float64", na_value=np.nan)[usable]
            both = np.isfinite(x)
            r = _pearson(x[both], y[both]) if np.count_nonzero(both) >= 3 else None
            if r is not None and r * r >= limits.profile_leakage_variance_share:
                message = f"Pearson r = {r:.3f} with the target (r squared {r * r:.3f})"
        elif column.semantic_type in _GROUPED:
            groups = _codes(series, column, known.get(column.position))
            eta = None if groups is None else _eta_squared(groups[usable], y)
            if eta is not None and eta >= limits.profile_leakage_variance_share:
                message = f"its groups explain {eta:.1%} of the target's variance (eta squared)"
        if message is not None:
            warnings.append(
                ProfileWarning("possible_leakage", message, column.name, column.position)
            )
    return warnings


def target_hint(
    part: pd.DataFrame,
    columns: tuple[ColumnProfile, ...],
    position: int,
    *,
    limits: Thresholds | None = None,
    codes: Mapping[int, np.ndarray] | None = None,
) -> tuple[TargetHint, list[ProfileWarning]]:
    """The hint for the target at ``position``; ``part`` has positional column labels.

    Leakage: a classification target is predicted from each column's groups (numbers
    cut into quantile bins); a regression target is compared with each number by r
    squared and with each categorical column by eta squared. Each check is one linear
    pass over the column, so the cost is bounded by rows x columns. ``codes`` maps column
    positions to per-row codes of ``part`` (-1: missing) that counting already made.
    """
    limits = configured_thresholds() if limits is None else limits
    known = {} if codes is None else codes
    target = columns[position]
    task, reason = infer_task(target)
    present = part[position].notna().to_numpy(dtype=bool)
    count = int(np.count_nonzero(present))
    warnings: list[ProfileWarning] = []
    if task in ("binary", "multiclass") and count:
        warnings = _classification_leaks(part, columns, position, present, limits, known)
    elif task == "regression" and count > 2:
        warnings = _regression_leaks(part, columns, position, present, limits, known)
    leaks = tuple(w.column for w in warnings if w.code == "possible_leakage" and w.column)
    return TargetHint(target.name, position, task, reason, leaks), warnings
