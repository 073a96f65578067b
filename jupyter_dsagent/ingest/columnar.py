"""Validate uploaded Parquet and JSON tables, and read them back with pandas.

Both formats can hold far more data than their size suggests: Parquet through
compression, dictionaries and run lengths, JSON through records that each add a
column. So limits are checked from the cheapest facts first (the Parquet footer,
each JSON record as it streams past), decoded bytes are counted rather than
trusted, and whatever a parser raises on hostile bytes leaves as an
:class:`~jupyter_dsagent.exceptions.IngestError`. The ``inspect_*`` functions run
in the sandboxed worker and return picklable :class:`Inspection` data; the
``read_*`` functions read a file that was inspected and check that it still is.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
from collections import Counter
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import pandas
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from ..exceptions import ContentMismatch, IngestError, ResourceLimitError, TableError
from .export import FORMULA_LEAD, PLAIN_NUMBER, is_formula_like
from .inspection import Inspection
from .limits import Limits

__all__ = ["inspect_json", "inspect_parquet", "read_json", "read_parquet"]

# pyarrow generates its compute kernels at import time, so type checkers cannot see them.
pc: Any = pyarrow.compute

_Record = dict[str, Any]

# --- shared: formulas, limits, errors ---------------------------------------------

# Formula cells are what sanitize_for_export would escape: export.py's rule, for JSON
# cell by cell (is_formula_like), for Parquet vectorised with its two patterns in RE2.
_FORMULA_LEAD_RE2 = f"^{FORMULA_LEAD}"
_PLAIN_NUMBER_RE2 = f"^{PLAIN_NUMBER}$"

#: What parsers raise on hostile bytes; anything else is our own bug and stays loud.
_PARSER_ERRORS = (
    pa.ArrowException,
    OSError,
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
)


def _warnings(formula_cells: int, nested: int, nested_noun: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    if formula_cells:
        found.append(
            (
                "formula_cells",
                f"{_some(formula_cells, 'cell', 'start')} with =, +, -, @, tab or carriage "
                "return and could run as formulas if exported to a spreadsheet.",
            )
        )
    if nested:
        found.append(
            (
                "nested_values",
                f"{_some(nested, nested_noun, 'hold')} nested lists or objects; they are kept "
                "as Python objects, not split into columns.",
            )
        )
    return tuple(found)


def _some(count: int, noun: str, verb: str) -> str:
    """``1 cell starts`` or ``3 cells start``."""
    return f"1 {noun} {verb}s" if count == 1 else f"{count:,} {noun}s {verb}"


def _check_table_size(
    kind: str, rows: int, columns: int, limits: Limits, *, at_least: bool = False
) -> None:
    """Refuse a table over the row, column or cell limit; ``at_least`` while streaming."""
    if rows > limits.max_csv_rows:
        code, problem = "csv_too_many_rows", f"{rows:,} rows; the limit is {limits.max_csv_rows:,}"
    elif columns > limits.max_csv_columns:
        code = "csv_too_many_columns"
        problem = f"{columns:,} columns; the limit is {limits.max_csv_columns:,}"
    elif rows * columns > limits.max_csv_cells:
        code = "csv_too_many_rows"
        problem = (
            f"{rows * columns:,} cells ({rows:,} rows by {columns:,} columns); "
            f"the limit is {limits.max_csv_cells:,} cells"
        )
    else:
        return
    more = "at least " if at_least else ""
    raise TableError(f"The {kind} file has {more}{problem}.", code=code)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _invalid(message: str) -> TableError:
    return TableError(message, code="table_invalid")


@contextmanager
def _refusing(kind: str, path: Path) -> Iterator[None]:
    """Turn what a parser raises on bad bytes into a refusal a person can read."""
    try:
        yield
    except IngestError:
        raise
    except MemoryError as error:
        raise ResourceLimitError(
            f"Reading the {kind} file needed more memory than the sandbox allows."
        ) from error
    except RecursionError as error:
        raise _invalid(f"The {kind} file nests values too deeply to be read.") from error
    except _PARSER_ERRORS as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        reason = _clip(reason.replace(str(path), path.name), 200).rstrip(".")
        raise _invalid(f"The {kind} file is damaged or not valid: {reason}.") from error


def _expected_shape(metadata: Mapping[str, Any]) -> tuple[int, list[str]]:
    return int(metadata["rows"]), [str(name) for name in metadata["column_names"]]


def _check_unchanged(
    kind: str, rows: int, names: list[str], metadata: Mapping[str, Any], max_rows: int | None
) -> None:
    """A file read back must be the table that was inspected, cut to ``max_rows``."""
    want_rows, want_names = _expected_shape(metadata)
    if max_rows is not None:
        want_rows = min(want_rows, max_rows)
    if rows != want_rows or names != want_names:
        raise _invalid(
            f"The {kind} file no longer matches what was checked at upload "
            f"({rows:,} rows and {len(names):,} columns instead of {want_rows:,} and "
            f"{len(want_names):,}); upload it again."
        )


# --- Parquet ----------------------------------------------------------------------

_PARQUET_MAGIC = b"PAR1"
_ENCRYPTED_MAGIC = b"PARE"
#: Far above any real footer (1,000 columns in hundreds of row groups), yet small
#: enough that decoding it cannot exhaust the sandbox's memory.
_MAX_FOOTER_BYTES = 64 * 1024 * 1024
#: Codecs pyarrow decodes; anything else (LZO, unknown numbers) is refused up front.
_CODECS = frozenset({"UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "ZSTD", "LZ4", "LZ4_RAW"})
#: Below this a high ratio is just a small repetitive row group, not a bomb.
_RATIO_FLOOR_BYTES = 1024 * 1024
_LIST_TYPES = (
    pa.ListType,
    pa.LargeListType,
    pa.FixedSizeListType,
    pa.ListViewType,
    pa.LargeListViewType,
)


@dataclass(frozen=True)
class _ParquetScan:
    rows: int
    formula_cells: int


def inspect_parquet(path: Path, limits: Limits) -> Inspection:
    """Check a Parquet upload from its footer, then decode it one row group at a time.

    Rows, columns, cells, codecs and the sizes each row group claims are checked
    before any data is decoded; decoding then proves the data is readable, counts
    the bytes it really expands to and the cells that look like formulas.

    Raises
    ------
    ContentMismatch
        The file is not Parquet.
    TableError
        Too many rows, columns or cells (``csv_too_many_*``); a decompression bomb,
        an encrypted, damaged or inconsistent file (``table_invalid``).
    ResourceLimitError
        Decoding ran out of memory.
    """
    with _refusing("Parquet", path), path.open("rb") as stream:
        parquet = _open_parquet(stream)
        footer = parquet.metadata
        _check_parquet_shape(footer, limits)
        compression = _check_row_groups(footer, limits)
        schema = parquet.schema_arrow
        names = [str(name) for name in _parquet_frame(parquet, []).columns]
        scan = _decode_parquet(stream, footer, schema, limits)
    nested = sum(1 for field in schema if pa.types.is_nested(field.type))
    metadata = {
        "rows": scan.rows,
        "columns": len(names),
        "column_names": names,
        "formula_cells": scan.formula_cells,
        "row_groups": footer.num_row_groups,
        "compression": compression,
    }
    return Inspection(metadata, _warnings(scan.formula_cells, nested, "column"))


def read_parquet(
    path: Path, metadata: Mapping[str, Any], *, max_rows: int | None = None
) -> pandas.DataFrame:
    """Read an inspected Parquet file with pyarrow, stopping after ``max_rows``.

    This is what ``pandas.read_parquet(path, engine="pyarrow")`` does for a local
    file (``read_table`` with the pandas metadata, then ``to_pandas``; never a
    pickle), but whole row groups are skipped once ``max_rows`` are in hand.
    """
    with _refusing("Parquet", path), path.open("rb") as stream:
        parquet = _open_parquet(stream)
        frame = _parquet_frame(parquet, _row_groups_for(parquet.metadata, max_rows))
    if max_rows is not None:
        frame = frame.head(max_rows)
    _check_unchanged("Parquet", len(frame), [str(c) for c in frame.columns], metadata, max_rows)
    return frame


def _open_parquet(stream: IO[bytes]) -> pq.ParquetFile:
    """Check both magics and the footer length before pyarrow parses anything."""
    size = os.fstat(stream.fileno()).st_size
    head = stream.read(len(_PARQUET_MAGIC))
    if head != _PARQUET_MAGIC or size < 12:
        raise ContentMismatch("The file does not start with the Parquet marker PAR1.")
    stream.seek(size - 8)
    tail = stream.read(8)
    if tail[4:] == _ENCRYPTED_MAGIC:
        raise _invalid("The Parquet file is encrypted; only unencrypted Parquet is accepted.")
    if tail[4:] != _PARQUET_MAGIC:
        raise _invalid("The Parquet file is truncated or damaged: it does not end with PAR1.")
    footer_bytes = int.from_bytes(tail[:4], "little")
    if footer_bytes > min(size - 12, _MAX_FOOTER_BYTES):
        raise _invalid(
            f"The Parquet file claims a {footer_bytes:,}-byte footer; the limit is "
            f"{min(size - 12, _MAX_FOOTER_BYTES):,} bytes for this file."
        )
    stream.seek(0)
    return pq.ParquetFile(stream)


def _check_parquet_shape(footer: pq.FileMetaData, limits: Limits) -> None:
    rows = footer.num_rows
    if rows < 0 or footer.num_row_groups > rows + 1:
        raise _invalid(
            f"The Parquet footer is inconsistent ({rows:,} rows in "
            f"{footer.num_row_groups:,} row groups)."
        )
    _check_table_size("Parquet", rows, footer.num_columns, limits)


def _check_row_groups(footer: pq.FileMetaData, limits: Limits) -> list[str]:
    """Refuse bombs from the sizes the footer declares; return the codecs seen."""
    seen: set[str] = set()
    rows = values = expanded = 0
    for index in range(footer.num_row_groups):
        group = footer.row_group(index)
        packed, unpacked, group_values = _row_group_sizes(group, seen)
        if min(group.num_rows, packed, unpacked, group_values) < 0:
            raise _invalid(f"Row group {index + 1:,} of the Parquet file has negative sizes.")
        _check_expansion(f"Row group {index + 1:,} of the Parquet file", packed, unpacked, limits)
        rows += group.num_rows
        values += group_values
        expanded += unpacked
    if rows != footer.num_rows:
        raise _invalid(
            f"The Parquet row groups hold {rows:,} rows but its footer says {footer.num_rows:,}."
        )
    if expanded > limits.max_zip_uncompressed_bytes:
        raise _invalid(
            f"The Parquet file would expand to {expanded:,} bytes; the limit is "
            f"{limits.max_zip_uncompressed_bytes:,}."
        )
    if values > limits.max_csv_cells:
        raise TableError(
            f"The Parquet file holds {values:,} values (each item of a nested list counts); "
            f"the limit is {limits.max_csv_cells:,} cells.",
            code="csv_too_many_rows",
        )
    refused = seen - _CODECS
    if refused:
        raise _invalid(f"The Parquet file uses compression {sorted(refused)[0]}, which we refuse.")
    return sorted(seen)


def _row_group_sizes(group: pq.RowGroupMetaData, seen: set[str]) -> tuple[int, int, int]:
    """Compressed bytes, uncompressed bytes and leaf values one row group declares.

    pyarrow 24 aborts the process, rather than raising, when ``group.column`` meets
    inconsistent size statistics; the sandbox turns that crash into a refusal.
    """
    packed = unpacked = values = 0
    for column in range(group.num_columns):
        chunk = group.column(column)
        seen.add(chunk.compression)
        packed += chunk.total_compressed_size
        unpacked += chunk.total_uncompressed_size
        values += chunk.num_values
    return packed, unpacked, values


def _check_expansion(what: str, packed: int, unpacked: int, limits: Limits) -> None:
    if unpacked > limits.max_zip_uncompressed_bytes:
        raise _invalid(
            f"{what} would expand to {unpacked:,} bytes; the limit is "
            f"{limits.max_zip_uncompressed_bytes:,}."
        )
    ratio = unpacked / max(packed, 1)
    if unpacked > _RATIO_FLOOR_BYTES and ratio > limits.max_zip_ratio:
        raise _invalid(
            f"{what} would expand {ratio:,.0f} times, to {unpacked:,} bytes; the limit is "
            f"{limits.max_zip_ratio:g} times."
        )


def _parquet_frame(parquet: pq.ParquetFile, groups: list[int]) -> pandas.DataFrame:
    """Row groups as pandas sees them, the pandas metadata choosing the index.

    Inspection reads no row group this way: that yields the column names a read
    will show and proves the metadata and every column type convert to pandas.
    """
    return parquet.read_row_groups(groups, use_pandas_metadata=True).to_pandas()


def _decode_parquet(
    stream: IO[bytes], footer: pq.FileMetaData, schema: pa.Schema, limits: Limits
) -> _ParquetScan:
    """Decode each row group whole, as a read will, counting the bytes it really takes.

    pyarrow's batch reader forgives damage that a whole-group read refuses, so only
    reading the same way proves a later read works. Text columns stay dictionaries:
    a row group then costs about its encoded size plus a few bytes per cell, which
    the footer checks bound, and a value the encoding repeats a million times is
    counted as a million values without being materialised.
    """
    reader = pq.ParquetFile(
        stream, metadata=footer, read_dictionary=_byte_columns(schema, footer.num_columns)
    )
    rows = decoded = formula_cells = 0
    for index in range(footer.num_row_groups):
        group = reader.read_row_group(index, use_threads=False)
        group.validate()
        rows += group.num_rows
        _check_table_size("Parquet", rows, footer.num_columns, limits, at_least=True)
        for chunk in (chunk for column in group.columns for chunk in column.chunks):
            size, formulas = _column_facts(chunk)
            decoded += size
            formula_cells += formulas
        if decoded > limits.max_zip_uncompressed_bytes:
            raise _invalid(
                f"The Parquet file decodes to at least {decoded:,} bytes; the limit is "
                f"{limits.max_zip_uncompressed_bytes:,}."
            )
    if rows != footer.num_rows:
        raise _invalid(
            f"The Parquet file holds {rows:,} rows but its footer says {footer.num_rows:,}."
        )
    return _ParquetScan(rows, formula_cells)


def _byte_columns(schema: pa.Schema, leaf_count: int) -> list[int]:
    """Leaf indices of the top-level string and binary columns, to read as dictionaries."""
    found: list[int] = []
    leaf = 0
    for field in schema:
        if _is_bytes(field.type):
            found.append(leaf)
        leaf += _leaves(field.type)
    return found if leaf == leaf_count else []


def _leaves(data_type: pa.DataType) -> int:
    """How many Parquet leaf columns an Arrow type is stored as."""
    if isinstance(data_type, pa.BaseExtensionType):
        return _leaves(data_type.storage_type)
    if pa.types.is_struct(data_type):
        return sum(_leaves(data_type.field(i).type) for i in range(data_type.num_fields))
    if pa.types.is_map(data_type):
        return _leaves(data_type.key_type) + _leaves(data_type.item_type)
    if isinstance(data_type, _LIST_TYPES):
        return _leaves(data_type.value_type)
    return 1


def _is_bytes(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_binary(data_type)
        or pa.types.is_large_binary(data_type)
    )


def _is_text(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    )


def _column_facts(column: pa.Array) -> tuple[int, int]:
    """Bytes the column takes once decoded, and how many of its cells look like formulas.

    Full validation (UTF-8 text, offsets in range) is what pandas will rely on, so a
    file that passes here also converts; only the dictionary values in use are checked.
    """
    data_type = column.type
    if pa.types.is_dictionary(data_type) and _is_bytes(data_type.value_type):
        used = pc.value_counts(column.indices)
        values = column.dictionary.take(used.field("values"))
        values.validate(full=True)
        repeats = used.field("counts")
        size = _total(pc.multiply(pc.binary_length(values), repeats)) + 4 * len(column)
        text = _is_text(data_type.value_type)
        return size, _formula_count(values, repeats) if text else 0
    column.validate(full=True)
    return column.nbytes, _formula_count(column, None) if _is_text(data_type) else 0


def _formula_count(values: pa.Array, repeats: pa.Array | None) -> int:
    if pa.types.is_string_view(values.type):
        values = values.cast(pa.large_string())
    risky = pc.and_(
        pc.match_substring_regex(values, _FORMULA_LEAD_RE2),
        pc.invert(pc.match_substring_regex(values, _PLAIN_NUMBER_RE2)),
    )
    return _total(risky if repeats is None else pc.filter(repeats, risky))


def _total(values: pa.Array) -> int:
    return int(pc.sum(values).as_py() or 0)


def _row_groups_for(footer: pq.FileMetaData, max_rows: int | None) -> list[int]:
    groups: list[int] = []
    rows = 0
    for index in range(footer.num_row_groups):
        if max_rows is not None and rows >= max_rows:
            break
        groups.append(index)
        rows += footer.row_group(index).num_rows
    return groups


# --- JSON -------------------------------------------------------------------------

_JSON_SPACE = b" \t\r\n"
_SPACE_RE = re.compile(r"[ \t\r\n]*")
_SNIFF_BYTES = 64 * 1024
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_KINDS = {
    type(None): "null",
    bool: "true or false",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
}


@dataclass(frozen=True)
class _JsonSource:
    """How the file holds its table: records to stream, or whole columns."""

    orient: str  # "records" | "lines" | "list-columns"
    encoding: str  # "utf-8" | "utf-8-sig"
    table: Generator[_Record, None, None] | dict[str, list[Any]]


class _Census:
    """Tallies records as they stream past and refuses as soon as a limit is crossed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.names: dict[str, None] = {}
        self.rows = 0
        self.formula_cells = 0
        self.nested_cells = 0

    def add_record(self, record: _Record) -> None:
        self.rows += 1
        for name, value in record.items():
            if name not in self.names:
                self._add_name(name)
            self._look_at(value)
        _check_table_size("JSON", self.rows, len(self.names), self.limits, at_least=True)

    def add_columns(self, columns: dict[str, list[Any]]) -> None:
        self.rows = _column_length(columns)
        _check_table_size("JSON", self.rows, len(columns), self.limits)
        for name, values in columns.items():
            self._add_name(name)
            for value in values:
                self._look_at(value)

    def _add_name(self, name: str) -> None:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as error:
            raise _invalid(
                "A JSON key holds a lone surrogate escape, so it cannot be a column name."
            ) from error
        self.names[name] = None

    def _look_at(self, value: Any) -> None:
        if isinstance(value, str):
            self.formula_cells += is_formula_like(value)
        elif isinstance(value, (dict, list)):
            self.nested_cells += 1


