"""A small LRU of profiles keyed by a content fingerprint of the frame.

The fingerprint covers the shape, the column labels and dtypes and every cell: number,
date and boolean columns hash their raw bytes (dates with a time zone their int64 ticks,
nullable numbers their values and missing mask), text one joined string, other columns
pandas' per-value hashes.
So an edit anywhere (one cell, a swap of two values) gives a new profile, while an
unchanged frame is recognised at a small fraction of the cost of profiling it. Columns
are hashed apart, two at a time on a large frame, and their digests then together.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from jupyter_dsagent.profiling.threads import column_pool

if TYPE_CHECKING:
    from jupyter_dsagent.profiling.model import Profile

__all__ = ["CACHE_SIZE", "ProfileCache", "fingerprint"]

CACHE_SIZE = 16


def fingerprint(df: pd.DataFrame) -> str:
    """A hex digest that changes with the frame's shape, labels, dtypes or any cell."""
    digest = hashlib.sha1(usedforsecurity=False)  # a cache key, not a security check
    digest.update(repr((df.shape, [repr(c) for c in df.columns])).encode())
    digest.update(repr([str(t) for t in df.dtypes]).encode())
    columns = (df.iloc[:, position] for position in range(df.shape[1]))
    with column_pool(len(df)) as pool:
        for column_digest in pool.map(_column_digest, columns):
            digest.update(column_digest)
    return digest.hexdigest()


def _column_digest(column: pd.Series) -> bytes:
    digest = hashlib.sha1(usedforsecurity=False)
    for chunk in _column_chunks(column):
        # Each chunk's size first, so that no two chunks' bytes can run together.
        digest.update(memoryview(chunk).nbytes.to_bytes(8, "little"))
        digest.update(chunk)
    return digest.digest()


def _column_chunks(column: pd.Series) -> list[Any]:
    """Byte chunks that determine the column's cells (its dtype is hashed apart)."""
    values: Any = column.array
    if isinstance(values, pd.Categorical):
        return [_hashed(values.categories.to_numpy()), values.codes]
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return [_raw(column.to_numpy())]
    if hasattr(values, "asi8"):  # dates with a time zone, periods: int64 ticks, NaT too
        return [_raw(values.asi8)]
    numpy_dtype = getattr(dtype, "numpy_dtype", None)  # nullable and pyarrow numbers
    if isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "biuf":
        missing = column.isna().to_numpy(dtype=bool)
        try:
            filled = column.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
        except (TypeError, ValueError):
            filled = None
        if filled is not None:
            return [_raw(missing), _raw(filled)]
    return _object_chunks(column.to_numpy(dtype=object))


def _raw(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).view(np.uint8)


def _object_chunks(values: np.ndarray) -> list[Any]:
    """Text columns hash as one string plus the value lengths (far faster than hashing
    value by value); anything else by pandas' per-value hash."""
    try:  # the common case, text without missing values, in one step
        return _text_chunks(b"s", "\x00".join(values.tolist()), values)
    except TypeError:  # missing values or other types
        pass
    missing = pd.isna(values)
    present = values[~missing] if missing.any() else values
    if pd.api.types.infer_dtype(present, skipna=False) == "string":
        return _text_chunks(missing.view(np.uint8), "\x00".join(present.tolist()), present)
    return [_hashed(values)]


def _text_chunks(head: Any, text: str, present: np.ndarray) -> list[Any]:
    encoded = text.encode("utf-8", "surrogatepass")  # NUL is the only zero byte in UTF-8
    chunks: list[Any] = [head, encoded]
    if encoded.count(0) != max(len(present) - 1, 0):
        # A value holds the separator itself: the lengths keep the key unambiguous.
        chunks.append(np.fromiter(map(len, present), dtype=np.int64, count=len(present)))
    return chunks


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
