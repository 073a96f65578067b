"""Work out once, at upload, how to read a delimited text file, so later reads never guess.

:func:`inspect_delimited` runs in the sandboxed worker. It refuses binary and markup,
sniffs the dialect on a bounded sample, then makes one streaming, quote-aware pass over
the bytes that counts records exactly, enforces the limits as it goes and checks that
the whole file is UTF-8; when it is not, a single-byte codec is chosen on a sample and
confirmed against every byte value the file holds. :func:`read_delimited` reads with
exactly the stored options.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from charset_normalizer import from_bytes

from ..exceptions import ContentMismatch, TableError
from .export import NUMBER_BODY
from .inspection import Inspection
from .limits import Limits

__all__ = ["SEPARATORS", "inspect_delimited", "read_delimited"]

#: The only separators we detect, and the only ones stored metadata may name.
SEPARATORS: Final = (",", ";", "\t", "|")

_HEAD_BYTES: Final = 1 << 20  # the dialect sample, also parsed by pandas for column names
_MAX_HEAD_BYTES: Final = 16 << 20  # grown up to this only while the first record is longer
_BINARY_WINDOW: Final = 64 << 10
_SNIFF_RECORDS: Final = 100
_SAMPLE_RECORDS: Final = 5000
_TYPE_RECORDS: Final = 1000  # enough to tell numeric columns for the header decision
_ENCODING_WINDOW: Final = 64 << 10

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WIDE_CODECS: Final = ("utf-16", "utf-32")

_MARKUP_STARTS: Final = ("<!doctype", "<html", "<?xml", "<svg", "<head", "<script", "<body")
_HTML_TAG = re.compile(
    r"</?(?:html|head|body|div|span|script|style|meta|link|table|tr|td|th|p|a|br|img|ul"
    r"|li|iframe|form|input|noscript|title|svg|path)\b[^<>]*>",
    re.IGNORECASE,
)
# C0 controls other than tab, LF, VT, FF, CR and the DOS end-of-file mark.
_CONTROL_BYTES: Final = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 26))
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f]")
_ASCII_BYTES: Final = bytes(range(128))

# Cells that mean "missing" in exports but are not among pandas' own NA strings.
_NA_TOKENS: Final = (
    "?", "-", "--", "---", ".", "missing", "Missing", "MISSING",
    "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
)  # fmt: skip
# Punctuation means "missing" only in a column that is otherwise numeric.
_NUMERIC_CONTEXT_NA: Final = frozenset({"-", "--", "---", "."})
_NOT_VALUES: Final = frozenset({"", *_NA_TOKENS})

_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})*,[0-9]+|[+-]?[0-9]+,[0-9]+")
_DECIMAL_POINT = re.compile(r"[+-]?[0-9]*\.[0-9]+")
_THOUSANDS_ONLY = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+")
# A cell, after its leading sign, that can only be a number: the rule of export.py.
_NUMBER_BODY = re.compile(NUMBER_BODY.encode("ascii"))
_BLANK_TO_LINE_END = re.compile(rb"[ \t]*[\r\n]")
_PARSER_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")

_WESTERN: Final = ("cp1252", "latin_1", "mac_roman")
_CHAOS_MARGIN: Final = 0.01  # a charset-normalizer chaos difference we treat as evidence
_GIBBERISH: Final = 0.2  # charset-normalizer's own threshold for "not this codec"
_CR_ONLY_SLACK: Final = 0.05  # how much worse Mac Roman may score and still win on CR-only files
_CANONICAL_CODECS: Final = {"iso8859-1": "latin-1", "mac-roman": "mac_roman"}
_NOT_C1_BYTES: Final = bytes([*range(0x80), *range(0xA0, 0x100)])
# cp1252's euro sign, low and curly quotes, ellipsis, daggers, bullet, dashes, trade mark
_CP1252_PUNCTUATION: Final = bytes([0x80, 0x82, 0x84, 0x85, 0x86, 0x87, *range(0x91, 0x98), 0x99])

_LF, _CR, _QUOTE = 10, 13, 34
_PLUS, _MINUS, _TAB, _SPACE = ord("+"), ord("-"), ord("\t"), ord(" ")
_FORMULA_BYTES: Final = tuple(ord(c) for c in "=+-@\t\r")


# -- public API --------------------------------------------------------------------------


def inspect_delimited(path: Path, limits: Limits) -> Inspection:
    """Decide how ``path`` must be read and check it against ``limits``, in one pass.

    Parameters
    ----------
    path
        A delimited text file (CSV, TSV, ...) already stored in quarantine.
    limits
        Rows, columns, cells and the longest line or field the file may have.

    Returns
    -------
    Inspection
        ``metadata`` holds the reading options (``encoding``, ``sep``, ``decimal``,
        ``header``, ``na_values``, ``quotechar``) that :func:`read_delimited` uses
        verbatim, plus ``line_terminator``, exact ``rows`` and ``columns``,
        ``column_names``, ``formula_cells`` and ``formula_cells_sampled`` (True when
        the file is longer than the leading part in which formula cells are counted).

    Raises
    ------
    ContentMismatch
        The file is binary data or an HTML/XML document.
    TableError
        Empty, undecodable, malformed, or over a limit (``code`` says which).
    """
    head = _load_head(path, limits)
    _refuse_binary(head)
    text, provisional = _head_text(head)
    _refuse_markup(text)
    sep = _sniff_separator(text, head.complete)
    sample = _Sample.parse(text, sep, complete=head.complete)
    _check_columns(len(sample.records[0]), limits)
    decimal = _detect_decimal(sample.records, sep)
    header = _detect_header(sample.records, decimal)
    na_values = _detect_na_values(sample.records[0 if header is None else 1 :], decimal)

    scan = _scan(path, head, provisional, sep, limits, len(sample.records[0]), header)
    encoding, guessed = _final_encoding(path, head, scan, _line_terminator(text))
    if encoding != provisional:
        text, _ = _head_text(head, encoding)
        sample = _Sample.parse(text, sep, complete=head.complete)
    metadata: dict[str, Any] = {
        "encoding": encoding,
        "sep": sep,
        "decimal": decimal,
        "header": header,
        "na_values": na_values,
        "quotechar": '"',
        "line_terminator": _line_terminator(text),
    }
    frame = _sample_frame(text[: sample.end], metadata)
    metadata.update(
        rows=scan.rows,
        columns=int(frame.shape[1]),
        column_names=[str(name) for name in frame.columns],
        formula_cells=scan.formula_cells,
        formula_cells_sampled=scan.formula_cells_sampled,
    )
    return Inspection(metadata=metadata, warnings=_warnings(metadata, frame, guessed))


def read_delimited(
    path: Path, metadata: Mapping[str, Any], *, max_rows: int | None = None
) -> pd.DataFrame:
    """Read ``path`` with exactly the options :func:`inspect_delimited` stored; never guess.

    ``line_terminator`` is informational: pandas' C parser ends records at CR, LF and
    CRLF alike (also in CR-only files), which is what the inspection counted.
    ``low_memory=False`` makes pandas infer each column's type from all of it, instead
    of per chunk, which would give mixed-type columns and a ``DtypeWarning``.
    """
    if max_rows is not None and (isinstance(max_rows, bool) or max_rows < 0):
        raise ValueError(f"max_rows must be None or a non-negative int, not {max_rows!r}")
    options = _read_options(metadata)
    try:
        return pd.read_csv(path, nrows=max_rows, **options)
    except UnicodeDecodeError as exc:
        raise TableError(
            f"The file does not decode as {options['encoding']}; it changed since it was "
            "inspected.",
            code="csv_undecodable",
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _parse_failure(exc) from exc


# -- the first bytes: size of the sample, BOM, binary, markup ---------------------------


@dataclass(frozen=True)
class _Head:
    """The file's first bytes, without any byte-order mark, and what the mark says."""

    raw: bytes
    bom: bytes
    bom_codec: str | None
    complete: bool  # the head is the whole file


