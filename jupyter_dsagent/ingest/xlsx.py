"""Excel workbooks (.xlsx): every ZIP check first, then a counted read of the first sheet.

An .xlsx file is a ZIP of XML parts, so it gets all the checks a ZIP upload gets and
each part is decompressed once, counted, before openpyxl parses anything (with
defusedxml, which openpyxl uses when installed). Macro-enabled and binary workbooks are
recognised by their parts, whatever the file is called.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defusedxml import ElementTree as SafeElementTree

from ..exceptions import IngestError, TableError, TypeNotAllowed
from .archive import ByteBudget, _open_zip, _stream_member, check_zip_structure
from .export import is_formula_like
from .inspection import Inspection
from .limits import Limits
from .quarantine import human_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["inspect_xlsx", "read_xlsx"]

_CONTENT_TYPES = "[Content_Types].xml"
_WORKBOOK = "xl/workbook.xml"
_MACRO_PARTS = ("vbaproject.bin", "workbook.bin")
_MACRO_CONTENT_TYPES = ("macroenabled", "vbaproject")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The content-types part is read into memory to be parsed; real ones are a few KB.
_MAX_CONTENT_TYPES_BYTES = 1 << 20


def _table_invalid(message: str) -> TableError:
    return TableError(message, code="table_invalid")


def _macro_refusal() -> TypeNotAllowed:
    return TypeNotAllowed(
        "The workbook contains macros or is a binary workbook; macro-enabled workbooks "
        "(.xlsm) and binary ones (.xlsb) are never accepted, so save it as a plain .xlsx."
    )


# -- the container --------------------------------------------------------------------------


def _refuse_other_containers(path: Path) -> None:
    """Give legacy and password-protected workbooks (OLE files, not ZIPs) a clear answer."""
    with open(path, "rb") as handle:
        head = handle.read(len(_CFB_MAGIC))
    if head == _CFB_MAGIC:
        raise TypeNotAllowed(
            "Password-protected workbooks and old .xls files are not accepted; save it as "
            "an unencrypted .xlsx workbook."
        )
    if not head.startswith(b"PK"):
        raise TypeNotAllowed("The file is not an .xlsx workbook (those are ZIP archives).")


def _parts_by_name(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """Part names are case-insensitive in OOXML; the ZIP checks made them unique."""
    parts = {info.orig_filename.casefold(): info for info in infos}
    if any(name.rsplit("/", 1)[-1] in _MACRO_PARTS for name in parts):
        raise _macro_refusal()
    for required in (_CONTENT_TYPES, _WORKBOOK):
        if required.casefold() not in parts:
            raise _table_invalid(
                f"The file is a ZIP archive but not an Excel workbook; it has no {required}."
            )
    return parts


def _discard(chunk: bytes) -> None:
    """A sink for parts that are only decompressed to be counted."""


def _decompress_all_parts(
    path: Path, infos: list[zipfile.ZipInfo], content_types: zipfile.ZipInfo, limits: Limits
) -> bytes:
    """Decompress every part once, counted against the ZIP limits; keep the content types.

    The content-types part is only kept when it declares a small size, and the streaming
    refuses any part that produces more than it declares.
    """
    if content_types.file_size > _MAX_CONTENT_TYPES_BYTES:
        raise _table_invalid(
            f"The workbook's {_CONTENT_TYPES} is {human_bytes(content_types.file_size)}; "
            f"the limit is {human_bytes(_MAX_CONTENT_TYPES_BYTES)}."
        )
    budget = ByteBudget(limits.max_zip_uncompressed_bytes)
    kept = bytearray()
    with _open_zip(path) as archive:
        for info in infos:
            sink = kept.extend if info is content_types else _discard
            _stream_member(archive, info, limits, budget, sink)
    return bytes(kept)


def _refuse_macro_content_types(xml: bytes) -> None:
    try:
        root = SafeElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises ParseError or its own ValueErrors
        raise _table_invalid(f"The workbook's {_CONTENT_TYPES} is not valid XML.") from exc
    for element in root.iter():
        content_type = str(element.get("ContentType", "")).casefold()
        if any(marker in content_type for marker in _MACRO_CONTENT_TYPES):
            raise _macro_refusal()


# -- the first sheet ------------------------------------------------------------------------


def _looks_like_formula(value: object) -> bool:
    """Text a spreadsheet would run as a formula if the cell were exported (CWE-1236).

    The rule is export.py's, so the count is what sanitize_for_export would escape.
    """
    return isinstance(value, str) and is_formula_like(value)


def _trimmed_width(row: Sequence[object]) -> int:
    width = len(row)
    while width and row[width - 1] is None:
        width -= 1
    return width


@dataclass
class _SheetCount:
    """Running counts over the rows of a sheet, refusing the moment a limit is passed."""

    limits: Limits
    rows: int = 0  # rows read so far, header included
    filled_rows: int = 0  # up to the last row holding a value (readers drop the rest)
    columns: int = 0  # widest row without its trailing empty cells
    widest: int = 0  # widest row as read: the work a reader does per row
    formula_cells: int = 0
    header: tuple[Any, ...] = ()

    def add(self, row: Sequence[object]) -> None:
        limits = self.limits
        self.rows += 1
        data_rows = self.rows - 1
        if data_rows > limits.max_csv_rows:
            raise TableError(
                f"The first sheet has more than {limits.max_csv_rows:,} rows; the limit is "
                f"{limits.max_csv_rows:,}.",
                code="csv_too_many_rows",
            )
        width = _trimmed_width(row)
        if self.rows == 1:
            self.header = tuple(row[:width])
        if width:
            self.filled_rows = self.rows
        self.columns = max(self.columns, width)
        if self.columns > limits.max_csv_columns:
            raise TableError(
                f"The first sheet has {self.columns:,} columns; the limit is "
                f"{limits.max_csv_columns:,}.",
                code="csv_too_many_columns",
            )
        self.widest = max(self.widest, len(row))
        if data_rows * self.widest > limits.max_csv_cells:
            raise TableError(
                f"The first sheet has more than {limits.max_csv_cells:,} cells (rows times "
                f"columns); the limit is {limits.max_csv_cells:,}.",
                code="csv_too_many_rows",
            )
        self.formula_cells += sum(1 for value in row if _looks_like_formula(value))


def _column_names(header: Sequence[object], width: int) -> list[str]:
    """The names pandas gives the columns: blanks become 'Unnamed: i', repeats 'x.1'."""
    names: list[str] = []
    counts: dict[str, int] = {}
    for index in range(width):
        value = header[index] if index < len(header) else None
        name = f"Unnamed: {index}" if value is None or value == "" else str(value)
        seen = counts.get(name, 0)
        while seen:
            counts[name] = seen + 1
            name = f"{name}.{seen}"
            seen = counts.get(name, 0)
        counts[name] = 1
        names.append(name)
    return names


@contextmanager
def _reading_workbook() -> Iterator[None]:
    """openpyxl's complaints about unsupported features are noise; its failures are ours."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            yield
    except (IngestError, MemoryError):
        raise
    except Exception as exc:  # openpyxl raises anything from KeyError to ParseError
        raise _table_invalid(
            "The workbook could not be read; it is damaged or not a valid .xlsx file."
        ) from exc


