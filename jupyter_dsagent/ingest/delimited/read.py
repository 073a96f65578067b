"""Reads a delimited file back with exactly the options inspection stored.

Stored metadata comes back from the upload record, so it is checked against what
inspection could have stored before any of it reaches pandas; nothing is guessed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ...exceptions import TableError
from .dialect import SEPARATORS
from .encoding import is_single_byte
from .head import WIDE_CODECS

__all__ = ["parse_failure", "read_delimited", "read_options"]

_PARSER_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


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
    options = read_options(metadata)
    try:
        return pd.read_csv(path, nrows=max_rows, **options)
    except UnicodeDecodeError as exc:
        raise TableError(
            f"The file does not decode as {options['encoding']}; it changed since it was "
            "inspected.",
            code="csv_undecodable",
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise parse_failure(exc) from exc


def parse_failure(exc: Exception) -> TableError:
    """Our own error for what pandas raised, with the ragged-row case said plainly."""
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


def read_options(metadata: Mapping[str, Any]) -> dict[str, Any]:
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
    if encoding in ("utf-8", "utf-8-sig", *WIDE_CODECS):
        return True
    return is_single_byte(encoding)
