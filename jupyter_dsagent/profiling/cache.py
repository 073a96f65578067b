"""A small LRU of profiles keyed by a content fingerprint of the frame.

The fingerprint covers the shape, the column labels and dtypes and every cell: number,
date and boolean columns hash their raw bytes, other columns pandas' per-value hashes.
So an edit anywhere (one cell, a swap of two values) gives a new profile, while an
unchanged frame is recognised at a small fraction of the cost of profiling it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from jupyter_dsagent.profiling.model import Profile

__all__ = ["CACHE_SIZE", "ProfileCache", "fingerprint"]

CACHE_SIZE = 16


def fingerprint(df: pd.DataFrame) -> str:
    """A hex digest that changes with the frame's shape, labels, dtypes or any cell."""
    digest = hashlib.sha1(usedforsecurity=False)  # a cache key, not a security check
    digest.update(repr((df.shape, [repr(c) for c in df.columns])).encode())
    digest.update(repr([str(t) for t in df.dtypes]).encode())
    for position in range(df.shape[1]):
        for chunk in _column_chunks(df.iloc[:, position]):
            digest.update(chunk)
    return digest.hexdigest()


def _column_chunks(column: pd.Series) -> list[Any]:
    values: Any = column.array
    if isinstance(values, pd.Categorical):
        return [_hashed(values.categories.to_numpy()), values.codes]
    raw = column.to_numpy() if column.dtype.kind in "biufcmM" else None
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "biufcmM":
        return [np.ascontiguousarray(raw).view(np.uint8)]
    return _object_chunks(column.to_numpy(dtype=object))


def _object_chunks(values: np.ndarray) -> list[Any]:
    """Text columns hash as one string plus the value lengths (far faster than hashing
    value by value); anything else by pandas' per-value hash."""
    missing = pd.isna(values)
    present = values[~missing] if missing.any() else values
    if pd.api.types.infer_dtype(present, skipna=False) == "string":
        text = "\x00".join(present)
        chunks: list[Any] = [missing.view(np.uint8), text.encode("utf-8", "surrogatepass")]
        if text.count("\x00") != max(len(present) - 1, 0):
            # A value holds the separator itself: the lengths keep the key unambiguous.
            chunks.append(np.fromiter(map(len, present), dtype=np.int64, count=len(present)))
        return chunks
    return [_hashed(values)]


def _hashed(values: np.ndarray) -> np.ndarray:
    """pandas' 64-bit hash of each value; values it cannot hash go by their repr."""
    try:
        return pd.util.hash_array(values, categorize=False)
    except (TypeError, ValueError):
        return pd.util.hash_array(
            np.array([repr(v) for v in values], dtype=object), categorize=False
        )


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