def _read_head(path: Path, size: int) -> _Head:
    with path.open("rb") as handle:
        raw = handle.read(size + 1)
    complete = len(raw) <= size
    raw = raw[:size]
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _Head(raw[len(bom) :], bom, codec, complete)
    return _Head(raw, b"", None, complete)


def _load_head(path: Path, limits: Limits) -> _Head:
    """The first MiB, or more when the first line is longer (up to the field limit)."""
    size = _HEAD_BYTES
    while True:
        head = _read_head(path, size)
        if not head.raw.strip(b" \t\r\n") and head.complete:
            raise TableError("The file is empty.", code="csv_invalid")
        if head.complete or b"\n" in head.raw or b"\r" in head.raw:
            return head
        if size > limits.max_csv_field_bytes or size >= _MAX_HEAD_BYTES:
            raise TableError(
                f"The first line is longer than {size:,} bytes; the limit is "
                f"{min(limits.max_csv_field_bytes, size):,} bytes.",
                code="csv_invalid",
            )
        size = min(max(2 * size, limits.max_csv_field_bytes + 1), _MAX_HEAD_BYTES)


def _refuse_binary(head: _Head) -> None:
    """NUL bytes or many control characters mean binary data, whatever the name says."""
    if head.bom_codec in _WIDE_CODECS:
        text = _decode(head.bom + head.raw, head.bom_codec or "", final=head.complete)
        window: str | bytes = text[:_BINARY_WINDOW]
        has_nul = "\x00" in text
        controls = len(_CONTROL_CHARS.findall(text[:_BINARY_WINDOW]))
    else:
        window = head.raw[:_BINARY_WINDOW]
        has_nul = b"\x00" in head.raw
        controls = len(window) - len(window.translate(None, _CONTROL_BYTES))
    if has_nul:
        raise ContentMismatch("The file contains NUL bytes, so it is binary data, not a table.")
    if controls * 100 > len(window):
        raise ContentMismatch(
            "More than 1% of the file's first bytes are control characters, so it is binary "
            "data, not a table."
        )


def _refuse_markup(text: str) -> None:
    """Saved web pages named .csv parse "fine" into garbage; refuse them by content."""
    if text[:1024].lstrip("\ufeff \t\r\n").lower().startswith(_MARKUP_STARTS):
        raise ContentMismatch("The file is an HTML or XML document, not a table.")
    window = text[:_BINARY_WINDOW]
    tagged = sum(len(match.group()) for match in _HTML_TAG.finditer(window))
    if tagged * 5 > len(window):
        raise ContentMismatch("The file is an HTML page, not a table.")


def _decode(raw: bytes, codec: str, *, final: bool) -> str:
    """Decode a prefix of the file strictly; a bad sequence in a BOM file is fatal."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(raw, final)
    except UnicodeDecodeError as exc:
        raise _undecodable(codec) from exc


def _undecodable(codec: str) -> TableError:
    return TableError(
        f"The file starts with a {codec} byte-order mark but is not valid {codec} text.",
        code="csv_undecodable",
    )


def _head_text(head: _Head, encoding: str | None = None) -> tuple[str, str]:
    """The head as text, cut after its last line end, and the codec used.

    Before the whole file is checked the codec is provisional: the BOM's, else UTF-8 if
    the head decodes, else latin-1, which decodes anything and keeps every ASCII
    character (all that dialect detection looks at) in place.
    """
    if head.bom_codec in _WIDE_CODECS:
        codec = head.bom_codec or ""
        text = _decode(head.bom + head.raw, codec, final=head.complete)
        return (text if head.complete else _cut_after_last_line_end(text)), codec
    raw = head.raw if head.complete else head.raw[: _last_line_end(head.raw) + 1]
    if head.bom_codec is not None:
        return _decode(raw, "utf-8", final=True), head.bom_codec
    if encoding is not None:
        return raw.decode(encoding), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _last_line_end(raw: bytes) -> int:
    return max(raw.rfind(b"\n"), raw.rfind(b"\r"))


def _cut_after_last_line_end(text: str) -> str:
    return text[: max(text.rfind("\n"), text.rfind("\r")) + 1]


# -- dialect, decided on the sample ------------------------------------------------------


@contextmanager
def _csv_field_limit(size: int) -> Iterator[None]:
    """The csv module refuses fields over 128 KiB; the sample may legally hold longer ones."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, size))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _is_blank(record: Sequence[str]) -> bool:
    """pandas skips records that are empty or hold only spaces and tabs."""
    return not record or (len(record) == 1 and not record[0].strip(" \t"))


