"""inspect_delimited settles once how to read a table; read_delimited then never guesses."""

from __future__ import annotations

import codecs
import io
import json
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jupyter_dsagent.exceptions import ContentMismatch, IngestError, TableError
from jupyter_dsagent.ingest.delimited import chunks, inspect_delimited, read_delimited
from jupyter_dsagent.ingest.export import is_formula_like
from jupyter_dsagent.ingest.limits import Limits
from tests.ingest.manifest import PROPER_READS
from tests.paths import SHARED_DATA

LIMITS = Limits.default()


# What inspection must find in the messy files: encodings (latin-1 and cp1252 read the
# crimedata bytes identically), separator, decimal mark, header, extra NA tokens, line ends.
MESSY_DIALECTS = {
    "messy/spam_latin1.csv": ({"latin-1"}, ",", ".", 0, [], "\r\n"),
    "messy/crimedata_latin1_wide.csv": ({"latin-1", "cp1252"}, ",", ".", 0, ["?"], "\r\n"),
    "messy/superstore_semicolon_cp1252_decimalcomma.csv": ({"cp1252"}, ";", ",", 0, [], "\r\n"),
    "messy/AirQualityUCI_semicolon_decimalcomma.csv": ({"utf-8"}, ";", ",", 0, [], "\r\n"),
    "messy/superstore_macroman_CR_only.csv": ({"mac_roman"}, ",", ".", 0, [], "\r"),
    "messy/superstore_utf8_bom.csv": ({"utf-8-sig"}, ",", ".", 0, [], "\r\n"),
    "messy/HR_attrition_utf8_bom.csv": ({"utf-8-sig"}, ",", ".", 0, [], "\r\n"),
    "messy/airbnb_toClean_utf8_bom.csv": ({"utf-8-sig"}, ",", ".", 0, [], "\r\n"),
    "messy/hotel_bookings_subset.csv": ({"utf-8"}, ",", ".", 0, [], "\r\n"),
    "large/Skin_NonSkin.txt": ({"utf-8"}, "\t", ".", None, [], "\r\n"),
    "large/diabetic_data.csv": ({"utf-8"}, ",", ".", 0, ["?"], "\r\n"),
}


def proper_read(path: Path, **kwargs: Any) -> pd.DataFrame:
    # low_memory=False on both sides: chunked type inference gives diabetic_data a
    # mixed-type column and a DtypeWarning; read_delimited infers from whole columns.
    return pd.read_csv(path, low_memory=False, **kwargs)


