"""Profile one column: its semantic type, statistics and warnings, from one count.

The counting itself is in ``values.py`` (one sort or one factorize per column); this
module turns the counts into a :class:`ColumnProfile`. The cut-offs that define the
semantic types are fixed here (changing them would change what a type means); the
warning thresholds come from the settings (:class:`Thresholds`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from jupyter_dsagent.exceptions import BadRequest
from jupyter_dsagent.profiling.model import ColumnProfile, NumericStats, ProfileWarning
from jupyter_dsagent.profiling.numbers import datetime_histogram, numeric_stats, to_seconds
from jupyter_dsagent.profiling.text import scan_strings
from jupyter_dsagent.profiling.thresholds import Thresholds, configured_thresholds
from jupyter_dsagent.profiling.values import CODES_MAX_LEVELS, Counted, count_values, most_frequent

__all__ = ["FIXED_THRESHOLDS", "ColumnResult", "build_column", "profile_column"]

INT_CODED_MAX_DISTINCT = 20
CATEGORICAL_MAX_DISTINCT = 50
CATEGORICAL_MAX_SHARE = 0.05
#: An all-distinct text column is an identifier only if fewer of its values hold a space.
IDENTIFIER_MAX_SPACED_SHARE = 0.05
AS_TEXT_SHARE = 0.95
#: How many of the most frequent distinct strings are parsed for numbers_as_text and
#: datetime_as_text (shares are weighted by their counts).
AS_TEXT_PROBE = 1000
MIXED_TYPES_PROBE = 10_000

#: The fixed cut-offs, reported in ``Profile.thresholds`` next to the settings.
FIXED_THRESHOLDS: dict[str, float | int] = {
    "integer_coded_max_distinct": INT_CODED_MAX_DISTINCT,
    "categorical_max_distinct": CATEGORICAL_MAX_DISTINCT,
    "categorical_max_share": CATEGORICAL_MAX_SHARE,
    "high_cardinality_min_distinct": CATEGORICAL_MAX_DISTINCT,
    "identifier_max_spaced_share": IDENTIFIER_MAX_SPACED_SHARE,
    "as_text_share": AS_TEXT_SHARE,
    "as_text_probe_values": AS_TEXT_PROBE,
    "association_max_distinct": CODES_MAX_LEVELS,
}

# ISO dates (optionally with a time) and d/m/y or m/d/y with '/', '-' or '.'.
_DATE_LIKE = (
    r"\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}/\d{1,2}/\d{1,2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\s*"
)
_DATE_LIKE_RE = re.compile(_DATE_LIKE)
_STRINGISH = {"string", "empty"}
_MIXED = {"mixed", "mixed-integer"}
_NUMBERISH = {"integer", "floating", "mixed-integer-float", "decimal"}


@functools.cache
def _formula_rule() -> tuple[np.ndarray, Callable[[str], bool]]:
    """The export's formula rule: its lead code points and the full check.

    Imported on first use so that importing the profiler does not import ingestion.
    """
    from jupyter_dsagent.ingest.export import FORMULA_PREFIXES, is_formula_like

    return np.array([ord(p) for p in FORMULA_PREFIXES], dtype="int64"), is_formula_like


def _weighted_share(mask: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return float(weights[mask].sum()) / total if total else 0.0


@dataclass
class ColumnResult:
    """A column's profile, its warnings, and what the frame-wide steps reuse."""

    profile: ColumnProfile
    warnings: list[ProfileWarning]
    row_key: np.ndarray
    part_codes: np.ndarray | None