def inspect_json(path: Path, limits: Limits) -> Inspection:
    """Check a JSON table: an array of records, JSON Lines, or an object of columns.

    JSON Lines stream record by record, so a file over the row, column or cell
    limit is refused at the first record past it.

    Raises
    ------
    ContentMismatch
        The file does not start with ``[`` or ``{``.
    TableError
        Too many rows, columns or cells (``csv_too_many_*``); not UTF-8, not valid
        JSON, NaN or Infinity, a repeated key, not a list of records, nested too
        deeply (``table_invalid``).
    """
    census = _Census(limits)
    with _refusing("JSON", path):
        source = _json_source(path)
        if isinstance(source.table, dict):
            census.add_columns(source.table)
        else:
            with closing(source.table) as records:
                for record in records:
                    census.add_record(record)
    metadata = {
        "rows": census.rows,
        "columns": len(census.names),
        "column_names": list(census.names),
        "formula_cells": census.formula_cells,
        "lines": source.orient == "lines",
        "encoding": source.encoding,
        "orient": source.orient,
    }
    return Inspection(metadata, _warnings(census.formula_cells, census.nested_cells, "cell"))


def read_json(
    path: Path, metadata: Mapping[str, Any], *, max_rows: int | None = None
) -> pandas.DataFrame:
    """Read an inspected JSON table into a DataFrame, stopping after ``max_rows``.

    The same parser as :func:`inspect_json` feeds ``pandas.DataFrame``, so the
    frame has exactly the inspected rows and columns (in order, missing keys as
    NaN) and pandas' usual dtype inference. ``pandas.read_json`` is not used: its
    parser rejects integers the standard one accepts, and it converts strings
    that look like numbers or dates, silently changing the data.
    """
    _, names = _expected_shape(metadata)
    with _refusing("JSON", path):
        source = _json_source(path)
        if isinstance(source.table, dict):
            length = _column_length(source.table)
            found = length if max_rows is None else min(length, max_rows)
            _check_unchanged("JSON", found, list(source.table), metadata, max_rows)
            # Cut after building, so each column's dtype is the one a full read gives.
            return pandas.DataFrame(source.table, columns=names).iloc[:max_rows]
        with closing(source.table) as stream:
            records = list(islice(stream, max_rows))
    seen = list(dict.fromkeys(name for record in records for name in record))
    if max_rows is not None and set(seen) <= set(names):
        seen = names  # a cut read may not meet every column; all inspected ones are kept
    _check_unchanged("JSON", len(records), seen, metadata, max_rows)
    return pandas.DataFrame(records, columns=names)