def write(tmp_path: Path, data: bytes, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def inspect_and_read(path: Path, limits: Limits = LIMITS) -> tuple[dict[str, Any], pd.DataFrame]:
    metadata = inspect_delimited(path, limits).metadata
    return metadata, read_delimited(path, metadata)


def pandas_formula_cells(path: Path, metadata: dict[str, Any]) -> tuple[int, list[str]]:
    """How many cells pandas reads from ``path`` are formula-like, and all cells as text.

    Every cell as text, the header row too; raises pandas' ``ParserError`` when a row is
    one longer than the first (pandas would take an implicit index).
    """
    cells = pd.read_csv(
        path,
        sep=metadata["sep"],
        header=None,
        dtype=str,
        keep_default_na=False,
        encoding=metadata["encoding"],
    )
    texts = [cell for cell in cells.to_numpy().ravel() if isinstance(cell, str)]
    return sum(is_formula_like(text) for text in texts), texts


# -- the shared tables -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROPER_READS))
def test_every_shared_table_reads_like_its_proper_read(name: str) -> None:
    path = SHARED_DATA / name
    metadata, frame = inspect_and_read(path)
    expected = proper_read(path, **PROPER_READS[name])
    pd.testing.assert_frame_equal(frame, expected)
    assert (metadata["rows"], metadata["columns"]) == expected.shape
    assert metadata["column_names"] == [str(c) for c in expected.columns]


@pytest.mark.parametrize("name", sorted(MESSY_DIALECTS))
def test_messy_files_get_the_expected_dialect(name: str) -> None:
    encodings, sep, decimal, header, na_values, ending = MESSY_DIALECTS[name]
    metadata = inspect_delimited(SHARED_DATA / name, LIMITS).metadata
    assert metadata["encoding"] in encodings
    assert (metadata["sep"], metadata["decimal"], metadata["header"]) == (sep, decimal, header)
    assert metadata["na_values"] == na_values
    assert metadata["line_terminator"] == ending
    assert metadata["quotechar"] == '"'


def test_single_byte_files_decode_to_the_right_characters() -> None:
    _, spam = inspect_and_read(SHARED_DATA / "messy/spam_latin1.csv")
    assert spam["v2"].str.contains("£").any()
    _, crime = inspect_and_read(SHARED_DATA / "messy/crimedata_latin1_wide.csv")
    assert crime.columns[0] == "Êcommunityname"
    _, superstore = inspect_and_read(
        SHARED_DATA / "messy/superstore_semicolon_cp1252_decimalcomma.csv"
    )
    assert superstore["Product Name"].str.contains("“Important Message”").any()
    assert superstore["Sales"].dtype == float
    _, mac = inspect_and_read(SHARED_DATA / "messy/superstore_macroman_CR_only.csv")
    assert mac["Product Name"].str.contains("é").any()


def test_non_utf8_files_are_flagged_as_guessed() -> None:
    inspection = inspect_delimited(SHARED_DATA / "messy/spam_latin1.csv", LIMITS)
    codes = dict(inspection.warnings)
    assert "latin-1" in codes["encoding_guessed"]
    assert "formula_cells" in codes  # "+123 Congratulations", "-PLS STOP" ...


def test_junk_trailing_columns_are_reported() -> None:
    path = SHARED_DATA / "messy/AirQualityUCI_semicolon_decimalcomma.csv"
    assert "junk_columns" in dict(inspect_delimited(path, LIMITS).warnings)


def test_an_html_page_named_csv_is_refused() -> None:
    path = SHARED_DATA / "messy/pd_speech_features_ACTUALLY_HTML.csv"
    with pytest.raises(ContentMismatch, match="HTML"):
        inspect_delimited(path, LIMITS)


# -- limits, checked while reading -------------------------------------------------------


def test_too_many_rows_stops_the_pass_early(tmp_path: Path) -> None:
    """A NUL byte far past the limit proves the pass stopped before reaching it."""
    limits = Limits.default(max_csv_rows=1000)
    rows = b"".join(b"%d,%d\n" % (i, i * 7) for i in range(200_000))  # ~2.5 MB
    path = write(tmp_path, b"a,b\n" + rows * 4 + b"\x00tail\n")
    with pytest.raises(TableError, match="more than 1,000 rows") as caught:
        inspect_delimited(path, limits)
    assert caught.value.code == "csv_too_many_rows"


def test_exactly_the_row_limit_passes(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n" + b"1,2\n" * 1000)
    assert inspect_delimited(path, Limits.default(max_csv_rows=1000)).metadata["rows"] == 1000


def test_too_many_columns_is_refused_before_the_pass(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(11)).encode()
    path = write(tmp_path, header + b"\n" + b",".join([b"1"] * 11) + b"\n")
    with pytest.raises(TableError, match="11 columns; the limit is 10") as caught:
        inspect_delimited(path, Limits.default(max_csv_columns=10))
    assert caught.value.code == "csv_too_many_columns"


def test_too_many_cells_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b,c,d\n" + b"1,2,3,4\n" * 300)
    with pytest.raises(TableError, match="cells") as caught:
        inspect_delimited(path, Limits.default(max_csv_cells=1000))
    assert caught.value.code == "csv_too_many_rows"


@pytest.mark.parametrize("quoted", [True, False])
def test_a_field_over_the_byte_limit_is_refused(tmp_path: Path, quoted: bool) -> None:
    field = b"x" * 2_000_000
    if quoted:
        field = b'"' + field[:1_000_000] + b"\n" + field[1_000_000:] + b'"'
    path = write(tmp_path, b"a,b\n1," + field + b"\n2,3\n")
    with pytest.raises(TableError, match="longer than 1,000,000 bytes") as caught:
        inspect_delimited(path, LIMITS)
    assert caught.value.code == "csv_invalid"


# -- refused content ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"a,b\n1,\x002\n", b"a,b\n" + b"1,2\n" * 400_000 + b"3,\x00\n"],
    ids=["in-the-head", "past-the-head"],
)
def test_nul_bytes_mean_binary(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ContentMismatch, match="NUL"):
        inspect_delimited(write(tmp_path, data), LIMITS)


def test_control_characters_mean_binary(tmp_path: Path) -> None:
    with pytest.raises(ContentMismatch, match="control characters"):
        inspect_delimited(write(tmp_path, b"a,b\n\x01\x02\x03,\x04\x05\n"), LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + b"a,b\n1,\xff\xfe\n",
        codecs.BOM_UTF8 + b"a,b\n" + b"1,2\n" * 300_000 + b"\xc3(\n",
        codecs.BOM_UTF16_LE + "a,b\n1,2\n".encode("utf-16-le") + b"\x00",
        codecs.BOM_UTF16_LE + "a,b\n1,".encode("utf-16-le") + b"\x00\xdc" + b"\n\x00",
    ],
    ids=["utf8-bom", "utf8-bom-late", "utf16-odd-length", "utf16-lone-surrogate"],
)
def test_bytes_that_contradict_the_bom_are_undecodable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(TableError) as caught:
        inspect_delimited(write(tmp_path, data), LIMITS)
    assert caught.value.code == "csv_undecodable"