class _Column:
    """Builds one ColumnProfile and its warnings from a :class:`Counted`."""

    def __init__(
        self, series: pd.Series, counted: Counted, position: int, name: str, limits: Thresholds
    ) -> None:
        self.series, self.counted = series, counted
        self.position, self.name, self.limits = position, name, limits
        self.warnings: list[ProfileWarning] = []
        self.rows = len(series)
        self.missing = counted.missing
        self.count = self.rows - self.missing
        self.distinct = counted.distinct
        self.inferred = "empty"
        self.spaced_share = 1.0
        self.extra: dict[str, Any] = {}

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(ProfileWarning(code, message, self.name, self.position))

    def build(self) -> ColumnProfile:
        limits = self.limits
        semantic = self._semantic()
        share = self.missing / self.rows if self.rows else 0.0
        if self.rows and share >= limits.profile_high_missing_share:
            self.warn("high_missing", f"{share:.0%} of values are missing")
        if semantic == "constant":
            self.warn("constant", "a single distinct value")
        elif semantic == "identifier":
            self.warn("possible_id", "every value is distinct: looks like an identifier")
        elif (
            semantic in ("categorical", "text")
            and self.distinct > CATEGORICAL_MAX_DISTINCT
            and self.distinct > limits.profile_high_cardinality_share * max(self.count, 1)
        ):
            self.warn("high_cardinality", f"{self.distinct} distinct values")
        numeric = self.extra.get("numeric")
        if (
            semantic == "numeric"
            and numeric is not None
            and numeric.skew is not None
            and abs(numeric.skew) > limits.profile_skew_limit
        ):
            self.warn("skewed", f"skewness {numeric.skew:.1f}")
        return ColumnProfile(
            position=self.position,
            name=self.name,
            dtype=str(self.series.dtype),
            semantic_type=semantic,
            count=self.count,
            missing=self.missing,
            missing_share=share,
            distinct=self.distinct,
            values_exact=self.counted.exact,
            top_values=self.counted.top,
            **self.extra,
        )

    def _statistics(self) -> None:
        counted = self.counted
        ordered = counted.part_sorted
        if counted.kind == "number" and ordered is not None:
            integral = ordered.dtype.kind in "iu"
            floats = ordered.astype("float64", copy=False)
            self.extra["numeric"] = numeric_stats(floats, self.distinct, integral=integral)
        elif counted.kind == "timedelta" and ordered is not None:
            seconds = to_seconds(ordered, counted.unit)
            self.extra["numeric"] = numeric_stats(seconds, self.distinct, integral=False)
        elif counted.kind == "datetime" and ordered is not None:
            if counted.span is not None:
                self.extra["datetime_min"], self.extra["datetime_max"] = counted.span
            self.extra["datetime_histogram"] = datetime_histogram(
                ordered, counted.unit, self.distinct
            )
        elif counted.kind in ("object", "category") and counted.uniques is not None:
            self._object_details(counted.uniques, counted.weights)

    def _semantic(self) -> str:
        self._statistics()
        kind = self.counted.kind
        if self.count == 0:
            return "empty"
        if self.distinct == 1:
            return "constant"
        if kind == "bool" or self.inferred == "boolean":
            return "boolean"
        if kind == "datetime" or self.inferred in ("datetime", "datetime64", "date"):
            return "datetime"
        if kind == "timedelta":
            return "numeric"
        if kind == "number":
            return self._number_semantic()
        if kind == "category":
            return "categorical"
        if self.inferred in _NUMBERISH:
            return "numeric"
        return self._text_semantic()

    def _number_semantic(self) -> str:
        numeric: NumericStats = self.extra["numeric"]
        integral = numeric.integer_valued and numeric.infinite == 0
        if integral and self.distinct <= INT_CODED_MAX_DISTINCT and self.distinct * 2 <= self.count:
            return "integer-coded categorical"
        identifier_rows = self.limits.profile_identifier_min_rows
        if integral and self.distinct == self.count and self.count >= identifier_rows:
            return "identifier"
        return "numeric"

    def _text_semantic(self) -> str:
        if self.inferred in _STRINGISH:
            identifier_rows = self.limits.profile_identifier_min_rows
            all_distinct = self.distinct == self.count and self.count >= identifier_rows
            if all_distinct and self.spaced_share < IDENTIFIER_MAX_SPACED_SHARE:
                return "identifier"
        small = self.distinct <= CATEGORICAL_MAX_DISTINCT
        if small or self.distinct <= CATEGORICAL_MAX_SHARE * self.count:
            return "categorical"
        return "text"

    def _object_details(self, values: np.ndarray, weights: np.ndarray | None) -> None:
        """Types, lengths and text checks over the distinct values, weighted by counts."""
        weights = np.ones(len(values), dtype="int64") if weights is None else weights
        self.inferred = ptypes.infer_dtype(values, skipna=True)
        if self.inferred in _MIXED:
            probe = values[most_frequent(weights, MIXED_TYPES_PROBE)]
            kinds = pd.Series([type(v).__name__ for v in probe]).value_counts()
            self.extra["value_types"] = {str(k): int(v) for k, v in kinds.items()}
            if len(kinds) > 1:  # "mixed" also covers one type pandas does not know
                listed = ", ".join(str(k) for k in kinds.index[:5])
                self.warn("mixed_types", f"values of several Python types: {listed}")
        if self.inferred not in _STRINGISH or not len(values):
            return
        scan = scan_strings(values)
        self.extra["length_min"] = int(scan.lengths.min())
        self.extra["length_max"] = int(scan.lengths.max())
        self.extra["length_mean"] = float(np.einsum("i,i->", scan.lengths, weights) / weights.sum())
        self.spaced_share = _weighted_share(scan.spaced, weights)
        # The export rule itself, on the few values that start like a formula.
        leads_at, is_formula_like = _formula_rule()
        leads = np.flatnonzero(np.isin(scan.first, leads_at))
        if leads.size:
            formula = np.fromiter((is_formula_like(values[i]) for i in leads), dtype=bool)
            n = int(weights[leads[formula]].sum())
            if n:
                self.warn("formula_like_values", f"{n} cells a spreadsheet could run as formulas")
        frequent = most_frequent(weights, AS_TEXT_PROBE)
        probe = pd.Series(values[frequent], dtype=object)
        probe_weights = weights[frequent]
        numbers = pd.to_numeric(probe.str.strip(), errors="coerce").notna().to_numpy(dtype=bool)
        if _weighted_share(numbers, probe_weights) >= AS_TEXT_SHARE:
            self.warn("numbers_as_text", "text that parses as numbers")
            self.inferred = "numeric-text"
            return
        dates = probe.str.fullmatch(_DATE_LIKE_RE).to_numpy(dtype=bool)
        if _weighted_share(dates, probe_weights) >= AS_TEXT_SHARE:
            self.warn("datetime_as_text", "text that looks like dates")


