"""Pairwise-complete Pearson correlations, accumulated chunk by chunk.

Memory stays at one chunk of rows times the number of columns, whatever the length of
the frame. Values are shifted by each column's mean before the sums are taken, so the
one-pass formula keeps its precision for large offsets (timestamps, ids). The result
equals ``DataFrame.corr(min_periods=3)`` with non-finite values treated as missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

__all__ = ["CHUNK_ROWS", "MIN_PERIODS", "pearson"]

CHUNK_ROWS = 8_192
MIN_PERIODS = 3


def _source(column: pd.Series) -> Any:
    """The column's array, sliced chunk by chunk without pandas' per-call overhead."""
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy(copy=False)  # a view: no copy of the column
    return column.array


def _chunk(source: Any, start: int, stop: int) -> np.ndarray:
    part = source[start:stop]
    if isinstance(part, np.ndarray):
        return part
    return part.to_numpy(dtype="float64", na_value=np.nan)


def pearson(frame: pd.DataFrame, positions: list[int], centres: list[float]) -> np.ndarray:
    """Correlation matrix of the columns at ``positions``; NaN where undefined."""
    k = len(positions)
    n, sums, squares, products = (np.zeros((k, k)) for _ in range(4))
    shift = np.asarray(centres, dtype="float64")
    columns = [_source(frame[p]) for p in positions]
    x = np.empty((min(CHUNK_ROWS, len(frame)), k))
    # The products are small (k x k): BLAS threads only fight over the cores here.
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(frame), CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, len(frame))
            block = x[: stop - start]
            for i, column in enumerate(columns):
                block[:, i] = _chunk(column, start, stop)
            # Huge values overflow to inf here; such cells end up NaN, on purpose.
            with np.errstate(all="ignore"):
                block -= shift
                valid = np.isfinite(block)
                block[~valid] = 0.0
                weights = valid.astype("float64")
                n += weights.T @ weights
                sums += block.T @ weights
                squares += (block * block).T @ weights
                products += block.T @ block
    with np.errstate(all="ignore"):
        numerator = n * products - sums * sums.T
        spread = n * squares - sums * sums
        result = numerator / np.sqrt(spread * spread.T)
    result[(n < MIN_PERIODS) | ~np.isfinite(result)] = np.nan
    return np.clip(result, -1.0, 1.0)