def test_bytes_no_single_byte_codec_reads_as_text_are_undecodable(tmp_path: Path) -> None:
    garbage = bytes(range(0x80, 0x100))
    path = write(tmp_path, b"a,b\n" + b"".join(b"%d,%s\n" % (i, garbage) for i in range(50)))
    with pytest.raises(TableError) as caught:
        inspect_delimited(path, LIMITS)
    assert caught.value.code == "csv_undecodable"


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\r\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n"])
def test_empty_files_are_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(TableError, match="empty") as caught:
        inspect_delimited(write(tmp_path, data), LIMITS)
    assert caught.value.code == "csv_invalid"


def test_a_quote_that_never_closes_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b'a,b\n1,"open\n2,3\n')
    with pytest.raises(TableError, match="never closes"):
        inspect_delimited(path, LIMITS)


def test_rows_longer_than_the_header_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,2\n1,2,3,4\n")
    with pytest.raises(TableError, match="3 has 4 fields") as caught:
        inspect_delimited(path, LIMITS)
    assert caught.value.code == "csv_invalid"


# -- dialects and exact counting ---------------------------------------------------------


def assert_reads_like(path: Path, **proper: Any) -> dict[str, Any]:
    metadata, frame = inspect_and_read(path)
    expected = proper_read(path, **proper)
    pd.testing.assert_frame_equal(frame, expected)
    assert metadata["rows"] == len(expected)
    return metadata


def test_quoted_line_breaks_stay_inside_one_record(tmp_path: Path) -> None:
    data = b'id,text\n1,"two\nlines"\n2,"with ""quotes"", and\r\nCRLF"\n3,plain\n'
    metadata = assert_reads_like(write(tmp_path, data))
    assert metadata["rows"] == 3


def test_cr_only_line_ends(tmp_path: Path) -> None:
    metadata = assert_reads_like(write(tmp_path, b'a,b\r1,"x\ry"\r2,z\r'))
    assert (metadata["line_terminator"], metadata["rows"]) == ("\r", 2)


def test_crlf_line_ends(tmp_path: Path) -> None:
    metadata = assert_reads_like(write(tmp_path, b"a,b\r\n1,x\r\n2,y\r\n"))
    assert (metadata["line_terminator"], metadata["rows"]) == ("\r\n", 2)


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_wide_unicode_with_a_bom(tmp_path: Path, codec: str) -> None:
    text = "name;value\r\nZoë;1,5\r\nJosé;-2,25\r\n"
    metadata = assert_reads_like(
        write(tmp_path, text.encode(codec)), encoding=codec, sep=";", decimal=","
    )
    assert (metadata["encoding"], metadata["sep"], metadata["decimal"]) == (codec, ";", ",")


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    data = b"city;price;qty\nLyon;1.234,50;3\nNice;12,5;-4\nPau;0,75;1\n"
    metadata = assert_reads_like(write(tmp_path, data), sep=";", decimal=",")
    assert (metadata["sep"], metadata["decimal"]) == (";", ",")


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_each_separator_is_found(tmp_path: Path, sep: str) -> None:
    rows = [["name", "n", "note"], ["a b", "1", "x;y|z,w"], ["c", "2", "q"], ["d", "3", "r"]]
    body = "\n".join(sep.join(f'"{cell}"' if sep in cell else cell for cell in r) for r in rows)
    metadata = assert_reads_like(write(tmp_path, body.encode() + b"\n"), sep=sep)
    assert metadata["sep"] == sep