def build_column(
    series: pd.Series,
    take: np.ndarray | None,
    *,
    position: int,
    name: str,
    limits: Thresholds,
    exact: bool,
    codes_levels: int,
) -> ColumnResult:
    """Profile one column; ``take`` holds the sampled row positions (None: every row).

    ``codes_levels``: keep the sample's per-row codes when the column has at most this
    many distinct values (for associations and the leakage check).
    """
    counted = count_values(series, take, exact=exact, codes_levels=codes_levels)
    column = _Column(series, counted, position, name, limits)
    built = column.build()
    return ColumnResult(built, column.warnings, counted.row_key, counted.part_codes)


def profile_column(
    full: pd.Series, part: pd.Series, *, position: int, name: str, sampled: bool
) -> tuple[ColumnProfile, list[ProfileWarning]]:
    """Profile one column on its own, with the configured thresholds.

    For callers outside the profiler (AutoML's task detection). When ``sampled``,
    ``part`` holds rows of ``full``, found by their index labels (which must be unique).
    """
    take = None
    if sampled and part is not full:
        found = full.index.get_indexer(part.index) if full.index.is_unique else None
        if found is None or (found < 0).any():
            raise BadRequest("part must hold rows of full, and full a unique index")
        take = np.sort(found)
    result = build_column(
        full,
        take,
        position=position,
        name=name,
        limits=configured_thresholds(),
        exact=True,
        codes_levels=0,
    )
    return result.profile, result.warnings
