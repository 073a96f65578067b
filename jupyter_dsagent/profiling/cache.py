"""A small LRU of profiles keyed by a cheap content fingerprint of the frame.

The fingerprint covers the shape, the column labels and dtypes, a hash of up to
``FINGERPRINT_ROWS`` evenly spaced rows (always the first and last) and, for number
columns, the sum of the whole column. What can fool it: a change outside the hashed rows
in a column that is not a number (text, dates, categories, booleans), or a change to
number cells that leaves the column sum the same (swapping two values, +x here and -x
there). Pass ``use_cache=False`` to :func:`profile` after such edits.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

if TYPE_CHECKING:
    from jupyter_dsagent.profiling.model import Profile

__all__ = ["CACHE_SIZE", "FINGERPRINT_ROWS", "ProfileCache", "fingerprint"]

CACHE_SIZE = 16
FINGERPRINT_ROWS = 1000


def fingerprint(df: pd.DataFrame) -> str:
    """A hex digest that changes with the frame's shape, labels, dtypes and (most) content."""
    digest = hashlib.sha256()
    digest.update(repr((df.shape, [repr(c) for c in df.columns])).encode())
    digest.update(repr([str(t) for t in df.dtypes]).encode())
    positional = df.copy(deep=False)
    positional.columns = pd.RangeIndex(df.shape[1])
    rows = len(df)
    if rows and df.shape[1]:
        take = np.unique(np.linspace(0, rows - 1, num=min(rows, FINGERPRINT_ROWS), dtype="int64"))
        sample = positional.iloc[take]
        try:
            hashed = pd.util.hash_pandas_object(sample, index=False).to_numpy()
        except (TypeError, ValueError):  # cells hash_pandas_object cannot handle
            hashed = pd.util.hash_pandas_object(sample.astype(str), index=False).to_numpy()
        digest.update(np.ascontiguousarray(hashed).tobytes())
        sums = []
        for position in range(df.shape[1]):
            column = positional[position]
            dtype = column.dtype
            if ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype):
                if ptypes.is_complex_dtype(dtype):
                    continue
                values = column.to_numpy(dtype="float64", na_value=np.nan)
                with np.errstate(all="ignore"):
                    sums.append(float(np.nansum(values)))
        digest.update(repr(sums).encode())
    return digest.hexdigest()


class ProfileCache:
    """Thread-safe LRU of at most ``size`` entries."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Profile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Profile | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: Profile) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