def test_a_single_column_file(tmp_path: Path) -> None:
    metadata = assert_reads_like(write(tmp_path, b"word\nalpha\nbeta\n"))
    assert (metadata["sep"], metadata["columns"]) == (",", 1)


def test_a_table_without_header(tmp_path: Path) -> None:
    metadata = assert_reads_like(
        write(tmp_path, b"1\t2.5\tx\n3\t4.5\ty\n5\t6\tz\n"), sep="\t", header=None
    )
    assert metadata["header"] is None
    assert metadata["column_names"] == ["0", "1", "2"]


def test_blank_and_whitespace_lines_are_skipped_like_pandas(tmp_path: Path) -> None:
    data = b"\n  \na,b\n1,2\n\n \t \n3,4\n,\n   \n5,6\n  "
    assert assert_reads_like(write(tmp_path, data))["rows"] == 4


def test_a_stray_quote_inside_an_unquoted_field(tmp_path: Path) -> None:
    data = b'name,height\nAnn,5\'10"\nBob,"6\'1"""\nCid,ab"c"d\n"Dee",7\n'
    assert assert_reads_like(write(tmp_path, data))["rows"] == 4


def test_an_indented_line_after_a_lone_cr_is_refused(tmp_path: Path) -> None:
    """pandas may step back over CR line ends and re-read a line: refuse, never mislead."""
    path = write(tmp_path, b"name\r  indented\ry\r")
    assert pd.read_csv(path)["name"].tolist() == ["name", "  indented", "y"]  # header twice
    with pytest.raises(TableError, match="Record 2 starts with a space or tab") as caught:
        inspect_delimited(path, LIMITS)
    assert caught.value.code == "csv_invalid"
    assert inspect_and_read(write(tmp_path, b"name\n  indented\ny\n"))[0]["rows"] == 2


@pytest.mark.parametrize("size", [64, 1 << 20])
@pytest.mark.parametrize(
    "lines",
    [
        [b"\tname\tvalue", b"\tx\t1", b"\ty\t2", b"", b" \t", b"\t\tz", b"\tw\t3"],  # TSV
        [b"a,b", b"\tx,1", b",=y", b"\t=z,2", b"", b"\t ,3", b" ,4", b"\t", b"\tq,5"],
        [b"a;b", b";1", b";-x", b"; ", b";", b";\t", b"=c;2"],
    ],
    ids=["empty-first-tsv-column", "tab-led-csv", "empty-first-column"],
)
@pytest.mark.parametrize("end", [b"\n", b"\r\n"])
def test_records_led_by_a_separator_or_tab_match_pandas(
    tmp_path: Path, lines: list[bytes], size: int, end: bytes
) -> None:
    """Thousands of such records (e.g. an empty first column), mixed with blank ones."""
    body = end.join(lines[1:] * 300)
    path = write(tmp_path, lines[0] + end + body + end)
    with step_size(size):
        metadata, frame = inspect_and_read(path)
    assert metadata["rows"] == len(frame) == len(pd.read_csv(path, sep=metadata["sep"]))
    assert metadata["formula_cells"] == pandas_formula_cells(path, metadata)[0]


@pytest.mark.parametrize("size", [64, 1 << 20])
def test_a_tab_led_line_after_a_lone_cr_is_refused_by_its_number(tmp_path: Path, size: int) -> None:
    lines = [b"a,b"] + [b"\tx,1"] * 50 + [b"c,d"]
    path = write(tmp_path, b"\n".join(lines) + b"\r\tx,2\n\ty,3\r \tz,4\n")
    with step_size(size), pytest.raises(TableError, match="Record 53 starts with"):
        inspect_delimited(path, LIMITS)