@dataclass(frozen=True)
class _Sample:
    """The first complete, non-blank records of the head and where the last one ends."""

    records: list[list[str]]
    end: int  # offset in the text just after the last record kept

    @classmethod
    def parse(cls, text: str, sep: str, *, complete: bool, limit: int = _SAMPLE_RECORDS) -> _Sample:
        consumed = 0

        def lines() -> Iterator[str]:
            nonlocal consumed
            for line in io.StringIO(text, newline=""):
                consumed += len(line)
                yield line

        records: list[list[str]] = []
        end = 0
        reader = csv.reader(lines(), delimiter=sep, quotechar='"', doublequote=True)
        with _csv_field_limit(len(text)):
            try:
                for record in reader:
                    if not complete and consumed >= len(text) and text.count('"', end) % 2:
                        break  # a quoted field cut by the end of the sample
                    if not _is_blank(record):
                        records.append(record)
                        end = consumed
                        if len(records) >= limit:
                            break
            except csv.Error as exc:
                raise TableError(
                    f"The first records cannot be parsed: {exc}.", code="csv_invalid"
                ) from exc
        if not records:
            if complete:
                raise TableError("The file is empty.", code="csv_invalid")
            raise TableError(
                f"The first {len(text):,} characters hold no complete record.",
                code="csv_invalid",
            )
        return cls(records, end)


def _sniff_separator(text: str, complete: bool) -> str:
    """The separator that splits the first records into the most consistent field counts."""
    best, best_score = ",", (0.0, 1)
    for sep in SEPARATORS:
        records = _Sample.parse(text, sep, complete=complete, limit=_SNIFF_RECORDS).records
        counts = Counter(len(record) for record in records)
        width, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (round(hits / len(records), 1), width)
        if width > 1 and score > best_score:
            best, best_score = sep, score
    return best


def _line_terminator(text: str) -> str:
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=lambda ending: counts[ending]) if any(counts.values()) else "\n"


def _check_columns(columns: int, limits: Limits) -> None:
    if columns > limits.max_csv_columns:
        raise TableError(
            f"The table has {columns:,} columns; the limit is {limits.max_csv_columns:,}.",
            code="csv_too_many_columns",
        )


def _detect_decimal(records: list[list[str]], sep: str) -> str:
    """',' when numbers in the sample mostly look like ``1,5`` or ``1.234,5``."""
    if sep == ",":
        return "."
    comma = point = 0
    for record in records:
        for cell in record:
            if "," in cell and _DECIMAL_COMMA.fullmatch(cell):
                comma += 1
            elif "." in cell and _DECIMAL_POINT.fullmatch(cell):
                point += not _THOUSANDS_ONLY.fullmatch(cell)
    return "," if comma > point else "."


