"""Work out once, at upload, how to read a delimited text file, so later reads never guess.

:func:`inspect_delimited` is the order of the steps and the metadata and warnings they
add up to; each step lives in its own module.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ...exceptions import TableError
from ..inspection import Inspection
from ..limits import Limits
from .chunks import FORMULA_SAMPLE
from .dialect import (
    Sample,
    detect_decimal,
    detect_header,
    detect_na_values,
    line_terminator,
    sniff_separator,
)
from .encoding import final_encoding
from .head import head_text, load_head, refuse_binary, refuse_markup
from .read import parse_failure, read_options
from .scan import scan

__all__ = ["inspect_delimited"]


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
    head = load_head(path, limits)
    refuse_binary(head)
    text, provisional = head_text(head)
    refuse_markup(text)
    sep = sniff_separator(text, head.complete)
    sample = Sample.parse(text, sep, complete=head.complete)
    _check_columns(len(sample.records[0]), limits)
    decimal = detect_decimal(sample.records, sep)
    header = detect_header(sample.records, decimal)
    na_values = detect_na_values(sample.records[0 if header is None else 1 :], decimal)

    scanner = scan(path, head, provisional, sep, limits, len(sample.records[0]), header)
    encoding, guessed = final_encoding(path, head, scanner.encoding, line_terminator(text))
    if encoding != provisional:
        text, _ = head_text(head, encoding)
        sample = Sample.parse(text, sep, complete=head.complete)
    metadata: dict[str, Any] = {
        "encoding": encoding,
        "sep": sep,
        "decimal": decimal,
        "header": header,
        "na_values": na_values,
        "quotechar": '"',
        "line_terminator": line_terminator(text),
    }
    frame = _sample_frame(text[: sample.end], metadata)
    metadata.update(
        rows=scanner.rows,
        columns=int(frame.shape[1]),
        column_names=[str(name) for name in frame.columns],
        formula_cells=scanner.formula_cells,
        formula_cells_sampled=scanner.formula_cells_sampled,
    )
    return Inspection(metadata=metadata, warnings=_warnings(metadata, frame, guessed))


def _check_columns(columns: int, limits: Limits) -> None:
    if columns > limits.max_csv_columns:
        raise TableError(
            f"The table has {columns:,} columns; the limit is {limits.max_csv_columns:,}.",
            code="csv_too_many_columns",
        )


def _sample_frame(text: str, metadata: Mapping[str, Any]) -> pd.DataFrame:
    """The sample read by pandas with the stored options: the column names it will use."""
    options = read_options(metadata)
    del options["encoding"], options["encoding_errors"]
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise parse_failure(exc) from exc


def _warnings(
    metadata: Mapping[str, Any], frame: pd.DataFrame, guessed: bool
) -> tuple[tuple[str, str], ...]:
    found = []
    if metadata["formula_cells"]:
        where = (
            f" in the first {FORMULA_SAMPLE >> 20} MiB" if metadata["formula_cells_sampled"] else ""
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