def _json_source(path: Path) -> _JsonSource:
    encoding, skip, first = _sniff_json(path)
    if first == b"[":
        return _JsonSource("records", encoding, _array_records(_read_text(path, skip)))
    if first != b"{":
        raise ContentMismatch("The file does not start with [ or {, so it is not a JSON table.")
    head, more = _first_line_object(path, skip)
    if head is not None and more:
        return _JsonSource("lines", encoding, _line_records(path, skip))
    whole = head if head is not None else _loads(_read_text(path, skip))
    if all(isinstance(values, list) for values in whole.values()):
        lengths = sorted({len(values) for values in whole.values()})
        if len(lengths) > 1:
            raise _invalid(
                "The JSON object looks like a table of columns, but its lists have "
                f"different lengths ({lengths[0]:,} to {lengths[-1]:,} items)."
            )
        return _JsonSource("list-columns", encoding, whole)
    return _JsonSource("records", encoding, _one(whole))


def _sniff_json(path: Path) -> tuple[str, int, bytes]:
    """The encoding, the BOM's length and the first significant byte."""
    with path.open("rb") as stream:
        head = stream.read(4)
        for bom, name in _FOREIGN_BOMS:
            if head.startswith(bom):
                raise _invalid(f"The JSON file is {name} text; save it as UTF-8 instead.")
        skip = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        stream.seek(skip)
        while chunk := stream.read(_SNIFF_BYTES):
            start = chunk.lstrip(_JSON_SPACE)
            if start:
                return ("utf-8-sig" if skip else "utf-8"), skip, start[:1]
    raise _invalid("The JSON file is empty.")


