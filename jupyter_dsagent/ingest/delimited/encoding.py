"""Settles the file's codec: the byte-order mark's; else UTF-8, verified on every byte
during the counting pass; else the single-byte codec that decodes every byte value the
file holds and reads most plausibly.

:class:`EncodingCheck` rides along the pass (it sees each step's bytes once);
:func:`final_encoding` decides when the pass is over.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from charset_normalizer import from_bytes

from ...exceptions import TableError
from .chunks import PAD, Chunk
from .head import HEAD_BYTES, Head, undecodable

__all__ = ["CheckKind", "EncodingCheck", "final_encoding", "is_single_byte"]

#: What the pass checks: UTF-8 (with or without a BOM that makes failure fatal), the byte
#: values a single-byte codec must decode, or nothing (UTF-16/32, already decoded).
CheckKind = Literal["utf-8", "utf-8-bom", "high-bytes", "none"]

_ASCII_BYTES: Final = bytes(range(128))
_ENCODING_WINDOW: Final = 64 << 10
_WESTERN: Final = ("cp1252", "latin_1", "mac_roman")
_CHAOS_MARGIN: Final = 0.01  # a charset-normalizer chaos difference we treat as evidence
_GIBBERISH: Final = 0.2  # charset-normalizer's own threshold for "not this codec"
_CR_ONLY_SLACK: Final = 0.05  # how much worse Mac Roman may score and still win on CR-only files
_CANONICAL_CODECS: Final = {"iso8859-1": "latin-1", "mac-roman": "mac_roman"}
_NOT_C1_BYTES: Final = bytes([*range(0x80), *range(0xA0, 0x100)])
# cp1252's euro sign, low and curly quotes, ellipsis, daggers, bullet, dashes, trade mark
_CP1252_PUNCTUATION: Final = bytes([0x80, 0x82, 0x84, 0x85, 0x86, 0x87, *range(0x91, 0x98), 0x99])


# -- during the pass ---------------------------------------------------------------------


def _runs_are_whole(new: npt.NDArray[np.uint8], high: npt.NDArray[np.intp], pending: bool) -> bool:
    """Whether no UTF-8 character can straddle two runs of bytes >= 0x80 in ``new``.

    A run must begin with a lead byte (not a continuation byte 0x80-0xBF), except a run
    at the very start that continues a character left pending by the previous step; and
    pending bytes must be continued by such a run.
    """
    if not len(high):
        return not pending
    run_starts = np.flatnonzero(np.diff(high) != 1) + 1
    continuation = (new[high[run_starts]] & 0xC0) == 0x80
    touches_start = high[0] == 0
    first_is_continuation = (int(new[high[0]]) & 0xC0) == 0x80
    return not continuation.any() and (
        first_is_continuation == pending if touches_start else not pending
    )


class EncodingCheck:
    """Validates UTF-8 step by step, or tallies the byte values a single-byte codec must
    decode; where UTF-8 first fails, it switches from the one to the other."""

    def __init__(self, kind: CheckKind) -> None:
        self._kind = kind
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_pending = False
        self.utf8_ok = kind in ("utf-8", "utf-8-bom")
        self.utf8_error: int | None = None
        self.high_bytes = np.zeros(256, dtype=np.int64)
        self.high_bytes_from = 0 if kind == "high-bytes" else -1

    def step(self, chunk: Chunk) -> None:
        """Validate UTF-8, or tally the byte values a single-byte codec must decode."""
        offset = chunk.base + 2 * PAD
        if self.utf8_ok and (len(chunk.high) or self._utf8_pending):
            self._validate_utf8(chunk.new, chunk.high, offset)
        if self.high_bytes_from >= 0 and len(chunk.high):
            self.high_bytes += np.bincount(chunk.new[chunk.high], minlength=256)

    def finish(self, end: int) -> None:
        """A character still pending at the end of the file (offset ``end``) is cut short."""
        if self.utf8_ok:
            self._decode_utf8(b"", end, final=True)

    def _validate_utf8(
        self, new: npt.NDArray[np.uint8], high: npt.NDArray[np.intp], offset: int
    ) -> None:
        """Decode only the non-ASCII bytes, run after run, without the ASCII between.

        Equivalent to decoding all of ``new``: no multi-byte character contains an ASCII
        byte, so the text is valid iff each run is, which holds iff the runs decode
        together, none starts mid-character and none but the last ends mid-character.
        Several times faster on text that is mostly ASCII.
        """
        whole = _runs_are_whole(new, high, self._utf8_pending)
        try:
            self._utf8.decode(new[high].tobytes(), False)
        except UnicodeDecodeError:
            whole = False
        self._utf8_pending = bool(self._utf8.getstate()[0])
        if whole and self._utf8_pending and len(high) and high[-1] != len(new) - 1:
            whole = False  # a character cut short by the ASCII byte after it
        if not whole:
            self._utf8_failed(new.tobytes(), offset)

    def _decode_utf8(self, data: bytes, offset: int, *, final: bool) -> None:
        try:
            self._utf8.decode(data, final)
        except UnicodeDecodeError:
            self._utf8_failed(data, offset)

    def _utf8_failed(self, data: bytes, offset: int) -> None:
        if self._kind == "utf-8-bom":
            raise undecodable("utf-8")
        self.utf8_ok = False
        self.high_bytes_from = offset
        try:  # where exactly, to sample the text around it
            codecs.getincrementaldecoder("utf-8")().decode(data, False)
        except UnicodeDecodeError as exc:
            offset += exc.start
        self.utf8_error = offset


# -- after the pass: choosing a single-byte codec when the file is not UTF-8 --------------


def final_encoding(
    path: Path, head: Head, check: EncodingCheck, line_terminator: str
) -> tuple[str, bool]:
    """The codec to store, and whether it was guessed rather than known."""
    if head.bom_codec is not None:
        return head.bom_codec, False
    if check.utf8_ok:
        return "utf-8", False
    counts = check.high_bytes
    if check.high_bytes_from > 0:  # the file looked like UTF-8 until then
        counts = counts + _high_byte_counts(path, check.high_bytes_from)
    seen = bytes(np.flatnonzero(counts).tolist())
    sample = _non_ascii_sample(path, check.utf8_error or 0)
    for codec in _rank_single_byte(sample, cr_only=line_terminator == "\r"):
        if _decodes(seen, codec):
            return codec, True
    raise TableError(
        "The file is not UTF-8 and does not read as text in any single-byte encoding we recognise.",
        code="csv_undecodable",
    )


def _high_byte_counts(path: Path, end: int) -> npt.NDArray[np.int64]:
    counts = np.zeros(256, dtype=np.int64)
    with path.open("rb") as handle:
        remaining = end
        while remaining > 0:
            chunk = handle.read(min(remaining, HEAD_BYTES))
            if not chunk:
                break
            remaining -= len(chunk)
            high = chunk.translate(None, _ASCII_BYTES)
            counts += np.bincount(np.frombuffer(high, dtype=np.uint8), minlength=256)
    return counts


def _non_ascii_sample(path: Path, focus: int) -> bytes:
    """What charset-normalizer judges: the file's start, then lines holding non-ASCII
    bytes from around the first bad byte, the middle and the end.

    The ASCII context matters: charset-normalizer rates how messy a decoding looks
    relative to the text around it, and a few odd bytes alone look messy in any codec.
    """
    window = _ENCODING_WINDOW
    with path.open("rb") as handle:
        start = handle.read(window + 1)
        if len(start) <= window:
            return start  # the whole file
        size = handle.seek(0, io.SEEK_END)
        parts = []
        for offset in sorted({focus - window // 2, size // 2, size - window}):
            handle.seek(max(offset, window))
            parts.append(handle.read(window))
    lines = (line for part in parts for line in re.split(rb"\r\n|\r|\n", part))
    elsewhere = b"\n".join(dict.fromkeys(line for line in lines if not line.isascii()))
    return start[:window] + b"\n" + elsewhere[:window]


def _canonical_codec(name: str) -> str:
    codec = codecs.lookup(name).name
    return _CANONICAL_CODECS.get(codec, codec)


@lru_cache(maxsize=64)
def is_single_byte(codec: str) -> bool:
    """ASCII-compatible with one byte per character, so the byte scan's counts hold."""
    try:
        if codecs.lookup(codec).name.startswith("utf"):
            return False
        ascii_part = _ASCII_BYTES.decode(codec)
        high_part = bytes(range(128, 256)).decode(codec, errors="replace")
    except (LookupError, UnicodeDecodeError):
        return False
    return ascii_part == _ASCII_BYTES.decode("ascii") and len(high_part) == 128


