"""The bytes of the counting pass, read in steps, with the ones that matter located.

This is the part of the pass that touches every byte (reading, comparisons,
``flatnonzero``); numpy releases the GIL for it, so :class:`ChunkReader` can run one
step ahead in a worker thread while the scanner interprets the previous step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from ..export import FORMULA_PREFIXES
from .head import nul_bytes

__all__ = [
    "CR",
    "FORMULA_BYTES",
    "FORMULA_SAMPLE",
    "LF",
    "PAD",
    "QUOTE",
    "TAB",
    "Chunk",
    "ChunkReader",
    "is_field_start",
]

LF, CR, QUOTE, TAB = 10, 13, 34, ord("\t")
#: First bytes of a cell that a spreadsheet would run as a formula (export.py's rule).
FORMULA_BYTES: Final = tuple(ord(c) for c in FORMULA_PREFIXES)

PAD: Final = 64  # look-behind and look-ahead kept around each step
_CHUNK: Final = 1 << 20
FORMULA_SAMPLE: Final = 64 << 20  # formula cells are counted in this many leading bytes


@dataclass(frozen=True)
class Chunk:
    """One step of the pass: a buffer with look-around and the offsets found in it.

    ``buf[lo:hi]`` is the region to process; the ``PAD`` bytes on either side are
    valid neighbours (past the end of the file they are line feeds). ``positions``
    are offsets from ``lo`` of every watched byte, ``kinds`` their values.
    """

    buf: bytearray
    arr: npt.NDArray[np.uint8]
    base: int  # stream offset of buf[0]
    lo: int
    hi: int
    new: npt.NDArray[np.uint8]  # the bytes read for this step, for the encoding check
    high: npt.NDArray[np.intp]  # offsets in ``new`` of bytes >= 0x80 (empty if not checked)
    present: tuple[int, ...]
    positions: npt.NDArray[np.intp]
    kinds: npt.NDArray[np.uint8]
    formulas: bool  # formula cells are counted in this step
    eof: bool


def is_field_start(values: npt.NDArray[np.uint8], sep: int) -> npt.NDArray[np.bool_]:
    """Bytes after which a new field starts (outside quotes)."""
    return (values == sep) | (values == LF) | (values == CR)


class ChunkReader:
    """Reads the stream in steps and finds the bytes that matter, ahead of the scanner."""

    def __init__(self, readinto: Callable[[memoryview], int], sep: int, check_high: bool) -> None:
        self._readinto = readinto
        self._check_high = check_high
        self._structural = (LF, CR, QUOTE)
        self._with_formulas = tuple(dict.fromkeys((*self._structural, *FORMULA_BYTES)))
        self._with_formulas = tuple(b for b in self._with_formulas if b != sep)
        size = 2 * PAD + _CHUNK + PAD
        self._buffers = [bytearray(size) for _ in range(3)]  # in use, being filled, spare
        self._turn = 0
        self._mask = np.empty(size, dtype=bool)
        self._scratch = np.empty(size, dtype=bool)
        self._tail = b"\n" * (2 * PAD)  # as if a record had just ended before the data
        self._base = -2 * PAD
        self._done = 0
        self.size = 0

    def next(self) -> Chunk:
        buf = self._buffers[self._turn]
        self._turn = (self._turn + 1) % len(self._buffers)
        buf[: 2 * PAD] = self._tail
        count = self._fill(memoryview(buf)[2 * PAD : 2 * PAD + _CHUNK])
        self.size += count
        end = 2 * PAD + count
        eof = count < _CHUNK
        if eof:
            buf[end : end + PAD] = b"\n" * PAD
        base, lo, hi = self._base, self._done - self._base, end if eof else end - PAD
        self._tail = bytes(buf[end - 2 * PAD : end])
        self._base += end - 2 * PAD
        self._done = base + hi
        if buf.find(0, lo, hi) != -1:
            raise nul_bytes()
        arr = np.frombuffer(buf, dtype=np.uint8)
        new = arr[2 * PAD : end]
        formulas = base + lo < FORMULA_SAMPLE
        watched = self._with_formulas if formulas else self._structural
        present = tuple(b for b in watched if buf.find(b, lo, hi) != -1)
        positions, kinds = self._positions(arr[lo:hi], present)
        return Chunk(
            buf, arr, base, lo, hi, new, self._high(new), present, positions, kinds, formulas, eof
        )

    def _fill(self, target: memoryview) -> int:
        """Read until ``target`` is full or the stream ends (reads may come back short)."""
        filled = 0
        while filled < len(target):
            count = self._readinto(target[filled:])
            if not count:
                break
            filled += count
        return filled

    def _high(self, new: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
        if not self._check_high or not len(new) or int(new.max()) < 128:
            return np.empty(0, dtype=np.intp)
        mask = self._mask[: len(new)]
        np.greater_equal(new, 128, out=mask)
        return np.flatnonzero(mask)

    def _positions(
        self, window: npt.NDArray[np.uint8], present: Sequence[int]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint8]]:
        if not present:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.uint8)
        mask = self._mask[: len(window)]
        np.equal(window, present[0], out=mask)
        scratch = self._scratch[: len(window)]
        for value in present[1:]:
            np.equal(window, value, out=scratch)
            mask |= scratch
        positions = np.flatnonzero(mask)
        return positions, window[positions]