def _read_text(path: Path, skip: int) -> str:
    with path.open("rb") as stream:
        stream.seek(skip)
        return _decode_utf8(stream.read(), 1)


def _decode_utf8(data: bytes, first_line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + first_line
        raise _invalid(
            f"The JSON file is not UTF-8 text (line {line:,} has a bad byte); save it as UTF-8."
        ) from error


def _first_line_object(path: Path, skip: int) -> tuple[_Record | None, bool]:
    """The first line's object if it is one on its own, and whether more lines follow."""
    with path.open("rb") as stream:
        stream.seek(skip)
        lines = (line for line in stream if line.strip(_JSON_SPACE))
        first = next(lines, b"")
        try:
            head = _DECODER.decode(first.decode("utf-8"))
        except (ValueError, RecursionError):  # parsing the whole file will say what is wrong
            return None, False
        return head, next(lines, None) is not None


def _line_records(path: Path, skip: int) -> Generator[_Record, None, None]:
    with path.open("rb") as stream:
        stream.seek(skip)
        for number, line in enumerate(stream, start=1):
            if line.strip(_JSON_SPACE):
                record = _loads(_decode_utf8(line, number), number)
                if not isinstance(record, dict):
                    raise _invalid(
                        f"Line {number:,} of the JSON Lines file is {_kind(record)}, not an object."
                    )
                yield record


def _array_records(text: str) -> Generator[_Record, None, None]:
    """The items of a top-level array one at a time, each of which must be an object."""
    at = _skip_space(text, text.index("[") + 1)
    number = 0
    done = text.startswith("]", at)
    while not done:
        item, at = _decode_at(text, at, 1)
        number += 1
        if not isinstance(item, dict):
            raise _invalid(
                f"Item {number:,} of the JSON array is {_kind(item)}, not an object, "
                "so the file is not a list of records."
            )
        yield item
        at = _skip_space(text, at)
        done = text.startswith("]", at)
        if not done:
            if not text.startswith(",", at):
                raise _invalid(
                    f"The JSON array is not valid: expected , or ] after item {number:,}."
                )
            at = _skip_space(text, at + 1)
    _expect_end(text, at + 1, 1)


def _one(record: _Record) -> Generator[_Record, None, None]:
    yield record


def _column_length(columns: dict[str, list[Any]]) -> int:
    return len(next(iter(columns.values()), []))


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), "a value")