def test_missing_value_tokens(tmp_path: Path) -> None:
    data = b"a,b,c\n1,x,-\n?,y,2\n3,-,--\n4,z,5\n"
    metadata = assert_reads_like(write(tmp_path, data), na_values=["?", "-", "--"])
    # "-" counts as missing: it appears in the numeric column c, so it is NA everywhere.
    assert metadata["na_values"] == ["?", "-", "--"]
    assert (
        inspect_delimited(write(tmp_path, b"a,b\nx,-\ny,z\n"), LIMITS).metadata["na_values"] == []
    )


def test_formula_cells_are_counted_but_numbers_are_not(tmp_path: Path) -> None:
    data = (
        b"a,b,c\n"
        b"=SUM(A1),-5,+3.2\n"  # 1: =SUM
        b"@cmd,-x,1e-5\n"  # 2: @cmd, -x
        b'"=1+2","-7","-2+3+cmd|\' /C calc\'!A0"\n'  # 2: =1+2, -2+3+cmd
        b"\tpadded,-1.5e+10,plain-text\n"  # 1: tab
        b'"",""-y,"a""=b"\n'  # 1: ""-y reads as -y
    )
    metadata = inspect_delimited(write(tmp_path, data), LIMITS).metadata
    assert metadata["formula_cells"] == 7
    assert metadata["formula_cells_sampled"] is False


# After skipping a blank line that ends in a lone CR, pandas drops a separator that comes
# next; a tab right after it then opens a line of blanks, skipped too: no cell "\t".
# (Written with ","; each runs with the separators listed.)
DROPPED_SEPARATOR_CASES = [
    ("a\n\r,\t", ",;"),  # found by hypothesis
    ("a\n\r,\t\n", ",;"),
    ("\r,=x", ",;\t"),  # the next cell is still counted, as pandas' first cell
    ("\r\r,-x", ",;\t"),
    ("a,b\n\r,=x,y\n", ",;\t"),
    ("a,b\n\r,\t", ",;"),
    ("a,b\n\r,\t \t\r\n", ",;"),
    ("a,b\n\r,\t\r,\t\n", ",;"),  # twice in a row
    ("a,b\n \t\r,\t\n", ",;"),  # the skipped line holds blanks
    ("a,b\n\r,\t\n=c,d\n", ",;"),
    ("a,b\r,\t\n", ",;"),  # the line before is kept: the separator stays, "\t" is a cell
    ("a,b\n\t,x\n", ",;"),  # a tab opening a line that is not blank starts a cell
]
# With 64-byte steps, 58 to 64 leading blank lines put each byte of a case on a boundary.
SHIFTS = {64: [0, *range(58, 65)], 1 << 20: [0]}


@pytest.mark.parametrize(
    ("case", "sep"),
    [(case, sep) for case, seps in DROPPED_SEPARATOR_CASES for sep in seps],
    ids=lambda value: repr(value)[1:-1],
)
@pytest.mark.parametrize("size", sorted(SHIFTS))
def test_formula_cells_after_a_dropped_separator_match_pandas(
    tmp_path: Path, case: str, sep: str, size: int
) -> None:
    for shift in SHIFTS[size]:
        data = ("\n" * shift + case.replace(",", sep)).encode()
        path = write(tmp_path, data)
        with step_size(size):
            metadata, frame = inspect_and_read(path)
        assert (metadata["sep"], metadata["rows"]) == (sep, len(frame)), shift
        expected, texts = pandas_formula_cells(path, metadata)
        assert metadata["formula_cells"] == expected, (shift, texts)


@pytest.mark.parametrize("blanks", [1, 62, 200])
@pytest.mark.parametrize("shift", [0, 60])
@pytest.mark.parametrize("size", [64, 1 << 20])
def test_a_tab_opening_a_long_blank_line_is_no_cell(
    tmp_path: Path, blanks: int, shift: int, size: int
) -> None:
    """Whether pandas skips the line is known only at its end, maybe several steps on."""
    data = b"a,b\n" + b"\n" * shift + b"\t" + b" \t" * blanks + b"\n=x,1\n"
    path = write(tmp_path, data)
    with step_size(size):
        metadata, frame = inspect_and_read(path)
    assert (metadata["rows"], metadata["formula_cells"]) == (len(frame), 1)
    assert pandas_formula_cells(path, metadata)[0] == 1


