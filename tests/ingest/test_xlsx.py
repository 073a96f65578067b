"""Excel workbooks: the ZIP checks first, macros refused, the first sheet counted."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Mapping
from math import nan
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from defusedxml import EntitiesForbidden

from jupyter_dsagent.exceptions import ArchiveError, TableError, TypeNotAllowed
from jupyter_dsagent.ingest import xlsx
from jupyter_dsagent.ingest.export import sanitize_for_export
from jupyter_dsagent.ingest.limits import Limits
from jupyter_dsagent.ingest.xlsx import inspect_xlsx, read_xlsx

LIMITS = Limits.default()
SHEET = "xl/worksheets/sheet1.xml"


def workbook(path: Path, rows: list[list[Any]], *, title: str = "Data") -> Path:
    """Save rows as a real workbook; strings are stored as text, never as formulas."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    book.create_sheet("Notes").append(["not read"])
    book.save(path)
    return path


def rewritten(
    source: Path,
    target: Path,
    replace: Mapping[str, bytes] = {},
    add: Mapping[str, bytes] = {},
) -> Path:
    """Copy a workbook's parts into a new ZIP, replacing or adding some."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, replace.get(info.filename, old.read(info)))
        for name, data in add.items():
            new.writestr(name, data)
    return target


PEOPLE = [
    ["name", "age", "city"],
    ["Ada", 36, "London"],
    ["Grace", 85, "Arlington"],
    [None, None, None],
    ["Linus", 54, "Portland"],
]


def test_a_normal_workbook_is_described_and_read_back_the_same(tmp_path: Path) -> None:
    path = workbook(tmp_path / "people.xlsx", PEOPLE)
    inspection = inspect_xlsx(path, LIMITS)
    assert inspection.metadata == {
        "sheet_names": ["Data", "Notes"],
        "sheet_name": "Data",
        "rows": 4,
        "columns": 3,
        "column_names": ["name", "age", "city"],
        "header": 0,
        "formula_cells": 0,
    }
    assert inspection.warnings == ()
    frame = read_xlsx(path, inspection.metadata)
    expected = pd.DataFrame(
        {
            "name": ["Ada", "Grace", nan, "Linus"],
            "age": [36.0, 85.0, nan, 54.0],
            "city": ["London", "Arlington", nan, "Portland"],
        }
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert len(frame) == inspection.metadata["rows"]
    assert read_xlsx(path, inspection.metadata, max_rows=2).shape == (2, 3)


def test_column_names_are_the_ones_pandas_will_use(tmp_path: Path) -> None:
    path = workbook(tmp_path / "names.xlsx", [["a", None, "a", 2024], [1, 2, 3, 4, 5]])
    metadata = inspect_xlsx(path, LIMITS).metadata
    assert metadata["columns"] == 5
    frame = read_xlsx(path, metadata)
    assert metadata["column_names"] == [str(c) for c in frame.columns]
    assert metadata["column_names"] == ["a", "Unnamed: 1", "a.1", "2024", "Unnamed: 4"]


def test_text_that_would_run_as_a_formula_is_counted_and_warned_about(tmp_path: Path) -> None:
    risky = ['=HYPERLINK("http://evil","x")', "+1+2", "-cmd", "@SUM(A1)", "\tcalc"]
    harmless = ["-5", "+3.5", "a=b", "", "plain"]
    rows = [["text"]] + [[value] for value in risky + harmless]
    inspection = inspect_xlsx(workbook(tmp_path / "risky.xlsx", rows), LIMITS)
    assert inspection.metadata["formula_cells"] == 5
    [(code, message)] = inspection.warnings
    assert code == "formula_cells"
    assert message.startswith("5 cells start with =, +, -, @")
    assert "could run as formulas if exported to a spreadsheet" in message


def test_formula_cells_are_exactly_what_an_export_would_escape(tmp_path: Path) -> None:
    """One rule for every format: export.py's. The count used to ask ``float()``, which
    passed "-inf", "+nan", "-1_000" and "\t5" (an export escapes them: a spreadsheet
    could run them) and counted "-1,000" and "+1.234,5" (numbers an export leaves alone).
    """
    cells = ["-1,000", "+1.234,5", "-inf", "+nan", "-1_000", "\t5", "-5", "=1"]
    escaped = sanitize_for_export(pd.DataFrame({"text": cells}))["text"]
    expected = sum(after != before for after, before in zip(escaped, cells, strict=True))
    rows = [["text"]] + [[value] for value in cells]
    inspection = inspect_xlsx(workbook(tmp_path / "numbers.xlsx", rows), LIMITS)
    assert inspection.metadata["formula_cells"] == expected == 5


def test_inspecting_a_workbook_does_not_import_pandas() -> None:
    """The formula rule comes from export.py, which must not pull pandas into the worker."""
    code = "import sys, jupyter_dsagent.ingest.xlsx; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class CountingRows:
    """Wraps the row counter to see how far a refused sheet was read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        add = xlsx._SheetCount.add

        def counted(count: xlsx._SheetCount, row: Any) -> None:
            self.calls += 1
            add(count, row)

        monkeypatch.setattr(xlsx._SheetCount, "add", counted)


