"""Pairwise-complete Pearson correlations, accumulated chunk by chunk.

Memory stays at one chunk of rows times the number of columns (at most ``CHUNK_CELLS``
cells), whatever the length of the frame. Values are shifted by each column's mean
before the sums are taken, so the one-pass formula keeps its precision for large
offsets (timestamps, ids). The result equals ``DataFrame.corr(min_periods=3)`` with
non-finite values treated as missing.
"""

from __future__ import annotations

import functools
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

__all__ = ["CHUNK_CELLS", "CHUNK_ROWS", "MIN_PERIODS", "pearson"]

CHUNK_ROWS = 32_768
#: At most this many cells (4 MB of float64) per chunk, however many columns.
CHUNK_CELLS = 2**19
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


def _distinct_masks(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``valid`` (columns x rows) as 0/1 weights, the first all ones,
    and which weight row each column uses. Columns without missing cells share the first
    row and columns with the same missing cells one row, so the products with the
    weights shrink from columns x columns to columns x masks (often 1 or 2)."""
    which = np.zeros(len(valid), dtype="intp")
    firsts: list[int] = []
    seen: dict[bytes, int] = {}
    for i in np.flatnonzero(~valid.all(axis=1)):
        which[i] = seen.setdefault(valid[i].tobytes(), len(firsts) + 1)
        if which[i] > len(firsts):
            firsts.append(int(i))
    weights = np.empty((len(firsts) + 1, valid.shape[1]))
    weights[0] = 1.0
    weights[1:] = valid[firsts]
    return weights, which


@functools.cache
def _blas() -> ThreadpoolController:
    """Found once: looking up the loaded BLAS libraries reads the process's memory map."""
    return ThreadpoolController()


def _moments(columns: list[Any], shift: np.ndarray, start: int, stop: int, step: int) -> np.ndarray:
    """Pairwise counts, sums, sums of squares and products of rows ``start:stop``,
    stacked: ``n, sums, squares, products = _moments(...)``."""
    k = len(columns)
    totals = np.zeros((4, k, k))
    n, sums, squares, products = totals
    x = np.empty((k, min(step, stop - start)))  # one row per column: contiguous copies
    for first in range(start, stop, step):
        last = min(first + step, stop)
        block = x[:, : last - first]
        for i, column in enumerate(columns):
            block[i] = _chunk(column, first, last)
        # Huge values overflow to inf here; such cells end up NaN, on purpose.
        with np.errstate(all="ignore"):
            block -= shift
            valid = np.isfinite(block)
            weights, which = _distinct_masks(valid)
            if len(weights) > 1:
                np.copyto(block, 0.0, where=~valid)
            chunk_products = block @ block.T
            # Sums of squares where the other column is present; under the all-ones
            # weight that is the diagonal of the products.
            chunk_squares = np.empty((k, len(weights)))
            chunk_squares[:, 0] = np.diagonal(chunk_products)
            if len(weights) > 1:
                chunk_squares[:, 1:] = (block * block) @ weights[1:].T
            products += chunk_products
            sums += (block @ weights.T)[:, which]
            squares += chunk_squares[:, which]
            n += (weights @ weights.T)[np.ix_(which, which)]
    return totals


def pearson(
    frame: pd.DataFrame,
    positions: list[int],
    centres: list[float],
    pool: Executor | None = None,
) -> np.ndarray:
    """Correlation matrix of the columns at ``positions``; NaN where undefined.

    With a ``pool``, one of its threads sums the first half of the rows while the
    caller sums the second (the sums add up; numpy releases the GIL meanwhile).
    """
    k, rows = len(positions), len(frame)
    shift = np.asarray(centres, dtype="float64")[:, None]
    columns = [_source(frame[p]) for p in positions]
    step = max(1, min(CHUNK_ROWS, CHUNK_CELLS // max(k, 1)))
    # The products are small (k x k): BLAS threads only fight over the cores here.
    with _blas().limit(limits=1, user_api="blas"):
        if pool is None or rows < 2 * step:
            totals = _moments(columns, shift, 0, rows, step)
        else:
            middle = rows // 2 // step * step
            first_half = pool.submit(_moments, columns, shift, 0, middle, step)
            totals = _moments(columns, shift, middle, rows, step)
            totals += first_half.result()
    n, sums, squares, products = totals
    with np.errstate(all="ignore"):
        numerator = n * products - sums * sums.T
        spread = n * squares - sums * sums
        result = numerator / np.sqrt(spread * spread.T)
    result[(n < MIN_PERIODS) | ~np.isfinite(result)] = np.nan
    return np.clip(result, -1.0, 1.0)