def test_max_rows_limits_the_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n" + b"1,2\n" * 50)
    metadata = inspect_delimited(path, LIMITS).metadata
    assert len(read_delimited(path, metadata, max_rows=7)) == 7


@pytest.mark.parametrize(
    "change",
    [
        {"sep": "x"},
        {"encoding": "rot13"},
        {"encoding": "shift_jis"},
        {"decimal": ","},  # same as sep
        {"header": 3},
        {"quotechar": "'"},
        {"na_values": "?"},
    ],
)
def test_tampered_metadata_is_refused(tmp_path: Path, change: dict[str, Any]) -> None:
    path = write(tmp_path, b"a,b\n1,2\n")
    metadata = {**inspect_delimited(path, LIMITS).metadata, **change}
    with pytest.raises(TableError, match="stored reading options"):
        read_delimited(path, metadata)


def test_metadata_is_exactly_the_documented_keys_and_plain_json(tmp_path: Path) -> None:
    metadata = inspect_delimited(write(tmp_path, b"a,b\n1,2\n"), LIMITS).metadata
    assert set(metadata) == {
        "encoding", "sep", "decimal", "header", "na_values", "quotechar", "line_terminator",
        "rows", "columns", "column_names", "formula_cells", "formula_cells_sampled",
    }  # fmt: skip
    assert json.loads(json.dumps(metadata)) == metadata  # it goes into the upload record


def test_formula_cells_past_the_sample_are_reported_as_sampled(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n" + b"=x,1\n" * 600_000)  # 3 MB: several 1 MiB steps
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "FORMULA_SAMPLE", 100_000)  # counted in whole steps
        inspection = inspect_delimited(path, LIMITS)
    metadata = inspection.metadata
    assert metadata["formula_cells_sampled"] is True
    assert 0 < metadata["formula_cells"] < 600_000
    assert "in the first" in dict(inspection.warnings)["formula_cells"]


