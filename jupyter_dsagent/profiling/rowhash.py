"""Duplicate rows by a 64-bit hash of each row, folded in one column at a time.

Each column gives a 64-bit key per row (equal cells, equal keys: factorize codes for
text, the bits of numbers); the running row hash takes the key by XOR and is then mixed
with the splitmix64 finaliser, a bijection of 64-bit words, in place. Memory: two arrays
of one uint64 per row, whatever the number of columns. Two different rows share a hash
with probability about 2**-64 per pair, so the count can only be too high, and only by
such a collision.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RowHasher"]

_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


class RowHasher:
    """Accumulates one key array per column; :meth:`duplicates` counts repeated rows."""

    def __init__(self, rows: int) -> None:
        self._hashes = np.zeros(rows, dtype="uint64")
        self._scratch = np.empty(rows, dtype="uint64")

    def add(self, keys: np.ndarray) -> None:
        """Fold in the next column's keys (uint64, one per row)."""
        hashes, scratch = self._hashes, self._scratch
        np.bitwise_xor(hashes, keys, out=hashes)
        for shift, multiplier in ((30, _MIX_1), (27, _MIX_2), (31, None)):
            np.right_shift(hashes, np.uint64(shift), out=scratch)
            np.bitwise_xor(hashes, scratch, out=hashes)
            if multiplier is not None:
                np.multiply(hashes, multiplier, out=hashes)  # wraps modulo 2**64

    def duplicates(self) -> int:
        """Rows whose hash equals an earlier row's; the hasher is spent afterwards."""
        hashes = self._hashes
        if hashes.size < 2:
            return 0
        hashes.sort()  # in place: equal hashes become neighbours, no hashtable needed
        return int(np.count_nonzero(hashes[1:] == hashes[:-1]))
