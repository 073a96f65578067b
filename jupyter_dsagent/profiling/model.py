"""What a profile holds: plain frozen dataclasses, turned into strict JSON by ``to_dict``."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

__all__ = [
    "SCHEMA_VERSION",
    "SEMANTIC_TYPES",
    "WARNING_CODES",
    "ColumnProfile",
    "Histogram",
    "NumericStats",
    "Profile",
    "ProfileWarning",
    "TargetHint",
    "json_safe",
]

#: Bumped whenever a key of ``Profile.to_dict()`` changes meaning or disappears.
SCHEMA_VERSION = 1

SEMANTIC_TYPES: tuple[str, ...] = (
    "numeric",
    "integer-coded categorical",
    "categorical",
    "boolean",
    "datetime",
    "text",
    "identifier",
    "constant",
    "empty",
)

#: Stable warning codes; a code is never renamed or reused for another meaning.
WARNING_CODES: tuple[str, ...] = (
    "high_missing",
    "constant",
    "high_cardinality",
    "possible_id",
    "skewed",
    "mixed_types",
    "duplicate_rows",
    "datetime_as_text",
    "numbers_as_text",
    "possible_leakage",
    "imbalanced_target",
    "formula_like_values",
)


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars made Python, NaN/inf made ``None``, tuples made lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    # numpy scalars and anything else number-like
    item = getattr(value, "item", None)
    if callable(item):
        return json_safe(item())
    return str(value)


@dataclass(frozen=True)
class Histogram:
    """Equal-width bins: ``len(edges) == len(counts) + 1``; the last bin includes its
    right edge. Numbers: over the finite values; dates: edges in seconds since the Unix
    epoch (UTC)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class NumericStats:
    """Statistics over the finite values of a number (or timedelta, in seconds) column."""

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    quantiles: dict[str, float]
    skew: float | None
    infinite: int
    integer_valued: bool
    histogram: Histogram | None


@dataclass(frozen=True)
class ProfileWarning:
    """One finding; ``code`` is one of ``WARNING_CODES``, ``column`` None for the frame."""

    code: str
    message: str
    column: str | None = None
    position: int | None = None


@dataclass(frozen=True)
class ColumnProfile:
    """Profile of the column at ``position``; ``name`` is ``str`` of its label.

    ``missing`` and ``count`` are exact. ``distinct`` and ``top_values`` are exact when
    ``values_exact`` (always unless the frame is sampled and a number, date or duration
    column is longer than ``profile_exact_distinct_rows``); otherwise they come from the
    sample and ``distinct`` is a GEE estimate. ``datetime_min``/``datetime_max`` are
    exact; numeric, datetime-histogram and length statistics come from the sample when
    the profile is sampled. Ties among top values: smaller value first for numbers,
    dates and durations, first seen first otherwise.
    """

    position: int
    name: str
    dtype: str
    semantic_type: str
    count: int
    missing: int
    missing_share: float
    distinct: int
    values_exact: bool
    top_values: tuple[tuple[str, int], ...] = ()
    numeric: NumericStats | None = None
    datetime_min: str | None = None
    datetime_max: str | None = None
    datetime_histogram: Histogram | None = None
    length_min: int | None = None
    length_mean: float | None = None
    length_max: int | None = None
    value_types: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetHint:
    """What kind of learning task the target suggests, and why."""

    column: str
    position: int
    task: str | None
    reason: str
    leakage_candidates: tuple[str, ...] = ()


#: Summaries already rendered, by (id of a live profile, budget, model): a profile never
#: changes, and counting tokens is the costly part of rendering one.
_SUMMARIES: dict[tuple[int, int, str], str] = {}


def _forget_summaries(profile_id: int) -> None:
    for key in [k for k in _SUMMARIES if k[0] == profile_id]:
        _SUMMARIES.pop(key, None)


@dataclass(frozen=True)
class Profile:
    """The profile of one DataFrame, as returned by :func:`profile`.

    ``rows`` and every column's ``missing`` are exact even when ``sampled``; statistics
    marked so in :class:`ColumnProfile` come from ``sample_rows`` uniformly drawn rows.
    ``memory_bytes`` is shallow (``deep=False``): object cells count as pointers only.
    ``duplicate_rows`` is counted over all rows by 64-bit row hashes (and is 0 without
    hashing when one column has a distinct value in every row).
    ``correlation_matrix`` holds pairwise-complete Pearson r between numeric columns;
    ``association_matrix`` holds Cramer's V (0 to 1, missing values left out) between
    categorical and boolean columns with few distinct values. ``thresholds`` names every
    limit and threshold the profile used: ``DSAgent`` settings by their trait name, and
    the fixed cut-offs of the semantic types.
    """

    rows: int
    columns: tuple[ColumnProfile, ...]
    sampled: bool
    sample_rows: int
    seed: int
    memory_bytes: int
    duplicate_rows: int
    correlation_columns: tuple[str, ...] = ()
    correlation_matrix: tuple[tuple[float | None, ...], ...] = ()
    association_columns: tuple[str, ...] = ()
    association_matrix: tuple[tuple[float | None, ...], ...] = ()
    warnings: tuple[ProfileWarning, ...] = ()
    target: TargetHint | None = None
    thresholds: dict[str, float | int] = field(default_factory=dict)

    @property
    def n_columns(self) -> int:
        """Number of columns (duplicates and MultiIndex labels counted by position)."""
        return len(self.columns)

    def warnings_for(self, code: str) -> list[ProfileWarning]:
        """The warnings with ``code``, in column order."""
        return [w for w in self.warnings if w.code == code]

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON form (no NaN, inf or numpy types), with ``"schema_version": 1``."""
        body = json_safe(self)
        body["n_columns"] = self.n_columns
        body["memory_deep"] = False
        return {"schema_version": SCHEMA_VERSION, **body}

    def summary(self, max_tokens: int = 1500, model: str = "gpt-4o-mini") -> str:
        """Plain text for a language model, never longer than ``max_tokens`` tokens.

        Cell values appear only as short quoted examples inside a delimited data section.
        """
        from jupyter_dsagent.profiling.summary import render_summary

        key = (id(self), max_tokens, model)
        text = _SUMMARIES.get(key)
        if text is None:
            text = render_summary(self, max_tokens=max_tokens, model=model)
            if not any(k[0] == id(self) for k in _SUMMARIES):
                weakref.finalize(self, _forget_summaries, id(self))
            _SUMMARIES[key] = text
        return text

    def _repr_html_(self) -> str:
        from jupyter_dsagent.profiling.html import render_html

        return render_html(self)

    def __str__(self) -> str:
        """The report as fixed-width text (what a terminal shows)."""
        from jupyter_dsagent.profiling.plain import render_text

        return render_text(self)

    def __repr__(self) -> str:
        how = f"sample of {self.sample_rows:,}" if self.sampled else "exact"
        return (
            f"<Profile {self.rows:,} rows x {self.n_columns} columns ({how}), "
            f"{len(self.warnings)} warnings>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text form: the whole report, not the dataclass fields."""
        printer.text(repr(self) if cycle else str(self))
