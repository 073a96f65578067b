"""The dialect, decided once on the head's first records: separator, decimal mark,
header, extra NA tokens and line ends.

Only a bounded sample is parsed here, with the csv module; the exact record count
and the limits over the whole file are the counting pass's job (``scan.py``).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from ...exceptions import TableError

__all__ = [
    "SEPARATORS",
    "Sample",
    "detect_decimal",
    "detect_header",
    "detect_na_values",
    "line_terminator",
    "sniff_separator",
]

#: The only separators we detect, and the only ones stored metadata may name.
SEPARATORS: Final = (",", ";", "\t", "|")

_SNIFF_RECORDS: Final = 100
_SAMPLE_RECORDS: Final = 5000
_TYPE_RECORDS: Final = 1000  # enough to tell numeric columns for the header decision

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
class Sample:
    """The first complete, non-blank records of the head and where the last one ends."""

    records: list[list[str]]
    end: int  # offset in the text just after the last record kept

    @classmethod
    def parse(cls, text: str, sep: str, *, complete: bool, limit: int = _SAMPLE_RECORDS) -> Sample:
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


def sniff_separator(text: str, complete: bool) -> str:
    """The separator that splits the first records into the most consistent field counts."""
    best, best_score = ",", (0.0, 1)
    for sep in SEPARATORS:
        records = Sample.parse(text, sep, complete=complete, limit=_SNIFF_RECORDS).records
        counts = Counter(len(record) for record in records)
        width, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (round(hits / len(records), 1), width)
        if width > 1 and score > best_score:
            best, best_score = sep, score
    return best


def line_terminator(text: str) -> str:
    """The most common line end in ``text``: ``\\n``, ``\\r\\n`` or ``\\r``.

    Line breaks inside quoted fields are cell content, not record ends; counting them
    would let cells typed on a Mac make a CRLF file look like classic Mac OS (CR-only).
    """
    text = _QUOTED_FIELD.sub("", text)
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=lambda ending: counts[ending]) if any(counts.values()) else "\n"


def detect_decimal(records: list[list[str]], sep: str) -> str:
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


_QUOTED_FIELD = re.compile(r'"[^"]*"')


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


def detect_header(records: list[list[str]], decimal: str) -> int | None:
    """No header (None) when the first record has numbers wherever the data has numbers."""
    if len(records) < 2:
        return 0
    first = records[0]
    numeric = [c for c in _numeric_columns(records[1:], decimal) if c < len(first) and first[c]]
    number = _number_pattern(decimal)
    if numeric and all(number.fullmatch(first[c]) for c in numeric):
        return None
    return 0


def detect_na_values(records: list[list[str]], decimal: str) -> list[str]:
    """Extra NA tokens seen as whole cells; punctuation only in otherwise numeric columns."""
    if not records:
        return []
    seen = {cell for record in records for cell in record}.intersection(_NA_TOKENS)
    if seen & _NUMERIC_CONTEXT_NA:
        numeric = _numeric_columns(records, decimal)
        in_numbers = {r[c] for r in records for c in numeric if c < len(r)}
        seen = {token for token in seen if token not in _NUMERIC_CONTEXT_NA or token in in_numbers}
    return [token for token in _NA_TOKENS if token in seen]
