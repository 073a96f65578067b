"""Profile one column: counts, semantic type, statistics and the column's warnings.

Each column is profiled from two views: ``full`` (every row, for exact counts) and
``part`` (the uniform sample, or ``full`` again when the profile is not sampled).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from jupyter_dsagent.ingest.export import FORMULA_PREFIXES, is_formula_like
from jupyter_dsagent.profiling.model import ColumnProfile, Histogram, NumericStats, ProfileWarning

__all__ = ["EXACT_VALUES_MAX_ROWS", "profile_column"]

#: Distinct counts and top values are exact (counted over every row) up to this many
#: rows; longer *sampled* columns get a GEE estimate from the sample instead.
EXACT_VALUES_MAX_ROWS = 1_000_000
HIST_BINS = 20
TOP_VALUES = 5
TOP_VALUE_CHARS = 200
INT_CODED_MAX_DISTINCT = 20
CATEGORICAL_MAX_DISTINCT = 50
CATEGORICAL_MAX_SHARE = 0.05
IDENTIFIER_MIN_ROWS = 50
HIGH_MISSING_SHARE = 0.5
HIGH_CARDINALITY_MIN = 50
HIGH_CARDINALITY_SHARE = 0.5
SKEW_LIMIT = 2.0
AS_TEXT_SHARE = 0.95
#: How many of the most frequent distinct strings are parsed for numbers_as_text and
#: datetime_as_text (shares are weighted by their counts).
AS_TEXT_PROBE = 1000
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

# ISO dates (optionally with a time) and d/m/y or m/d/y with '/', '-' or '.'.
_DATE_LIKE = (
    r"\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}/\d{1,2}/\d{1,2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\s*"
)
_DATE_LIKE_RE = re.compile(_DATE_LIKE)
_STRINGISH = {"string", "empty"}
_MIXED = {"mixed", "mixed-integer"}
_NUMBERISH = {"integer", "floating", "mixed-integer-float", "decimal"}


def _kind(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if ptypes.is_bool_dtype(dtype):
        return "bool"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timedelta"
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return "number"
    return "object"


def _clip(text: str, limit: int = TOP_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_counts(series: pd.Series) -> pd.Series:
    try:
        counts = series.value_counts(dropna=True, sort=False)
    except TypeError:  # unhashable cells (lists, dicts): count their repr instead
        counts = series.dropna().map(repr).value_counts(sort=False)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts[counts > 0]  # unobserved categories are listed with count 0
    return counts


def _most_frequent(counts: pd.Series, n: int) -> pd.Series:
    """The ``n`` largest counts, largest first; cheaper than sorting all of them."""
    values = counts.to_numpy(dtype="int64")
    positions = np.arange(len(values))
    if len(values) > n:  # partition first: O(len) instead of a full sort
        positions = np.argpartition(-values, n - 1)[:n]
    ranked = positions[np.lexsort((positions, -values[positions]))]
    return counts.iloc[ranked]


def _gee_estimate(counts: pd.Series, population: int) -> int:
    """Guaranteed-error estimator of distinct values: sqrt(N/n)·f1 + (d - f1)."""
    seen = int(counts.sum())
    if seen == 0:
        return 0
    singletons = int((counts == 1).sum())
    estimate = math.sqrt(population / seen) * singletons + (len(counts) - singletons)
    return int(min(population, max(len(counts), round(estimate))))


def _as_float(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "timedelta":
        series = series.dt.total_seconds()
    return np.asarray(series.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")


def _numeric_stats(values: np.ndarray, distinct: int) -> NumericStats:
    values = values[~np.isnan(values)]
    finite = values[np.isfinite(values)]
    infinite = int(values.size - finite.size)
    if finite.size == 0:
        return NumericStats(None, None, None, None, {}, None, infinite, False, None)
    with np.errstate(all="ignore"):  # overflow to inf is reported as None, on purpose
        low, high = float(finite.min()), float(finite.max())
        mean = float(finite.mean())
        std = float(finite.std(ddof=1)) if finite.size > 1 else None
        centred = finite - mean
        m2 = float(np.mean(centred * centred))
        m3 = float(np.mean(centred * centred * centred))
        skew = m3 / m2**1.5 if m2 > 0 and math.isfinite(m2) and math.isfinite(m3) else None
        quantiles = np.quantile(finite, QUANTILES)
        integer_valued = bool(np.all(finite == np.floor(finite)))
        histogram = None
        if low == high:
            histogram = Histogram((low, high), (int(finite.size),))
        elif math.isfinite(high - low):
            try:
                counts, edges = np.histogram(
                    finite, bins=max(1, min(HIST_BINS, distinct)), range=(low, high)
                )
                histogram = Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts))
            except ValueError:  # a range too narrow for the bins in float64
                histogram = None
    return NumericStats(
        min=low,
        max=high,
        mean=mean,
        std=std,
        quantiles={
            f"{round(q * 100)}%": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)
        },
        skew=skew,
        infinite=infinite,
        integer_valued=integer_valued,
        histogram=histogram,
    )


def _weighted_share(mask: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return float(weights[mask].sum()) / total if total else 0.0


class _Column:
    """Builds one ColumnProfile and its warnings."""

    def __init__(
        self, full: pd.Series, part: pd.Series, position: int, name: str, sampled: bool
    ) -> None:
        self.full, self.part = full, part
        self.position, self.name = position, name
        self.kind = _kind(full.dtype)
        self.warnings: list[ProfileWarning] = []
        self.rows = len(full)
        self.missing = int(full.isna().sum())
        self.count = self.rows - self.missing
        self.values_exact = not sampled or self.rows <= EXACT_VALUES_MAX_ROWS
        self.counts = _value_counts(full if self.values_exact else part)
        if self.values_exact:
            self.distinct = len(self.counts)
        else:
            self.distinct = _gee_estimate(self.counts, self.count)
        self.inferred = "empty"
        self.spaced_share = 1.0
        self.extra: dict[str, Any] = {}

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(ProfileWarning(code, message, self.name, self.position))

    def build(self) -> ColumnProfile:
        semantic = self._semantic()
        share = self.missing / self.rows if self.rows else 0.0
        if self.rows and share >= HIGH_MISSING_SHARE:
            self.warn("high_missing", f"{share:.0%} of values are missing")
        if semantic == "constant":
            self.warn("constant", "a single distinct value")
        elif semantic == "identifier":
            self.warn("possible_id", "every value is distinct: looks like an identifier")
        elif (
            semantic in ("categorical", "text")
            and self.distinct > HIGH_CARDINALITY_MIN
            and self.distinct > HIGH_CARDINALITY_SHARE * max(self.count, 1)
        ):
            self.warn("high_cardinality", f"{self.distinct} distinct values")
        numeric = self.extra.get("numeric")
        if (
            semantic == "numeric"
            and numeric is not None
            and numeric.skew is not None
            and abs(numeric.skew) > SKEW_LIMIT
        ):
            self.warn("skewed", f"skewness {numeric.skew:.1f}")
        top = tuple(
            (_clip(str(v)), int(c)) for v, c in _most_frequent(self.counts, TOP_VALUES).items()
        )
        return ColumnProfile(
            position=self.position,
            name=self.name,
            dtype=str(self.full.dtype),
            semantic_type=semantic,
            count=self.count,
            missing=self.missing,
            missing_share=share,
            distinct=self.distinct,
            values_exact=self.values_exact,
            top_values=top,
            **self.extra,
        )

    def _semantic(self) -> str:
        if self.kind in ("number", "timedelta"):
            values = _as_float(self.part, self.kind)
            self.extra["numeric"] = _numeric_stats(values, self.distinct)
        elif self.kind == "datetime":
            present = self.full.dropna()
            if len(present):
                self.extra["datetime_min"] = str(present.min())
                self.extra["datetime_max"] = str(present.max())
        else:
            self._object_details()
        if self.count == 0:
            return "empty"
        if self.distinct == 1:
            return "constant"
        if self.kind == "bool" or self.inferred == "boolean":
            return "boolean"
        if self.kind == "datetime" or self.inferred in ("datetime", "datetime64", "date"):
            return "datetime"
        if self.kind == "timedelta":
            return "numeric"
        if self.kind == "number":
            return self._number_semantic()
        if self.kind == "category":
            return "categorical"
        if self.inferred in _NUMBERISH:
            return "numeric"
        return self._text_semantic()

    def _number_semantic(self) -> str:
        numeric: NumericStats = self.extra["numeric"]
        integral = numeric.integer_valued and numeric.infinite == 0
        if integral and self.distinct <= INT_CODED_MAX_DISTINCT and self.distinct * 2 <= self.count:
            return "integer-coded categorical"
        if integral and self.distinct == self.count and self.count >= IDENTIFIER_MIN_ROWS:
            return "identifier"
        return "numeric"

    def _text_semantic(self) -> str:
        if self.inferred in _STRINGISH:
            all_distinct = self.distinct == self.count and self.count >= IDENTIFIER_MIN_ROWS
            if all_distinct and self.spaced_share < 0.05:
                return "identifier"
        small = self.distinct <= CATEGORICAL_MAX_DISTINCT
        if small or self.distinct <= CATEGORICAL_MAX_SHARE * self.count:
            return "categorical"
        return "text"

    def _object_details(self) -> None:
        """Types, lengths and text checks over the distinct values, weighted by counts."""
        values = pd.Series(np.asarray(self.counts.index, dtype=object), dtype=object)
        weights = self.counts.to_numpy(dtype="int64")
        self.inferred = ptypes.infer_dtype(values, skipna=True)
        if self.inferred in _MIXED:
            probe = pd.Series(np.asarray(_most_frequent(self.counts, 10_000).index, dtype=object))
            kinds = probe.map(lambda v: type(v).__name__).value_counts()
            self.extra["value_types"] = {str(k): int(v) for k, v in kinds.items()}
            if len(kinds) > 1:  # "mixed" also covers one type pandas does not know
                listed = ", ".join(str(k) for k in kinds.index[:5])
                self.warn("mixed_types", f"values of several Python types: {listed}")
        if self.inferred not in _STRINGISH or not len(values):
            return
        lengths = values.str.len().to_numpy(dtype="int64")
        self.extra["length_min"] = int(lengths.min())
        self.extra["length_max"] = int(lengths.max())
        self.extra["length_mean"] = float((lengths * weights).sum() / weights.sum())
        if self.distinct == self.count:  # only identifiers need it
            spaced = values.str.contains(" ", regex=False).to_numpy(dtype=bool)
            self.spaced_share = _weighted_share(spaced, weights)
        # The export rule itself, on the few values that start like a formula.
        leads = values.str.startswith(FORMULA_PREFIXES).to_numpy(dtype=bool)
        if leads.any():
            formula = np.fromiter((is_formula_like(v) for v in values[leads]), dtype=bool)
            n = int(weights[leads][formula].sum())
            if n:
                self.warn("formula_like_values", f"{n} cells a spreadsheet could run as formulas")
        frequent = _most_frequent(self.counts, AS_TEXT_PROBE)
        probe = pd.Series(np.asarray(frequent.index, dtype=object), dtype=object)
        probe_weights = frequent.to_numpy(dtype="int64")
        numbers = pd.to_numeric(probe.str.strip(), errors="coerce").notna().to_numpy(dtype=bool)
        if _weighted_share(numbers, probe_weights) >= AS_TEXT_SHARE:
            self.warn("numbers_as_text", "text that parses as numbers")
            self.inferred = "numeric-text"
            return
        dates = probe.str.fullmatch(_DATE_LIKE_RE).to_numpy(dtype=bool)
        if _weighted_share(dates, probe_weights) >= AS_TEXT_SHARE:
            self.warn("datetime_as_text", "text that looks like dates")


def profile_column(
    full: pd.Series, part: pd.Series, *, position: int, name: str, sampled: bool
) -> tuple[ColumnProfile, list[ProfileWarning]]:
    """Profile one column; returns the profile and the column's warnings."""
    column = _Column(full, part, position, name, sampled)
    built = column.build()
    return built, column.warnings
