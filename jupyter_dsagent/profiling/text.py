"""Lengths, spaces and first characters of many strings at once, without a Python loop.

The strings are joined with NUL separators and encoded to fixed-width code units
(Latin-1 bytes when every character fits, UTF-32 otherwise), so numpy finds the
separators, spaces and first characters of a whole chunk in a few vectorised passes.
Work goes chunk by chunk, so the extra memory stays at one chunk whatever the column.
A string that itself holds a NUL makes its chunk fall back to plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np

__all__ = ["CHUNK_STRINGS", "StringScan", "scan_strings"]

CHUNK_STRINGS = 16_384
_SPACE = ord(" ")


@dataclass
class StringScan:
    """Per string: its length in code points, its first code point (-1 when empty), and
    whether it holds a space."""

    lengths: np.ndarray
    first: np.ndarray
    spaced: np.ndarray


def _code_units(text: str) -> np.ndarray:
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype="uint8")
    try:
        return np.frombuffer(text.encode("latin-1"), dtype="uint8")
    except UnicodeEncodeError:
        return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="uint32")


def _scan_python(chunk: list[str]) -> StringScan:
    n = len(chunk)
    return StringScan(
        lengths=np.fromiter(map(len, chunk), dtype="int64", count=n),
        first=np.fromiter((ord(s[0]) if s else -1 for s in chunk), dtype="int64", count=n),
        spaced=np.fromiter(map(str.__contains__, chunk, repeat(" ")), dtype=bool, count=n),
    )


def _scan_chunk(chunk: list[str]) -> StringScan:
    units = _code_units("\x00".join(chunk))
    separators = np.flatnonzero(units == 0)  # NUL is a zero unit in every encoding used
    if separators.size != len(chunk) - 1:  # a string holds NUL itself
        return _scan_python(chunk)
    starts = np.concatenate(([0], separators + 1))
    lengths = np.diff(starts, append=units.size + 1) - 1
    first = np.full(len(chunk), -1, dtype="int64")
    filled = lengths > 0
    first[filled] = units[starts[filled]]
    spaced = np.zeros(len(chunk), dtype=bool)
    spaced[np.searchsorted(starts, np.flatnonzero(units == _SPACE), side="right") - 1] = True
    return StringScan(lengths.astype("int64"), first, spaced)


def scan_strings(values: np.ndarray) -> StringScan:
    """Scan ``values``, an object array of ``str`` only."""
    scans = [
        _scan_chunk(values[start : start + CHUNK_STRINGS].tolist())
        for start in range(0, len(values), CHUNK_STRINGS)
    ]
    if not scans:
        empty = np.zeros(0, dtype="int64")
        return StringScan(empty, empty, np.zeros(0, dtype=bool))
    return StringScan(
        lengths=np.concatenate([s.lengths for s in scans]),
        first=np.concatenate([s.first for s in scans]),
        spaced=np.concatenate([s.spaced for s in scans]),
    )
