"""Pairwise-complete Pearson correlations, accumulated chunk by chunk.

Memory stays at one chunk of rows times the number of columns, whatever the length of
the frame. Values are shifted by each column's mean before the sums are taken, so the
one-pass formula keeps its precision for large offsets (timestamps, ids). The result
equals ``DataFrame.corr(min_periods=3)`` with non-finite values treated as missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CHUNK_ROWS", "MIN_PERIODS", "pearson"]

CHUNK_ROWS = 65_536
MIN_PERIODS = 3


def pearson(frame: pd.DataFrame, positions: list[int], centres: list[float]) -> np.ndarray:
    """Correlation matrix of the columns at ``positions``; NaN where undefined."""
    k = len(positions)
    n = np.zeros((k, k))
    sums = np.zeros((k, k))
    squares = np.zeros((k, k))
    products = np.zeros((k, k))
    shift = np.asarray(centres, dtype="float64")
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = frame.iloc[start : start + CHUNK_ROWS]
        x = np.column_stack(
            [chunk[p].to_numpy(dtype="float64", na_value=np.nan) for p in positions]
        )
        # Huge values overflow to inf here; such cells end up NaN, on purpose.
        with np.errstate(all="ignore"):
            x = x - shift
            valid = np.isfinite(x)
            x = np.where(valid, x, 0.0)
            weights = valid.astype("float64")
            n += weights.T @ weights
            sums += x.T @ weights
            squares += (x * x).T @ weights
            products += x.T @ x
    with np.errstate(all="ignore"):
        numerator = n * products - sums * sums.T
        spread = n * squares - sums * sums
        result = numerator / np.sqrt(spread * spread.T)
    result[(n < MIN_PERIODS) | ~np.isfinite(result)] = np.nan
    return np.clip(result, -1.0, 1.0)