def test_too_many_rows_are_refused_as_soon_as_the_limit_is_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workbook(tmp_path / "long.xlsx", [["n"]] + [[i] for i in range(5000)])
    rows = CountingRows(monkeypatch)
    with pytest.raises(TableError) as caught:
        inspect_xlsx(path, Limits.default(max_csv_rows=10))
    assert caught.value.code == "csv_too_many_rows"
    assert caught.value.message == "The first sheet has more than 10 rows; the limit is 10."
    assert rows.calls == 12  # the header, ten rows, and the one too many


def test_too_many_columns_are_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "wide.xlsx", [[f"c{i}" for i in range(8)], list(range(8))])
    with pytest.raises(TableError) as caught:
        inspect_xlsx(path, Limits.default(max_csv_columns=5))
    assert caught.value.code == "csv_too_many_columns"
    assert caught.value.message == "The first sheet has 8 columns; the limit is 5."


def test_too_many_cells_are_refused_as_rows(tmp_path: Path) -> None:
    path = workbook(tmp_path / "cells.xlsx", [list("abcde")] + [list(range(5))] * 20)
    with pytest.raises(TableError) as caught:
        inspect_xlsx(path, Limits.default(max_csv_cells=50))
    assert caught.value.code == "csv_too_many_rows"
    assert "cells" in caught.value.message


def test_a_sheet_claiming_huge_dimensions_is_read_for_what_it_holds(tmp_path: Path) -> None:
    path = workbook(tmp_path / "small.xlsx", [["a", "b"], [1, 2]])
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read(SHEET)
    assert b'<dimension ref="A1:B2" />' in sheet
    claimed = sheet.replace(b'<dimension ref="A1:B2" />', b'<dimension ref="A1:XFD1048576" />')
    liar = rewritten(path, tmp_path / "liar.xlsx", replace={SHEET: claimed})
    metadata = inspect_xlsx(liar, LIMITS).metadata
    assert (metadata["rows"], metadata["columns"]) == (1, 2)


def test_a_macro_project_is_refused_whatever_the_file_is_called(tmp_path: Path) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    macro = rewritten(path, tmp_path / "looks-plain.xlsx", add={"xl/vbaProject.bin": b"\xd0\xcf"})
    with pytest.raises(TypeNotAllowed, match=r"macro-enabled workbooks \(\.xlsm\)"):
        inspect_xlsx(macro, LIMITS)


def test_a_macro_enabled_content_type_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    with zipfile.ZipFile(path) as zf:
        types = zf.read("[Content_Types].xml")
    plain = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert plain in types
    macro = types.replace(plain, b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    xlsm = rewritten(path, tmp_path / "book.xlsx", replace={"[Content_Types].xml": macro})
    with pytest.raises(TypeNotAllowed) as caught:
        inspect_xlsx(xlsm, LIMITS)
    assert caught.value.code == "type_not_allowed"


def test_a_binary_workbook_is_refused(tmp_path: Path) -> None:
    xlsb = tmp_path / "book.xlsx"
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(TypeNotAllowed):
        inspect_xlsx(xlsb, LIMITS)


def test_a_sheet_that_is_a_compression_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != SHEET:
                new.writestr(info.filename, old.read(info))
                continue
            head, tail = old.read(info).split(b"<sheetData>", 1)
            with new.open(SHEET, "w") as sheet:
                sheet.write(head + b"<sheetData>")
                for _ in range(50):
                    sheet.write(b" " * (1 << 20))
                sheet.write(tail)
    with pytest.raises(ArchiveError) as caught:
        inspect_xlsx(bomb, LIMITS)
    assert caught.value.code == "zip_bomb"


def test_entity_expansion_in_a_sheet_is_refused_not_expanded(tmp_path: Path) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    hostile = rewritten(path, tmp_path / "laughs.xlsx", replace={SHEET: laughs})
    with pytest.raises(TableError) as caught:
        inspect_xlsx(hostile, LIMITS)
    assert caught.value.code == "table_invalid"
    causes = []
    cause: BaseException | None = caught.value
    while cause is not None:
        causes.append(type(cause))
        cause = cause.__cause__ or cause.__context__
    assert EntitiesForbidden in causes


def test_workbooks_are_refused_when_defusedxml_is_not_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(TableError, match="defusedxml"):
        inspect_xlsx(path, LIMITS)


def test_a_zip_that_is_not_a_workbook_is_refused_as_an_invalid_table(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(TableError) as caught:
        inspect_xlsx(path, LIMITS)
    assert caught.value.code == "table_invalid"


def test_a_damaged_workbook_part_is_refused_as_an_invalid_table(tmp_path: Path) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    broken = rewritten(path, tmp_path / "broken.xlsx", replace={"xl/workbook.xml": b"<workbook"})
    with pytest.raises(TableError) as caught:
        inspect_xlsx(broken, LIMITS)
    assert caught.value.code == "table_invalid"


@pytest.mark.parametrize(
    "head",
    [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, b"name,age\nAda,36\n"],
    ids=["legacy-or-encrypted", "csv"],
)
def test_files_that_are_not_zip_containers_are_not_workbooks(head: bytes, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(head)
    with pytest.raises(TypeNotAllowed):
        inspect_xlsx(path, LIMITS)


def test_the_zip_checks_apply_to_workbooks(tmp_path: Path) -> None:
    path = workbook(tmp_path / "plain.xlsx", PEOPLE)
    slip = rewritten(path, tmp_path / "slip.xlsx", add={"../../evil.txt": b"x"})
    with pytest.raises(ArchiveError) as caught:
        inspect_xlsx(slip, LIMITS)
    assert caught.value.code == "zip_path_traversal"