@lru_cache(maxsize=2)
def _number_pattern(decimal: str) -> re.Pattern[str]:
    mark = re.escape(decimal)
    return re.compile(rf"\s*[+-]?(?:[0-9]+(?:{mark}[0-9]*)?|{mark}[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def _numeric_columns(records: list[list[str]], decimal: str) -> list[int]:
    """Columns whose non-empty cells are at least 90 % numbers (in the first records)."""
    number = _number_pattern(decimal)
    records = records[:_TYPE_RECORDS]
    found = []
    for column in range(max(len(record) for record in records)):
        cells = [r[column] for r in records if column < len(r) and r[column] not in _NOT_VALUES]
        numeric = sum(1 for cell in cells if number.fullmatch(cell))
        if cells and numeric * 10 >= 9 * len(cells):
            found.append(column)
    return found


def _detect_header(records: list[list[str]], decimal: str) -> int | None:
    """No header (None) when the first record has numbers wherever the data has numbers."""
    if len(records) < 2:
        return 0
    first = records[0]
    numeric = [c for c in _numeric_columns(records[1:], decimal) if c < len(first) and first[c]]
    number = _number_pattern(decimal)
    if numeric and all(number.fullmatch(first[c]) for c in numeric):
        return None
    return 0


def _detect_na_values(records: list[list[str]], decimal: str) -> list[str]:
    """Extra NA tokens seen as whole cells; punctuation only in otherwise numeric columns."""
    if not records:
        return []
    seen = {cell for record in records for cell in record}.intersection(_NA_TOKENS)
    if seen & _NUMERIC_CONTEXT_NA:
        numeric = _numeric_columns(records, decimal)
        in_numbers = {r[c] for r in records for c in numeric if c < len(r)}
        seen = {token for token in seen if token not in _NUMERIC_CONTEXT_NA or token in in_numbers}
    return [token for token in _NA_TOKENS if token in seen]


# -- the counting pass -------------------------------------------------------------------


_EncodingCheck = Literal["utf-8", "utf-8-bom", "high-bytes", "none"]


@dataclass(frozen=True)
class _Chunk:
    """One step of the pass: a buffer with look-around and the offsets found in it.

    ``buf[lo:hi]`` is the region to process; the ``_PAD`` bytes on either side are
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


_PAD: Final = 64  # look-behind and look-ahead kept around each step
_CHUNK: Final = 1 << 20
_FORMULA_SAMPLE: Final = 64 << 20  # formula cells are counted in this many leading bytes
_NUMBER_WINDOW: Final = 12  # bytes after a leading '+'/'-' examined at once
_LITERAL_QUOTES_VECTORISED: Final = 32  # beyond this many in one step, walk them in Python


class _ChunkReader:
    """Reads the stream in steps and finds the bytes that matter, ahead of the scanner.

    This is the part of the pass that touches every byte (reading, comparisons,
    ``flatnonzero``); numpy releases the GIL for it, so it runs one step ahead in a
    worker thread while the scanner interprets the previous step.
    """

    def __init__(self, readinto: Callable[[memoryview], int], sep: int, check_high: bool) -> None:
        self._readinto = readinto
        self._check_high = check_high
        self._structural = (_LF, _CR, _QUOTE)
        self._with_formulas = tuple(dict.fromkeys((*self._structural, *_FORMULA_BYTES)))
        self._with_formulas = tuple(b for b in self._with_formulas if b != sep)
        size = 2 * _PAD + _CHUNK + _PAD
        self._buffers = [bytearray(size) for _ in range(3)]  # in use, being filled, spare
        self._turn = 0
        self._mask = np.empty(size, dtype=bool)
        self._scratch = np.empty(size, dtype=bool)
        self._tail = b"\n" * (2 * _PAD)  # as if a record had just ended before the data
        self._base = -2 * _PAD
        self._done = 0
        self.size = 0

    def next(self) -> _Chunk:
        buf = self._buffers[self._turn]
        self._turn = (self._turn + 1) % len(self._buffers)
        buf[: 2 * _PAD] = self._tail
        count = self._fill(memoryview(buf)[2 * _PAD : 2 * _PAD + _CHUNK])
        self.size += count
        end = 2 * _PAD + count
        eof = count < _CHUNK
        if eof:
            buf[end : end + _PAD] = b"\n" * _PAD
        base, lo, hi = self._base, self._done - self._base, end if eof else end - _PAD
        self._tail = bytes(buf[end - 2 * _PAD : end])
        self._base += end - 2 * _PAD
        self._done = base + hi
        if buf.find(0, lo, hi) != -1:
            raise ContentMismatch("The file contains NUL bytes, so it is binary data, not a table.")
        arr = np.frombuffer(buf, dtype=np.uint8)
        new = arr[2 * _PAD : end]
        formulas = base + lo < _FORMULA_SAMPLE
        watched = self._with_formulas if formulas else self._structural
        present = tuple(b for b in watched if buf.find(b, lo, hi) != -1)
        positions, kinds = self._positions(arr[lo:hi], present)
        return _Chunk(
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


@dataclass(frozen=True)
class _Quoting:
    """Quote state of one step, to ask "inside quotes?" and "did this quote toggle?"."""

    toggles: npt.NDArray[np.intp]  # offsets of the quotes that opened or closed a field
    rank: npt.NDArray[np.int32] | None  # toggles up to each watched byte
    start: int  # 1 when the step starts inside a quoted field
    toggled_before: tuple[int, int]  # stream offsets of the last two toggles before the step

    def inside(self, index: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """1 where the watched byte number ``index`` (not itself a quote) is inside quotes."""
        if self.rank is None:
            return np.full(len(index), self.start, dtype=np.intp)
        return (self.start + self.rank[index]) & 1

    def opens(self) -> npt.NDArray[np.bool_]:
        """Which of ``toggles`` open a quoted field (the others close one)."""
        first = 1 - self.start  # the first toggle opens unless the step starts inside
        return (np.arange(len(self.toggles)) & 1) != first

    def toggled(self, offsets: npt.NDArray[np.intp], origin: int) -> npt.NDArray[np.bool_]:
        """Whether the quote at each offset (from the step start ``origin``) toggled."""
        hit = np.zeros(len(offsets), dtype=bool)
        if len(self.toggles):
            found = np.searchsorted(self.toggles, offsets)
            hit = self.toggles[np.minimum(found, len(self.toggles) - 1)] == offsets
        earlier = origin + offsets
        earlier_hit = (earlier == self.toggled_before[0]) | (earlier == self.toggled_before[1])
        return hit | ((offsets < 0) & earlier_hit)


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


class _RecordScanner:
    """One streaming pass over the bytes: exact record count, limits, formula cells, UTF-8.

    Works on bytes, not text: in UTF-8 and in the single-byte codecs we accept, the
    structural characters (separators, quote, CR, LF, formula prefixes) are ASCII and
    never occur inside a multi-byte character. It mirrors the tokenizer of pandas' C
    parser: a quote opens a quoted field only at the start of a field, ``""`` inside
    quotes is a literal quote, CR, LF and CRLF all end a record outside quotes, and
    records holding only spaces and tabs are skipped.

    Quote parity (a running count over the positions of line ends and quotes) tells
    which line ends close a record. A quote in the middle of an unquoted field
    (``5'10"``) breaks the parity rule; only a step that holds one falls back to walking
    its quotes one by one. Formula-like cells are counted in the first
    ``_FORMULA_SAMPLE`` bytes only: finding every ``-`` in a file full of dates and
    negative numbers costs more than the rest of the pass together.
    """

    def __init__(
        self, sep: str, limits: Limits, columns: int, header_rows: int, check: _EncodingCheck
    ) -> None:
        self._sep = ord(sep)
        self._limits = limits
        self._columns = max(columns, 1)
        self._header_rows = header_rows
        self._in_quote = 0
        self._last_toggles = (-3, -2)  # stream offsets of the last two quotes that toggled
        self._last_boundary = -1  # stream offset of the last record end
        # The record being read: its first byte (-1 while empty), and whether every byte
        # after the first is blank; and whether the last record was skipped as blank and
        # ended with a lone CR (then pandas drops a separator that follows: see _blank_records).
        self._open_first = self._open_second = -1
        self._open_rest_blank = True
        self._skipped_by_cr = False
        self._ended_by_cr = False  # the last record ended with a lone CR
        self.records = 0  # complete non-blank records
        self.size = 0
        self.formula_cells = 0
        self.formula_end = 0  # stream offset up to which formula cells were counted
        self._starts = frozenset((self._sep, _LF, _CR))
        self._formula_kinds = frozenset(_FORMULA_BYTES) - {self._sep}
        blanks = b" \r" if sep == "\t" else b" \t\r"
        self._non_blank = re.compile(b"[^" + blanks + b"]")
        self._blanks = frozenset(blanks)
        self._plain_end = re.compile(b"[" + re.escape(bytes([self._sep])) + rb"\r\n]")
        self._check = check
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_pending = False
        self.utf8_ok = check in ("utf-8", "utf-8-bom")
        self.utf8_error: int | None = None
        self.high_bytes = np.zeros(256, dtype=np.int64)
        self.high_bytes_from = 0 if check == "high-bytes" else -1

    @property
    def rows(self) -> int:
        return max(self.records - self._header_rows, 0)

    @property
    def formula_cells_sampled(self) -> bool:
        return self.formula_end < self.size

    def run(self, readinto: Callable[[memoryview], int]) -> None:
        """Feed the whole stream through; raises as soon as a limit is crossed."""
        reader = _ChunkReader(readinto, self._sep, self._check != "none")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsagent-csv") as ahead:
            pending = ahead.submit(reader.next)
            while True:
                chunk = pending.result()
                if not chunk.eof:
                    pending = ahead.submit(reader.next)
                self._check_encoding(chunk)
                self._step(chunk)
                if chunk.eof:
                    break
        self.size = reader.size
        self._finish(chunk)

    def _finish(self, chunk: _Chunk) -> None:
        if self.utf8_ok:
            self._decode_utf8(b"", chunk.base + chunk.hi, final=True)
        if self._in_quote:
            raise TableError(
                'The file ends inside a quoted field: a " opens a field that never closes.',
                code="csv_invalid",
            )
        first, rest_blank = self._open_first, self._open_rest_blank
        if first >= 0 and not self._blank_record(first, rest_blank, self._skipped_by_cr):
            self._refuse_indent_after_cr(
                first, self._open_second, self._ended_by_cr, self._skipped_by_cr, self.records + 1
            )
            self.records += 1
        self._check_rows()

    # -- encoding

    def _check_encoding(self, chunk: _Chunk) -> None:
        """Validate UTF-8, or tally the byte values a single-byte codec must decode."""
        offset = chunk.base + 2 * _PAD
        if self.utf8_ok and (len(chunk.high) or self._utf8_pending):
            self._validate_utf8(chunk.new, chunk.high, offset)
        if self.high_bytes_from >= 0 and len(chunk.high):
            self.high_bytes += np.bincount(chunk.new[chunk.high], minlength=256)

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
        if self._check == "utf-8-bom":
            raise _undecodable("utf-8")
        self.utf8_ok = False
        self.high_bytes_from = offset
        try:  # where exactly, to sample the text around it
            codecs.getincrementaldecoder("utf-8")().decode(data, False)
        except UnicodeDecodeError as exc:
            offset += exc.start
        self.utf8_error = offset

    # -- one step

    def _step(self, chunk: _Chunk) -> None:
        if chunk.hi <= chunk.lo:
            return
        start_quote, toggled_before = self._in_quote, self._last_toggles
        toggle = self._toggle_mask(chunk) if _QUOTE in chunk.present else None
        rank = None if toggle is None else np.cumsum(toggle.view(np.uint8), dtype=np.int32)
        ends = self._record_ends(chunk, rank, start_quote)
        if chunk.formulas:
            toggles = chunk.positions[toggle] if toggle is not None else chunk.positions[:0]
            quoting = _Quoting(toggles, rank, start_quote, toggled_before)
            kinds = [b for b in chunk.present if b in self._formula_kinds]
            if kinds:
                self.formula_cells += self._formula_cells(chunk, kinds, quoting)
            if self._sep == _TAB and len(toggles):
                self.formula_cells += self._tabs_opening_quoted_cells(chunk, quoting)
            self.formula_end = chunk.base + chunk.hi
        self._count(chunk, ends)

    def _is_start(self, values: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
        """Bytes after which a new field starts (outside quotes)."""
        return (values == self._sep) | (values == _LF) | (values == _CR)

    def _toggle_mask(self, chunk: _Chunk) -> npt.NDArray[np.bool_]:
        """Which watched bytes are quotes that open or close a quoted field."""
        is_quote = chunk.kinds == _QUOTE
        index = np.flatnonzero(is_quote)
        quotes = chunk.positions[index]
        keep = self._literal_quotes_out(chunk, quotes)
        if keep is None:  # parity holds: every quote opens or closes
            toggles, toggle = quotes, is_quote
        else:
            toggles = quotes[keep]
            toggle = np.zeros(len(chunk.positions), dtype=bool)
            toggle[index[keep]] = True
        self._in_quote = (self._in_quote + len(toggles)) & 1
        origin = chunk.base + chunk.lo
        for position in toggles[-2:].tolist():
            self._last_toggles = (self._last_toggles[1], origin + position)
        return toggle

    def _literal_quotes_out(
        self, chunk: _Chunk, quotes: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.bool_] | None:
        """None when every quote toggles, else which quotes do (literal ones do not).

        Parity says quotes alternate between opening and closing. An opening one must
        sit at a field start or right after a closing quote (``""``); one that does not
        is a literal character inside an unquoted field (``5'10"``), and the quotes
        after it shift by one: the next opening slot is the very next quote.
        """
        before = chunk.arr[chunk.lo + quotes - 1]
        adjacent = before == _QUOTE
        adjacent[1:] &= quotes[1:] - quotes[:-1] == 1
        adjacent[:1] &= self._last_toggles[1] == chunk.base + chunk.lo - 1
        at_start = self._is_start(before)
        toggled = np.ones(len(quotes), dtype=bool)
        slot = self._in_quote  # index of the first quote that would open
        for _ in range(_LITERAL_QUOTES_VECTORISED):
            slots = np.arange(slot, len(quotes), 2)
            closed_before = toggled[np.maximum(slots - 1, 0)]  # slot 0: see adjacent[0]
            closed_before[:1] |= slot == 0
            wrong = np.flatnonzero(~(at_start[slots] | (adjacent[slots] & closed_before)))
            if not len(wrong):
                return None if toggled.all() else toggled
            literal = int(slots[wrong[0]])
            toggled[literal] = False
            slot = literal + 1
        return self._walk_quotes(chunk, quotes, at_start, adjacent, toggled, slot)

    def _walk_quotes(
        self,
        chunk: _Chunk,
        quotes: npt.NDArray[np.intp],
        at_start: npt.NDArray[np.bool_],
        adjacent: npt.NDArray[np.bool_],
        toggled: npt.NDArray[np.bool_],
        first: int,
    ) -> npt.NDArray[np.bool_]:
        """The same rule one quote at a time, from ``first`` (outside quotes) onwards."""
        inside, opens, after_quote = False, at_start.tolist(), adjacent.tolist()
        closed = True  # whether the quote before ``first`` toggled (it closed, or there is none)
        if first:
            closed = bool(toggled[first - 1])
        for number in range(first, len(quotes)):
            if inside or opens[number] or (after_quote[number] and closed):
                inside, closed = not inside, inside
            else:
                toggled[number], closed = False, False
        return toggled

    def _record_ends(
        self, chunk: _Chunk, rank: npt.NDArray[np.int32] | None, start_quote: int
    ) -> npt.NDArray[np.intp]:
        """LF, and CR not followed by LF, outside quotes."""
        positions, kinds = chunk.positions, chunk.kinds
        is_end = kinds == _LF
        if _CR in chunk.present:
            crs = np.flatnonzero(kinds == _CR)
            is_end[crs[chunk.arr[chunk.lo + positions[crs] + 1] != _LF]] = True
        index = np.flatnonzero(is_end)
        if rank is not None:  # toggles up to each line end: odd means inside quotes
            index = index[((start_quote + rank[index]) & 1) == 0]
        elif start_quote:
            index = index[:0]
        return positions[index]

    def _formula_cells(self, chunk: _Chunk, formula_kinds: Sequence[int], quoting: _Quoting) -> int:
        """Cells that start with = + - @ tab or CR and are not plain numbers.

        A cell's text starts at the first byte of an unquoted field, just after the
        opening quote of a quoted one, or after an empty ``""`` (pandas reads ``""-x``
        as ``-x``).
        """
        kinds, arr, lo = chunk.kinds, chunk.arr, chunk.lo
        is_formula = kinds == formula_kinds[0]
        for value in formula_kinds[1:]:
            is_formula |= kinds == value
        index = np.flatnonzero(is_formula)
        at = chunk.positions[index]
        before = arr[lo + at - 1]
        plain, after_quote = self._is_start(before), before == _QUOTE
        keep = np.flatnonzero(plain | after_quote)  # a '-' inside a date stops here
        if not len(keep):
            return 0
        index, at, before = index[keep], at[keep], before[keep]
        plain, after_quote, kind = plain[keep], after_quote[keep], kinds[index]
        inside = quoting.inside(index)
        plain &= (inside == 0) & (kind != _CR)
        quoted = np.zeros(len(at), dtype=bool)
        starts = plain.copy()
        behind = np.flatnonzero(after_quote)  # few: only these need the quote bookkeeping
        if len(behind):
            quoted[behind], starts[behind] = self._after_a_quote(
                chunk, at[behind], inside[behind], kind[behind], quoting
            )
        if _TAB in formula_kinds:
            starts &= ~self._blank_line_at(
                chunk, at, plain & (kind == _TAB) & (before != self._sep)
            )
        signed = starts & ((kind == _PLUS) | (kind == _MINUS))
        count = int(np.count_nonzero(starts & ~signed))
        return count + self._not_numbers(chunk, at[signed], quoted[signed])

    def _after_a_quote(
        self,
        chunk: _Chunk,
        at: npt.NDArray[np.intp],
        inside: npt.NDArray[np.intp],
        kind: npt.NDArray[np.uint8],
        quoting: _Quoting,
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """For bytes right after a quote: (starts a quoted cell, starts any cell)."""
        arr, lo, origin = chunk.arr, chunk.lo, chunk.base + chunk.lo
        toggled = quoting.toggled(at - 1, origin)
        quoted = toggled & (inside == 1) & self._is_start(arr[lo + at - 2])
        empty_before = toggled & (inside == 0) & (kind != _CR) & (arr[lo + at - 2] == _QUOTE)
        empty_before &= quoting.toggled(at - 2, origin) & self._is_start(arr[lo + at - 3])
        return quoted, quoted | empty_before

    def _tabs_opening_quoted_cells(self, chunk: _Chunk, quoting: _Quoting) -> int:
        """In a TSV a tab separates fields, but ``"\t..."`` is a cell that starts with one."""
        arr, lo, toggles = chunk.arr, chunk.lo, quoting.toggles
        opens = toggles[quoting.opens()]
        at_start = self._is_start(arr[lo + opens - 1])
        return int(np.count_nonzero(at_start & (arr[lo + opens + 1] == _TAB)))

    def _blank_line_at(
        self, chunk: _Chunk, at: npt.NDArray[np.intp], line_start: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.bool_]:
        """A tab that begins a line of only blanks: pandas skips that line, no cell."""
        blank = np.zeros(len(at), dtype=bool)
        for row in np.flatnonzero(line_start).tolist():
            blank[row] = _BLANK_TO_LINE_END.match(chunk.buf, chunk.lo + int(at[row])) is not None
        return blank

    def _not_numbers(
        self, chunk: _Chunk, at: npt.NDArray[np.intp], quoted: npt.NDArray[np.bool_]
    ) -> int:
        """How many of the signed cells at ``at`` are not plain numbers like -5 or +3.2."""
        if not len(at):
            return 0
        windows = np.lib.stride_tricks.sliding_window_view(chunk.arr, _NUMBER_WINDOW)
        cells = windows[chunk.lo + at + 1]  # the bytes after each sign, one row per cell
        digit = (cells - np.uint8(48)) < 10
        other = ~digit
        other &= cells != ord(".")
        comma = cells == ord(",")
        other &= ~(comma & quoted[:, None]) if self._sep == ord(",") else ~comma
        rows = np.arange(len(at))
        length = np.argmax(other, axis=1)
        stop = cells[rows, length]
        found = other[rows, length]  # a byte that is neither digit nor mark, within reach
        after = chunk.arr[chunk.lo + at + 2 + length]
        # A quoted cell ends at a quote followed by a separator or line end; after any
        # other byte pandas goes on reading the cell ("-3.5"a is -3.5a).
        closed = np.where(quoted, (stop == _QUOTE) & self._is_start(after), self._is_start(stop))
        lead = digit[:, 0] | (~other[:, 0] & digit[:, 1])
        count = int(np.count_nonzero(found & closed & (length >= 1) & lead))
        exponent = (length >= 1) & ((stop == ord("e")) | (stop == ord("E")))
        unsure = ~found | exponent | (quoted & (stop == _QUOTE) & ~self._is_start(after))
        for row in np.flatnonzero(unsure).tolist():
            count += self._number_at(chunk, chunk.lo + int(at[row]) + 1, bool(quoted[row]))
        return len(at) - count

    def _number_at(self, chunk: _Chunk, start: int, quoted: bool) -> bool:
        """Slow, exact check of one cell; one that goes past the look-ahead counts as text."""
        rest = bytes(chunk.buf[start : start + _PAD - 2])
        content = b""
        if quoted:  # up to the closing quote; "" is a literal quote
            while True:
                end = rest.find(b'"')
                if end < 0:
                    return False
                content += rest[:end]
                if rest[end + 1 : end + 2] != b'"':
                    rest = rest[end + 1 :]
                    break
                content += b'"'
                rest = rest[end + 2 :]
        found = self._plain_end.search(rest)  # then unquoted up to a separator or line end
        if found is None:
            return False
        return _NUMBER_BODY.fullmatch(content + rest[: found.start()]) is not None

    def _count(self, chunk: _Chunk, ends: npt.NDArray[np.intp]) -> None:
        """Count the records ending in this step and check the length limit."""
        origin = chunk.base + chunk.lo
        if len(ends):
            stops = ends + origin
            starts = np.empty_like(stops)
            starts[0] = self._last_boundary + 1
            starts[1:] = stops[:-1] + 1
            lengths = stops - starts
            self._check_length(int(lengths.max()))
            blank = self._blank_records(chunk, starts, stops, lengths)
            self.records += len(stops) - int(np.count_nonzero(blank))
            self._ended_by_cr = bool(chunk.arr[stops[-1] - chunk.base] == _CR)
            self._skipped_by_cr = bool(blank[-1]) and self._ended_by_cr
            self._last_boundary = int(stops[-1])
            self._open_first = self._open_second = -1
            self._open_rest_blank = True
        self._follow_open_record(chunk)
        self._check_rows()

    def _follow_open_record(self, chunk: _Chunk) -> None:
        """Track the first two bytes of the record still open and whether all but the
        first are blank."""
        start, hi = self._last_boundary + 1 - chunk.base, chunk.hi
        self._check_length(hi - start)
        if start >= hi:
            return
        if start >= chunk.lo:
            self._open_first = int(chunk.arr[start])
            self._open_rest_blank = self._non_blank.search(chunk.buf, start + 1, hi) is None
        elif self._open_rest_blank:
            self._open_rest_blank = self._non_blank.search(chunk.buf, chunk.lo, hi) is None
        if self._open_second < 0 and chunk.lo <= start + 1 < hi:
            self._open_second = int(chunk.arr[start + 1])

    def _blank_record(self, first: int, rest_blank: bool, after_skipped_cr: bool) -> bool:
        """Whether pandas skips a record, from its first byte and the blankness of the rest."""
        if not rest_blank:
            return False
        return first in self._blanks or (first == self._sep and after_skipped_cr)

    def _blank_records(
        self,
        chunk: _Chunk,
        starts: npt.NDArray[np.intp],
        stops: npt.NDArray[np.intp],
        lengths: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.bool_]:
        """Records pandas skips: empty, or only spaces, tabs and the CR of a CRLF.

        One quirk of its tokenizer: after skipping a blank line that ends with a lone CR,
        it drops a separator that comes next, so a following ``,`` line is blank too.
        """
        base = chunk.base
        origin = base + chunk.lo
        blank = lengths == 0
        first = chunk.arr[np.maximum(starts - base, 0)]
        if starts[0] < origin:  # began in an earlier step
            first[0] = self._open_first
        ended_by_cr = chunk.arr[stops - base] == _CR
        maybe = (first == self._sep) | (first == _SPACE) | (first == _CR)
        if _TAB in self._blanks:
            maybe |= first == _TAB
        maybe &= ~blank
        for index in np.flatnonzero(maybe).tolist():
            start, stop = int(starts[index]), int(stops[index]) - base
            if start >= origin:
                rest_blank = self._non_blank.search(chunk.buf, start - base + 1, stop) is None
            else:
                rest_blank = self._open_rest_blank
                rest_blank = (
                    rest_blank and self._non_blank.search(chunk.buf, chunk.lo, stop) is None
                )
            ended_cr = bool(ended_by_cr[index - 1]) if index else self._ended_by_cr
            skipped_cr = bool(blank[index - 1]) and ended_cr if index else self._skipped_by_cr
            blank[index] = self._blank_record(int(first[index]), rest_blank, skipped_cr)
            if not blank[index]:
                second = (
                    self._open_second if start + 1 < origin else int(chunk.arr[start - base + 1])
                )
                number = self.records + index + 1 - int(np.count_nonzero(blank[:index]))
                self._refuse_indent_after_cr(
                    int(first[index]), second, ended_cr, skipped_cr, number
                )
        return blank

    def _refuse_indent_after_cr(
        self, first: int, second: int, ended_cr: bool, skipped_cr: bool, number: int
    ) -> None:
        """pandas misreads a line that starts with blanks after a lone-CR line end.

        Its tokenizer, unsure whether such a line is blank, steps back to the last LF to
        re-read it; with CR line ends that is several lines back, and it repeats rows.
        (After a skipped blank line it first drops a separator; then the next byte counts.)
        """
        lead = second if first == self._sep and skipped_cr else first
        if ended_cr and lead in self._blanks:
            raise TableError(
                f"Record {number:,} starts with a space or tab right after a carriage-return "
                "line end, which pandas misreads (it repeats earlier lines).",
                code="csv_invalid",
            )

    def _check_length(self, length: int) -> None:
        limit = self._limits.max_csv_field_bytes
        if length > limit:
            raise TableError(
                f"A line or field is longer than {limit:,} bytes; the limit is {limit:,} bytes.",
                code="csv_invalid",
            )

    def _check_rows(self) -> None:
        rows, limits = self.rows, self._limits
        if rows > limits.max_csv_rows:
            raise TableError(
                f"The table has more than {limits.max_csv_rows:,} rows; the limit is "
                f"{limits.max_csv_rows:,}.",
                code="csv_too_many_rows",
            )
        if rows * self._columns > limits.max_csv_cells:
            raise TableError(
                f"The table has more than {limits.max_csv_cells:,} cells ({self._columns:,} "
                f"columns); the limit is {limits.max_csv_cells:,} cells.",
                code="csv_too_many_rows",
            )


class _WideToUtf8:
    """Re-encode a UTF-16/32 file to UTF-8 on the fly so the scanner sees ASCII structure."""

    def __init__(self, handle: io.FileIO, codec: str) -> None:
        self._handle = handle
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._pending = b""
        self._eof = False

    def readinto(self, target: memoryview) -> int:
        while len(self._pending) < len(target) and not self._eof:
            raw = self._handle.read(len(target))
            self._eof = not raw
            try:
                self._pending += self._decoder.decode(raw, self._eof).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise _undecodable(self._codec) from exc
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def _scan(
    path: Path,
    head: _Head,
    provisional: str,
    sep: str,
    limits: Limits,
    columns: int,
    header: int | None,
) -> _RecordScanner:
    """The counting pass, with the encoding check the head calls for."""
    check: _EncodingCheck
    if head.bom_codec in _WIDE_CODECS:
        check = "none"
    elif head.bom_codec is not None:
        check = "utf-8-bom"
    else:
        check = "utf-8" if provisional == "utf-8" else "high-bytes"
    scanner = _RecordScanner(sep, limits, columns, 0 if header is None else 1, check)
    with path.open("rb", buffering=0) as handle:
        if head.bom_codec in _WIDE_CODECS:
            scanner.run(_WideToUtf8(handle, head.bom_codec or "").readinto)
        else:
            handle.seek(len(head.bom))
            scanner.run(handle.readinto)
    return scanner


# -- choosing a single-byte codec when the file is not UTF-8 ----------------------------


def _final_encoding(
    path: Path, head: _Head, scan: _RecordScanner, line_terminator: str
) -> tuple[str, bool]:
    """The codec to store, and whether it was guessed rather than known."""
    if head.bom_codec is not None:
        return head.bom_codec, False
    if scan.utf8_ok:
        return "utf-8", False
    counts = scan.high_bytes
    if scan.high_bytes_from > 0:  # the file looked like UTF-8 until then
        counts = counts + _high_byte_counts(path, scan.high_bytes_from)
    seen = bytes(np.flatnonzero(counts).tolist())
    sample = _non_ascii_sample(path, scan.utf8_error or 0)
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
            chunk = handle.read(min(remaining, _HEAD_BYTES))
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
def _is_single_byte(codec: str) -> bool:
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
    better = [c for c in others if others[c] + _CHAOS_MARGIN < best and _is_single_byte(c)]
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


# -- the sample frame: column names, warnings -------------------------------------------


def _sample_frame(text: str, metadata: Mapping[str, Any]) -> pd.DataFrame:
    options = _read_options(metadata)
    del options["encoding"], options["encoding_errors"]
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _parse_failure(exc) from exc


def _parse_failure(exc: Exception) -> TableError:
    ragged = _PARSER_RAGGED.search(str(exc))
    if ragged:
        expected, line, saw = (int(group) for group in ragged.groups())
        return TableError(
            f"Line {line:,} has {saw:,} fields but the first line has {expected:,}; rows may "
            "not be longer than the header.",
            code="csv_invalid",
        )
    reason = (
        str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
    )
    return TableError(f"The file cannot be read as a table: {reason}.", code="csv_invalid")


def _warnings(
    metadata: Mapping[str, Any], frame: pd.DataFrame, guessed: bool
) -> tuple[tuple[str, str], ...]:
    found = []
    if metadata["formula_cells"]:
        where = (
            f" in the first {_FORMULA_SAMPLE >> 20} MiB"
            if metadata["formula_cells_sampled"]
            else ""
        )
        found.append(
            (
                "formula_cells",
                f"{metadata['formula_cells']:,} cells{where} start with =, +, -, @, tab or "
                "carriage return and could run as formulas if exported to a spreadsheet.",
            )
        )
    if guessed:
        found.append(
            (
                "encoding_guessed",
                f"The file is not UTF-8; it was read as {metadata['encoding']}; check accented "
                "characters.",
            )
        )
    junk = _junk_columns(frame) if metadata["header"] == 0 else []
    if junk:
        found.append(
            (
                "junk_columns",
                f"{len(junk)} columns without a name ({', '.join(junk)}) are empty in the first "
                f"{len(frame):,} rows; they probably come from stray separators.",
            )
        )
    return tuple(found)


def _junk_columns(frame: pd.DataFrame) -> list[str]:
    """Columns pandas had to name itself (no header text) that hold nothing in the sample."""
    return [
        str(name)
        for name in frame.columns
        if str(name).startswith("Unnamed: ") and not frame[name].notna().any()
    ]


# -- stored options ----------------------------------------------------------------------


def _read_options(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """pandas options from stored metadata, checked against what we could have stored."""
    encoding, sep, decimal = (metadata.get(k) for k in ("encoding", "sep", "decimal"))
    header, quotechar, na_values = (metadata.get(k) for k in ("header", "quotechar", "na_values"))
    problems = []
    if not isinstance(encoding, str) or not _is_supported_encoding(encoding):
        problems.append(f"encoding {encoding!r}")
    if sep not in SEPARATORS:
        problems.append(f"sep {sep!r}")
    if decimal not in (".", ",") or decimal == sep:
        problems.append(f"decimal {decimal!r}")
    if header not in (0, None) or isinstance(header, bool):
        problems.append(f"header {header!r}")
    if quotechar != '"':
        problems.append(f"quotechar {quotechar!r}")
    if not isinstance(na_values, list) or not all(
        isinstance(token, str) and len(token) <= 64 for token in na_values
    ):
        problems.append("na_values")
        na_values = []
    if problems:
        raise TableError(
            f"The stored reading options are invalid ({', '.join(problems)}).", code="csv_invalid"
        )
    return {
        "encoding": encoding,
        "encoding_errors": "strict",
        "sep": sep,
        "decimal": decimal,
        "header": header,
        "na_values": list(na_values),
        "keep_default_na": True,
        "quotechar": '"',
        "compression": None,
        "engine": "c",
        "low_memory": False,
    }


@lru_cache(maxsize=32)
def _is_supported_encoding(encoding: str) -> bool:
    if encoding in ("utf-8", "utf-8-sig", *_WIDE_CODECS):
        return True
    return _is_single_byte(encoding)
