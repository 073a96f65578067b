"""Count one column's values in one vectorised pass.

Numbers, dates and durations are sorted once (a copy of the present values): runs of
equal values give the distinct count and the top values, and the same sorted array then
gives quantiles and histograms (``numbers.py``). Text and other objects are factorized
once (pandas' hashtable); categoricals reuse their codes; booleans are counted. Every
kind also yields a 64-bit key per row (equal values, equal keys) for the duplicate-row
hash, and, for columns with few distinct values, small integer codes for associations.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = [
    "CODES_MAX_LEVELS",
    "Counted",
    "column_kind",
    "count_values",
    "factorize_cells",
    "gee_estimate",
    "most_frequent",
]

#: Number columns keep per-row codes only up to this many distinct values (associations
#: and leakage groups need no more; larger ones are binned by the leakage check).
CODES_MAX_LEVELS = 50
TOP_VALUES = 5
TOP_VALUE_CHARS = 200
_NAT = np.iinfo("int64").min
#: Integer columns this long are sorted by counting when their span allows.
_COUNTING_MIN = 1_024
#: Object columns this long have their first rows checked for repeated objects.
_BY_ADDRESS = 4_096
# Keys of masked (missing) cells in nullable columns: any fixed 64-bit pattern will do.
_MISSING_KEY = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class Counted:
    """What counting a column gives; arrays cover every row unless named ``part``."""

    kind: str
    missing: int
    distinct: int
    exact: bool
    top: tuple[tuple[str, int], ...]
    row_key: np.ndarray
    #: numbers, dates, durations: the sample's present values, sorted, native dtype
    part_sorted: np.ndarray | None = None
    #: objects and categories: the distinct values (object array) and their counts
    uniques: np.ndarray | None = None
    weights: np.ndarray | None = None
    #: codes 0..distinct-1 per row of the sample (-1: missing), in the smallest int dtype
    part_codes: np.ndarray | None = None
    #: dates and durations: the tick unit (s, ms, us, ns)
    unit: str = ""
    #: dates: the earliest and latest instant over every row, as text
    span: tuple[str, str] | None = None


def column_kind(dtype: Any) -> str:
    """How a column is counted: number, datetime, timedelta, bool, category or object."""
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


def most_frequent(counts: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest counts, largest first, ties by position."""
    if counts.size <= n:
        positions = np.arange(counts.size)
    else:
        tied = np.flatnonzero(counts == counts.max())
        if tied.size >= n:  # e.g. every value distinct: the first n of the largest count
            return tied[:n].copy()
        positions = np.argpartition(-counts, n - 1)[:n]  # O(len) instead of a full sort
    return positions[np.lexsort((positions, -counts[positions]))]


def gee_estimate(counts: np.ndarray, population: int) -> int:
    """Guaranteed-error estimator of distinct values: sqrt(N/n)·f1 + (d - f1)."""
    seen = int(counts.sum())
    if seen == 0:
        return 0
    singletons = int(np.count_nonzero(counts == 1))
    estimate = math.sqrt(population / seen) * singletons + (counts.size - singletons)
    return int(min(population, max(counts.size, round(estimate))))


def _small_codes(codes: np.ndarray) -> np.ndarray:
    top = codes.max(initial=0)
    return codes.astype("int8" if top < 2**7 - 1 else "int16" if top < 2**15 - 1 else "int32")


def _runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and lengths of the runs of equal values in a sorted array."""
    if ordered.size == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], starts))
    return starts, np.diff(starts, append=ordered.size)


# -- numbers, dates and durations ------------------------------------------------------


def _native(series: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(values, missing mask or None, unit): numbers as int64/uint64/float64, dates and
    durations as int64 ticks of ``unit`` (missing: NaT, the smallest int64)."""
    if kind in ("datetime", "timedelta"):
        return np.asarray(series.array.asi8), None, str(series.dt.unit)
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "u":
            return series.to_numpy(dtype="uint64", copy=False), None, ""
        if dtype.kind == "i":
            return series.to_numpy(dtype="int64", copy=False), None, ""
        return series.to_numpy(dtype="float64", copy=False), None, ""
    mask = series.isna().to_numpy(dtype=bool)
    if ptypes.is_unsigned_integer_dtype(dtype):
        return series.to_numpy(dtype="uint64", na_value=0), mask, ""
    if ptypes.is_integer_dtype(dtype):
        return series.to_numpy(dtype="int64", na_value=0), mask, ""
    return series.to_numpy(dtype="float64", na_value=np.nan), mask, ""