def _scan_first_sheet(path: Path, limits: Limits) -> tuple[list[str], str, _SheetCount]:
    import openpyxl

    if openpyxl.DEFUSEDXML is not True:
        raise _table_invalid(
            "Excel workbooks cannot be read safely here because defusedxml is not "
            "installed; ask the administrator to install it."
        )
    # openpyxl leaves its ZIP open when loading fails; owning the file handle closes it.
    with _reading_workbook(), open(path, "rb") as handle:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        try:
            if not workbook.worksheets:
                raise _table_invalid("The workbook has no worksheet, only charts.")
            sheet = workbook.worksheets[0]
            # Declared dimensions can claim a million empty columns; read what is there.
            sheet.reset_dimensions()
            count = _SheetCount(limits)
            for row in sheet.iter_rows(values_only=True):
                count.add(row)
            return list(workbook.sheetnames), str(sheet.title), count
        finally:
            workbook.close()


# -- the public functions -------------------------------------------------------------------


def inspect_xlsx(path: Path, limits: Limits) -> Inspection:
    """Check an .xlsx upload and describe its first sheet.

    Refuses with :class:`ArchiveError` (the ZIP checks), :class:`TypeNotAllowed`
    (macros, binary or legacy workbooks) or :class:`TableError` (``table_invalid``,
    ``csv_too_many_rows``, ``csv_too_many_columns``).
    """
    _refuse_other_containers(path)
    infos = check_zip_structure(path, limits)
    parts = _parts_by_name(infos)
    content_types = _decompress_all_parts(path, infos, parts[_CONTENT_TYPES.casefold()], limits)
    _refuse_macro_content_types(content_types)
    sheet_names, sheet_name, count = _scan_first_sheet(path, limits)
    metadata: dict[str, Any] = {
        "sheet_names": sheet_names,
        "sheet_name": sheet_name,
        "rows": max(count.filled_rows - 1, 0),
        "columns": count.columns,
        "column_names": _column_names(count.header, count.columns),
        "header": 0,
        "formula_cells": count.formula_cells,
    }
    notes: tuple[tuple[str, str], ...] = ()
    if count.formula_cells:
        notes = (
            (
                "formula_cells",
                f"{count.formula_cells:,} cells start with =, +, -, @, a tab or a carriage "
                "return and could run as formulas if exported to a spreadsheet.",
            ),
        )
    return Inspection(metadata, notes)


def read_xlsx(
    path: Path, metadata: Mapping[str, Any], *, max_rows: int | None = None
) -> pd.DataFrame:
    """Read the sheet :func:`inspect_xlsx` described, the way it described it."""
    import pandas as pd

    sheet_name, header = metadata["sheet_name"], metadata["header"]
    with _reading_workbook():
        return pd.read_excel(
            path, sheet_name=sheet_name, header=header, nrows=max_rows, engine="openpyxl"
        )