def _chaos(
    sample: bytes, candidates: Sequence[str] | None = None, threshold: float = 0.2
) -> dict[str, float]:
    """charset-normalizer's mess ratio per codec that decodes ``sample``, best first."""
    isolation = list(candidates) if candidates else None
    matches = from_bytes(sample, cp_isolation=isolation, threshold=threshold)
    return {_canonical_codec(match.encoding): float(match.chaos) for match in matches}


def _rank_single_byte(sample: bytes, *, cr_only: bool) -> list[str]:
    """Codecs to try, most likely first; Western ones unless they read as gibberish.

    charset-normalizer rates how messy each decoding looks ("chaos"), but on a few
    bytes its verdict is noise, it cannot tell cp1252 from latin-1, and it often ranks
    Central European cp1250 first for Western text. So it only decides between families
    (others only when every Western codec reads as gibberish), and within the Western
    family the evidence goes in this order:

    1. CR-only line ends: classic Mac OS, whose Excel wrote "CSV (Macintosh)" in Mac Roman.
    2. Bytes 0x80-0x9F that are cp1252 punctuation (curly quotes, dashes, the euro
       sign): in latin-1 they would be control codes.
    3. Mac Roman reading clearly less messy than the Windows codecs.
    4. Otherwise latin-1: lossless (byte value = code point), and the same text as
       cp1252 for every byte outside 0x80-0x9F.
    """
    western = _chaos(sample, _WESTERN, threshold=1.0)  # every verdict, even a messy one
    others = {} if western and min(western.values()) <= _GIBBERISH else _chaos(sample)
    best = min(western.values(), default=1.0)
    better = [c for c in others if others[c] + _CHAOS_MARGIN < best and is_single_byte(c)]
    if better or not western:  # not Western, or not text at all (then nothing decodes)
        return better
    windows = min((western[c] for c in ("cp1252", "latin-1") if c in western), default=None)
    mac = western.get("mac_roman")
    if mac is not None and cr_only and (windows is None or mac <= windows + _CR_ONLY_SLACK):
        return ["mac_roman", "cp1252", "latin-1"]
    if _c1_bytes_are_punctuation(sample):
        return ["cp1252", "latin-1"]
    if mac is not None and (windows is None or mac + _CHAOS_MARGIN < windows):
        return ["mac_roman", "latin-1"]
    return ["latin-1"]


def _c1_bytes_are_punctuation(sample: bytes) -> bool:
    """Most bytes in 0x80-0x9F are what cp1252 puts there for punctuation."""
    c1 = sample.translate(None, _NOT_C1_BYTES)
    return bool(c1) and 2 * len(c1.translate(None, _CP1252_PUNCTUATION)) < len(c1)


def _decodes(seen: bytes, codec: str) -> bool:
    try:
        seen.decode(codec)
    except UnicodeDecodeError:
        return False
    return True