def _counting_sorted(values: np.ndarray) -> np.ndarray | None:
    """Integers spanning fewer values than there are, sorted by counting (several times
    faster than a comparison sort); None for a wider span."""
    if values.size < _COUNTING_MIN or values.dtype.kind not in "iu":
        return None
    low, high = values.min(), values.max()
    if int(high) - int(low) >= values.size:
        return None
    counts = np.bincount((values - low).astype("intp", copy=False))
    return np.repeat(low + np.arange(counts.size, dtype=values.dtype), counts)


def _present_sorted(values: np.ndarray, mask: np.ndarray | None, kind: str) -> np.ndarray:
    """The present values, sorted (a new array)."""
    if kind == "number":
        counted = _counting_sorted(values if mask is None else values[~mask])
        if counted is not None:
            return counted
    if mask is not None:
        ordered = values[~mask]
        ordered.sort()
    else:
        ordered = np.sort(values)
    if ordered.dtype.kind == "f":  # NaN sorts last
        return ordered[: int(np.searchsorted(ordered, np.nan, side="left"))]
    if kind in ("datetime", "timedelta"):  # NaT is the smallest int64: it sorts first
        return ordered[int(np.searchsorted(ordered, _NAT, side="right")) :]
    return ordered


def _absent(values: np.ndarray, mask: np.ndarray | None, kind: str) -> np.ndarray | None:
    """Missing cells as a boolean mask, or None when there can be none."""
    if mask is not None:
        return mask
    if values.dtype.kind == "f":
        return np.isnan(values)
    if kind in ("datetime", "timedelta"):
        return values == _NAT
    return None


def _missing_count(values: np.ndarray, mask: np.ndarray | None, kind: str) -> int:
    absent = _absent(values, mask, kind)
    return 0 if absent is None else int(np.count_nonzero(absent))