# Strict decoding: no NaN or Infinity, no overflowing floats, no repeated keys.


def _unique_keys(pairs: list[tuple[str, Any]]) -> _Record:
    record = dict(pairs)
    if len(record) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        twice = next(key for key, count in counts.items() if count > 1)
        raise _invalid(
            f"A JSON object has the key {_clip(twice)!r} twice, so one of its values would be lost."
        )
    return record


def _refuse_constant(name: str) -> Any:
    raise _invalid(f"The JSON file contains {name}, which is not valid JSON.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _invalid(f"The JSON number {_clip(text)} is too large to store.")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_constant=_refuse_constant, parse_float=_finite_float
)


def _loads(text: str, first_line: int = 1) -> Any:
    value, end = _decode_at(text, _skip_space(text, 0), first_line)
    _expect_end(text, end, first_line)
    return value


def _decode_at(text: str, at: int, first_line: int) -> tuple[Any, int]:
    """One JSON value starting at ``at``; errors name the line in the file."""
    try:
        value, end = _DECODER.raw_decode(text, at)
    except json.JSONDecodeError as error:
        raise _invalid(
            f"The file is not valid JSON: {error.msg} at line "
            f"{error.lineno + first_line - 1:,}, column {error.colno:,}."
        ) from error
    except IngestError:
        raise
    except ValueError as error:  # int() refuses numbers of thousands of digits
        raise _invalid("The JSON file holds a number with too many digits to read.") from error
    except RecursionError as error:
        raise _invalid("The JSON file nests lists or objects too deeply to be read.") from error
    return value, end


def _skip_space(text: str, at: int) -> int:
    match = _SPACE_RE.match(text, at)
    return match.end() if match else at


def _expect_end(text: str, at: int, first_line: int) -> None:
    end = _skip_space(text, at)
    if end != len(text):
        line = text.count("\n", 0, end) + first_line
        raise _invalid(f"The JSON file has extra data after its value, at line {line:,}.")
