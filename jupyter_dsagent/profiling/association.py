"""Cramer's V between categorical columns, from the codes counting already produced.

Each pair costs one ``bincount`` over the rows (a contingency table of at most 51 x 51
cells, missing values in their own row and column, dropped before the statistic), so
``k`` columns cost ``k (k - 1) / 2`` linear passes over small integer arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["cramers_v", "cramers_v_matrix"]


def cramers_v(table: np.ndarray) -> float | None:
    """Cramer's V of a contingency table of counts; None when undefined."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    total = float(table.sum())
    smaller = min(table.shape) - 1
    if total < 2 or smaller < 1:
        return None
    rows = table.sum(axis=1, keepdims=True).astype("float64")
    columns = table.sum(axis=0, keepdims=True).astype("float64")
    # chi2 = n * (sum of O^2 / (row total * column total) - 1)
    chi2 = total * (float((table * table / (rows * columns)).sum()) - 1.0)
    return min(1.0, math.sqrt(max(chi2, 0.0) / (total * smaller)))


def cramers_v_matrix(codes: list[np.ndarray]) -> np.ndarray:
    """Symmetric matrix of Cramer's V between code arrays (-1: missing); NaN if undefined."""
    k = len(codes)
    result = np.full((k, k), np.nan)
    levels = [int(c.max(initial=-1)) + 2 for c in codes]  # +1 for the missing level
    rows = len(codes[0]) if codes else 0
    cells = np.empty(rows, dtype="intp")  # reused: bincount takes intp without a copy
    for i in range(k):
        result[i, i] = 1.0 if levels[i] > 2 else np.nan  # a single level has no spread
        shifted = codes[i].astype("intp") + 1
        for j in range(i + 1, k):
            np.multiply(shifted, levels[j], out=cells)
            cells += codes[j]
            cells += 1
            table = np.bincount(cells, minlength=levels[i] * levels[j])
            table = table.reshape(levels[i], levels[j])[1:, 1:]
            value = cramers_v(table)
            result[i, j] = result[j, i] = np.nan if value is None else value
    return result