def _number_key(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if values.dtype.kind == "f":
        key = values + 0.0  # a new array, and -0.0 becomes 0.0
        key[np.isnan(key)] = np.nan  # one bit pattern for every NaN
        key = key.view("uint64")
    else:
        key = values.view("uint64")
    if mask is not None:
        key = np.where(mask, _MISSING_KEY, key)
    return key


def _number_labels(series: pd.Series, kind: str, unit: str, values: np.ndarray) -> list[str]:
    if kind == "datetime":
        tz = getattr(series.dtype, "tz", None)
        stamps = pd.to_datetime(values, unit=unit, utc=tz is not None)
        if tz is not None:
            stamps = stamps.tz_convert(tz)
        return [str(s) for s in stamps]
    if kind == "timedelta":
        return [str(d) for d in pd.to_timedelta(values, unit=unit)]
    return [str(v) for v in values.tolist()]


def _span(
    series: pd.Series,
    unit: str,
    values: np.ndarray,
    mask: np.ndarray | None,
    ordered: np.ndarray | None,
) -> tuple[str, str] | None:
    """The earliest and latest present instant of every row, as text."""
    if ordered is None:
        absent = _absent(values, mask, "datetime")
        ordered = values if absent is None else values[~absent]
        if ordered.size:
            ordered = np.array([ordered.min(), ordered.max()])
    if not ordered.size:
        return None
    low, high = _number_labels(series, "datetime", unit, ordered[[0, -1]])
    return low, high


def _count_numbers(
    series: pd.Series, kind: str, take: np.ndarray | None, exact: bool, codes_levels: int
) -> Counted:
    values, mask, unit = _native(series, kind)
    row_key = _number_key(values, mask)
    missing = _missing_count(values, mask, kind)
    ordered = _present_sorted(values, mask, kind) if exact else None
    if take is None:
        assert ordered is not None
        part_sorted = ordered
        part_values, part_mask = values, mask
    else:
        part_values = values[take]
        part_mask = None if mask is None else mask[take]
        part_sorted = _present_sorted(part_values, part_mask, kind)
    counted_from = ordered if ordered is not None else part_sorted
    starts, lengths = _runs(counted_from)
    if ordered is not None:
        distinct = int(starts.size)
    else:
        distinct = gee_estimate(lengths, len(values) - missing)
    top_at = most_frequent(lengths, TOP_VALUES)
    labels = _number_labels(series, kind, unit, counted_from[starts[top_at]])
    top = tuple((_clip(label), int(n)) for label, n in zip(labels, lengths[top_at], strict=True))
    span = None
    if kind == "datetime":
        span = _span(series, unit, values, mask, ordered)
    part_codes = None
    if exact and distinct <= min(codes_levels, CODES_MAX_LEVELS):
        codes = np.searchsorted(counted_from[starts], part_values)
        absent = _absent(part_values, part_mask, kind)
        if absent is not None:
            codes[absent] = -1
        part_codes = _small_codes(codes)
    return Counted(
        kind=kind,
        missing=missing,
        distinct=distinct,
        exact=ordered is not None,
        top=top,
        row_key=row_key,
        part_sorted=part_sorted,
        part_codes=part_codes,
        unit=unit,
        span=span,
    )


# -- booleans, categories and objects --------------------------------------------------


def _from_codes(
    kind: str,
    codes: np.ndarray,
    uniques: np.ndarray,
    take: np.ndarray | None,
    codes_levels: int,
    missing: int | None = None,
) -> Counted:
    """Counts from codes 0..len(uniques)-1 per row (-1: missing); drops unseen uniques."""
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    seen = np.flatnonzero(counts)
    if seen.size < len(uniques):  # unobserved categories
        remap = np.full(len(uniques) + 1, -1, dtype="int64")
        remap[seen] = np.arange(seen.size)
        codes = remap[codes]
        uniques, counts = uniques[seen], counts[seen]
    if missing is None:
        missing = int(np.count_nonzero(codes < 0))
    top_at = most_frequent(counts, TOP_VALUES)
    top = tuple((_clip(str(uniques[i])), int(counts[i])) for i in top_at)
    part_codes = None
    if len(uniques) <= codes_levels:
        part_codes = _small_codes(codes if take is None else codes[take])
    return Counted(
        kind=kind,
        missing=missing,
        distinct=len(uniques),
        exact=True,
        top=top,
        row_key=codes.astype("int64", copy=False).view("uint64"),
        uniques=uniques,
        weights=counts,
        part_codes=part_codes,
    )


def _count_bool(series: pd.Series, take: np.ndarray | None, codes_levels: int) -> Counted:
    codes = series.to_numpy(dtype="int8", na_value=-1)
    uniques = np.array([False, True], dtype=object)
    return _from_codes("bool", codes.astype("int64"), uniques, take, codes_levels)


def _count_category(series: pd.Series, take: np.ndarray | None, codes_levels: int) -> Counted:
    codes = np.asarray(series.array.codes, dtype="int64")
    uniques = np.asarray(series.cat.categories, dtype=object)
    return _from_codes("category", codes, uniques, take, codes_levels)


def _addresses(values: np.ndarray) -> np.ndarray:
    """The address of the object in each cell: an object array is an array of pointers."""
    pointers = ctypes.cast(values.ctypes.data, ctypes.POINTER(ctypes.c_ssize_t))
    return np.ctypeslib.as_array(pointers, shape=(len(values),)).copy()


def _factorize(values: Any) -> tuple[np.ndarray, Any]:
    """``pd.factorize(values)``, faster when few objects fill many cells.

    Text read by pandas or built by indexing repeats the same Python object in every
    cell of a value, so the cells are first grouped by address (an integer hashtable,
    several times faster than hashing text) and only one object per address is
    factorized by value. Codes and uniques come out exactly as ``pd.factorize`` gives
    them: both keep the order of first appearance.
    """
    if not isinstance(values, np.ndarray) or values.dtype != object or len(values) < _BY_ADDRESS:
        return pd.factorize(values)
    values = np.ascontiguousarray(values)
    addresses = _addresses(values)
    if len(pd.unique(addresses[:_BY_ADDRESS])) > _BY_ADDRESS // 4:  # mostly distinct objects
        return pd.factorize(values)
    by_address, _ = pd.factorize(addresses)
    codes, uniques = pd.factorize(values[_first_rows(by_address)])
    return codes[by_address], uniques


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The row where each code first appears, for codes numbered in order of first
    appearance (-1: missing): where the running maximum of the codes goes up."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def _holds_lone_surrogates(uniques: Any) -> bool:
    """Whether some distinct text holds a lone surrogate (what ``surrogateescape``
    decoding leaves for undecodable bytes)."""
    try:
        joined = "".join(np.asarray(uniques, dtype=object).tolist())
    except TypeError:  # not all text: pandas hashed the values as objects
        return False
    if joined.isascii():
        return False
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def factorize_cells(series: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of the column's cells (-1: missing), the one way the profiler
    groups values: fast when few objects fill many cells, and right for text with lone
    surrogates, which pandas' string hashtable reads as one and the same value (such
    columns are grouped by the texts' bytes instead). Raises TypeError for unhashable
    cells and NotImplementedError for what pandas cannot factorize (pyarrow lists).
    """
    values = series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
    codes, uniques = _factorize(values)
    if not _holds_lone_surrogates(uniques):
        return codes, uniques
    cells = np.asarray(values, dtype=object)
    keys = np.array(
        [v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v for v in cells],
        dtype=object,
    )
    codes, _ = pd.factorize(keys)
    return codes, cells[_first_rows(codes)]


def _count_objects(series: pd.Series, take: np.ndarray | None, codes_levels: int) -> Counted:
    try:
        codes, uniques = factorize_cells(series)
        missing = None
        distinct = np.asarray(uniques, dtype=object)
    # Unhashable cells (lists, dicts) go by their repr, the rest as they are; so do
    # extension arrays pandas cannot factorize (pyarrow lists and structs).
    except (TypeError, NotImplementedError):
        absent = series.isna()
        codes, _ = pd.factorize(series.map(_hashable_key).where(~absent))
        missing = int(absent.sum())
        seen, first = np.unique(codes, return_index=True)
        distinct = series.to_numpy(dtype=object)[first[seen >= 0]]
    return _from_codes(
        "object", np.asarray(codes, dtype="int64"), distinct, take, codes_levels, missing
    )


def count_values(
    series: pd.Series, take: np.ndarray | None, *, exact: bool, codes_levels: int
) -> Counted:
    """Count ``series``; ``take`` holds the sampled row positions (None: every row).

    ``exact=False`` lets numbers, dates and durations count distinct and top values on
    the sample (with an estimate) instead of sorting the whole column. The sample's
    per-row codes are kept when the column has at most ``codes_levels`` distinct values
    (numbers: at most ``CODES_MAX_LEVELS`` too).
    """
    kind = column_kind(series.dtype)
    if kind in ("datetime", "timedelta") and not hasattr(series.array, "asi8"):
        kind = "object"  # e.g. pyarrow timestamps: counted as objects
    if kind in ("number", "datetime", "timedelta"):
        return _count_numbers(series, kind, take, exact or take is None, codes_levels)
    if kind == "bool":
        return _count_bool(series, take, codes_levels)
    if kind == "category":
        return _count_category(series, take, codes_levels)
    return _count_objects(series, take, codes_levels)


def _hashable_key(value: Any) -> Any:
    """``value`` itself when it can be hashed (so 0 and 0.0 stay equal, as in pandas),
    else a tagged repr."""
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    return value
