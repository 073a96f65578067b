"""Statistics of a sorted array: quantiles, histograms and moments without another sort.

The column's present values are sorted once (``values.py``); quantiles are then read off
by index (numpy's "linear" method), histogram counts by binary search at the bin edges
(the same bins and counts as ``np.histogram``), and only the moments need a pass over
the data.
"""

from __future__ import annotations

import math

import numpy as np

from jupyter_dsagent.profiling.model import Histogram, NumericStats

__all__ = [
    "HIST_BINS",
    "QUANTILES",
    "datetime_histogram",
    "numeric_stats",
    "sorted_quantiles",
    "to_seconds",
]

HIST_BINS = 20
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def to_seconds(ticks: np.ndarray, unit: str) -> np.ndarray:
    """int64 ticks of ``unit`` (s, ms, us, ns) as float seconds; order is kept."""
    return ticks.astype("float64") / _PER_SECOND.get(unit, 10**9)


def sorted_quantiles(values: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """``np.quantile(values, qs)`` for an already sorted, non-empty float array."""
    last = values.size - 1
    position = np.asarray(qs, dtype="float64") * last
    below = np.floor(position).astype("int64")
    above = np.minimum(below + 1, last)
    share = position - below
    low, high = values[below], values[above]
    with np.errstate(all="ignore"):  # numpy's own lerp, for identical results
        step = high - low
        return np.where(share >= 0.5, high - step * (1 - share), low + step * share)


def _histogram(values: np.ndarray, low: float, high: float, distinct: int) -> Histogram | None:
    """``np.histogram(values, bins, range=(low, high))`` of a sorted array."""
    if low == high:
        return Histogram((low, high), (int(values.size),))
    if not math.isfinite(high - low):
        return None
    bins = max(1, min(HIST_BINS, distinct))
    edges = np.linspace(low, high, bins + 1)
    if np.any(edges[:-1] >= edges[1:]):  # a range too narrow for the bins in float64
        return None
    below = np.searchsorted(values, edges[1:-1], side="left")
    counts = np.diff(below, prepend=0, append=values.size)
    return Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


def _whole_numbers(values: np.ndarray, chunk: int = 65_536) -> bool:
    """Whether every value is a whole number; stops at the first chunk that is not."""
    for start in range(0, values.size, chunk):
        part = values[start : start + chunk]
        if not np.array_equal(np.floor(part), part):
            return False
    return True


def numeric_stats(ordered: np.ndarray, distinct: int, *, integral: bool) -> NumericStats:
    """Statistics of the sorted, present (non-NaN) float64 values ``ordered``.

    ``integral`` says the values came from an integer dtype, so the whole-number check
    can be skipped.
    """
    start = int(np.searchsorted(ordered, -np.inf, side="right"))
    stop = int(np.searchsorted(ordered, np.inf, side="left"))
    finite = ordered[start:stop]
    infinite = int(ordered.size - finite.size)
    if finite.size == 0:
        return NumericStats(None, None, None, None, {}, None, infinite, False, None)
    low, high = float(finite[0]), float(finite[-1])
    with np.errstate(all="ignore"):  # overflow to inf is reported as None, on purpose
        mean = float(finite.mean())
        centred = finite - mean
        # einsum, not np.dot: BLAS threads would only fight over the cores for a dot product.
        m2 = float(np.einsum("i,i->", centred, centred)) / finite.size
        m3 = float(np.einsum("i,i,i->", centred, centred, centred)) / finite.size
        del centred
        std = math.sqrt(m2 * finite.size / (finite.size - 1)) if finite.size > 1 else None
        skew = m3 / m2**1.5 if m2 > 0 and math.isfinite(m2) and math.isfinite(m3) else None
        integer_valued = integral or _whole_numbers(finite)
        quantiles = sorted_quantiles(finite, QUANTILES)
        histogram = _histogram(finite, low, high, distinct)
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


def datetime_histogram(ordered: np.ndarray, unit: str, distinct: int) -> Histogram | None:
    """Equal-width bins over time of the sorted int64 instants ``ordered`` (in ``unit``)."""
    if ordered.size == 0:
        return None
    per_second = _PER_SECOND.get(unit)
    if per_second is None:
        return None
    low, high = int(ordered[0]), int(ordered[-1])
    bins = max(1, min(HIST_BINS, distinct, high - low))
    # Exact integer edges (Python ints do not overflow), so every instant falls in one bin.
    edges = [low + (high - low) * i // bins for i in range(bins + 1)]
    below = np.searchsorted(ordered, np.asarray(edges[1:-1], dtype="int64"), side="left")
    counts = np.diff(below, prepend=0, append=ordered.size)
    return Histogram(tuple(e / per_second for e in edges), tuple(int(c) for c in counts))