def test_memory_stays_flat_on_a_large_file(tmp_path: Path) -> None:
    """The pass holds a few MiB whatever the file size; it never loads the file."""
    row = b'123456,2024-03-01,"text, with a comma",-12.5,Z\xc3\xbcrich\n'
    path = write(tmp_path, b"id,date,note,value,city\n" + row * 800_000)  # 42 MB
    tracemalloc.start()
    try:
        inspection = inspect_delimited(path, LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert inspection.metadata["rows"] == 800_000
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MiB"


# -- properties --------------------------------------------------------------------------


@contextmanager
def scratch_file(data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        path.write_bytes(data)
        yield path


@contextmanager
def step_size(size: int) -> Iterator[None]:
    """Tiny steps put quotes, CRLF pairs and numbers across step boundaries."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "_CHUNK", size)
        yield


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.tuples(
            st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE]), st.binary(max_size=300)
        ).map(lambda parts: parts[0] + parts[1]),
    )
)
def test_random_bytes_give_an_inspection_or_an_ingest_error(data: bytes) -> None:
    with scratch_file(data) as path:
        try:
            metadata = inspect_delimited(path, LIMITS).metadata
        except IngestError:
            return
        with suppress(IngestError):  # a ragged row pandas refuses is still a clean refusal
            read_delimited(path, metadata)


UTF8_PIECES = [b"a,b\n", b"x", b",", b"\n", "é".encode(), "€".encode(), "😀".encode(), b"\xc3",
               b"\xa9", b"\xe2\x82", b"\xf0\x9f", b"\x80", b"\xff", b"\xed\xa0\x80"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(UTF8_PIECES), min_size=1, max_size=80), st.sampled_from([64, 100]))
def test_utf8_is_chosen_exactly_when_the_whole_file_is_utf8(pieces: list[bytes], size: int) -> None:
    data = b"col1,col2\n" + b"".join(pieces)
    with scratch_file(data) as path, step_size(size):
        try:
            encoding = inspect_delimited(path, LIMITS).metadata["encoding"]
        except IngestError:
            return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert encoding != "utf-8"
    else:
        assert encoding == "utf-8"


PIECES = ["a", "b1", "-", "+", "=", "@", "7", "-3.5", "1e5", ",", ",", ";", '"', '"', '""', "\n",
          "\r\n", "\r", " ", "\t", "é", ".", "x y"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=120), st.sampled_from([64, 100, 1 << 20])
)
def test_counts_match_pandas_at_any_step_size(pieces: list[str], size: int) -> None:
    data = "".join(pieces).encode()
    with scratch_file(data) as path, step_size(size):
        try:
            metadata = inspect_delimited(path, LIMITS).metadata
            frame = read_delimited(path, metadata)
        except IngestError:
            return
        assert metadata["rows"] == len(frame)
        try:
            expected, texts = pandas_formula_cells(path, metadata)
        except pd.errors.ParserError:  # rows one longer than the header: an implicit index
            return
        assume(all(len(text) < 40 for text in texts))
        assert metadata["formula_cells"] == expected


WORDS = [
    "alpha", "Beta", "café", "Zürich", "straße", "niño", "€5", "“quoted”", "a\u2013b",
    "x, y", 'say "hi"', "semi;colon", "pipe|bar", "tab\there", "two\nlines", "cr\rinside",
    " padded ",
]  # fmt: skip
NOT_TEXT = {"nan", "null", "none", "na", "n/a", "missing", "true", "false"}


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.sampled_from(["text", "int", "float"]), min_size=2, max_size=5))
    columns: dict[str, list[Any]] = {}
    for number, kind in enumerate(kinds):
        if kind == "int":
            values: list[Any] = draw(
                st.lists(st.integers(-(10**6), 10**6), min_size=rows, max_size=rows)
            )
        elif kind == "float":
            values = [
                round(x, 3)
                for x in draw(st.lists(st.floats(-1e5, 1e5), min_size=rows, max_size=rows))
            ]
        else:
            texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
            values = draw(
                st.lists(
                    texts.filter(lambda t: t.strip().lower() not in NOT_TEXT),
                    min_size=rows,
                    max_size=rows,
                )
            )
        columns[f"col{number}"] = values
    return pd.DataFrame(columns)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames(),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
def test_written_frames_round_trip(
    frame: pd.DataFrame, sep: str, encoding: str, ending: str, decimal_comma: bool
) -> None:
    # CR-only line ends are taken as evidence of Mac Roman (classic Mac OS), so cp1252 text
    # is written with the line ends Windows uses.
    assume(not (encoding == "cp1252" and ending == "\r"))
    # pandas' writer quotes only the characters of its own line terminator; a lone CR or
    # LF left unquoted really does end a record, so such text only round-trips with CRLF.
    texts = [v for name in frame.columns if frame[name].dtype == object for v in frame[name]]
    assume(ending == "\r\n" or not any("\n" in t or "\r" in t for t in texts))
    decimal = "," if decimal_comma and sep != "," else "."
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=sep, index=False, lineterminator=ending, decimal=decimal)
    text = buffer.getvalue()
    # A line starting with a blank after a lone CR is refused (see the test above).
    assume(not (ending == "\r" and any(line[:1] in (" ", "\t") for line in text.split("\r"))))
    with scratch_file(text.encode(encoding)) as path:
        metadata, got = inspect_and_read(path)
    assert (metadata["sep"], metadata["rows"], metadata["columns"]) == (sep, *frame.shape)
    assert list(got.columns) == list(frame.columns)
    for name in frame.columns:
        if frame[name].dtype == object:
            assert got[name].tolist() == frame[name].tolist()
        else:
            assert got[name].astype(float).tolist() == frame[name].astype(float).tolist()


def test_line_breaks_inside_quotes_do_not_decide_the_line_end_or_encoding(tmp_path: Path) -> None:
    """A CRLF cp1252 file whose quoted cells hold CRs is not a classic-Mac (CR) file."""
    # More CRs inside the quotes than CRLFs between the records.
    rows = ["city,note", 'Zürich,"a\rb\rc\rd\re"', 'Köln,"f\rg\rh\ri\rj"', "Genève,plain"]
    path = tmp_path / "cells.csv"
    path.write_bytes("\r\n".join(rows).encode("cp1252") + b"\r\n")
    metadata = inspect_delimited(path, LIMITS).metadata
    assert metadata["line_terminator"] == "\r\n"
    assert metadata["encoding"] in ("cp1252", "latin-1")
    frame = read_delimited(path, metadata)
    assert list(frame["city"]) == ["Zürich", "Köln", "Genève"]
