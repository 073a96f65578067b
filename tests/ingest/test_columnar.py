"""Parquet and JSON uploads: limits from the footer or the stream, bombs and damage
refused with our own errors only, and what inspection reports is what a read returns."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_dsagent.exceptions import ContentMismatch, IngestError, TableError
from jupyter_dsagent.ingest.columnar import (
    inspect_json,
    inspect_parquet,
    read_json,
    read_parquet,
)
from jupyter_dsagent.ingest.export import sanitize_for_export
from jupyter_dsagent.ingest.inspection import Inspection
from jupyter_dsagent.ingest.limits import Limits

LIMITS = Limits.default()
FORMULAS = ["=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "-", "=5", "+", "-1-1", "--5"]
NOT_FORMULAS = ["-5", "+1.5e3", "-.5", "5", "a=1", "", " =1", "x-", "-5.", "+0"]
# Numbers written with grouping or decimal commas (or several dots) are plain numbers to
# export.py, which leaves them as they are; Parquet and JSON used a rule of their own that
# counted them as formula cells, so the warning did not match what an export escapes.
LOCALE_NUMBERS = ["-1,000", "+1.234,5", "-1,5", "-1.000.000", "+12,345.67"]
FORMULA_MESSAGE = (
    "cells start with =, +, -, @, tab or carriage return and could run as formulas "
    "if exported to a spreadsheet."
)

Inspector = Callable[[Path, Limits], Inspection]
Reader = Callable[..., pd.DataFrame]


def escaped_by_export(cells: list[str | None]) -> int:
    """How many cells sanitize_for_export prefixes with ``'``: the formula cells to expect.

    The count must be what an export will change, so the oracle is the export itself.
    """
    escaped = sanitize_for_export(pd.DataFrame({"text": pd.Series(cells, dtype=object)}))
    return sum(after != before for after, before in zip(escaped.iloc[:, 0], cells, strict=True))


def sample_frame(rows: int = 1_000) -> pd.DataFrame:
    cells = FORMULAS + NOT_FORMULAS
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "score": np.random.default_rng(0).random(rows),
            "flag": np.arange(rows) % 3 == 0,
            "text": [cells[i % len(cells)] for i in range(rows)],
            "when": pd.date_range("2024-01-01", periods=rows, freq="h"),
        }
    )


def write_parquet(path: Path, frame: pd.DataFrame, **options: Any) -> Path:
    frame.to_parquet(path, engine="pyarrow", **options)
    return path


def refused(inspect: Inspector, path: Path, limits: Limits = LIMITS) -> IngestError:
    with pytest.raises(IngestError) as caught:
        inspect(path, limits)
    return caught.value


def inspect_then_read(path: Path, inspect: Inspector, read: Reader) -> None:
    """Whatever the bytes: our refusal, or a read that returns what inspection reported."""
    try:
        inspection = inspect(path, LIMITS)
    except IngestError:
        return
    frame = read(path, inspection.metadata)
    assert frame.shape == (inspection.metadata["rows"], inspection.metadata["columns"])
    assert [str(c) for c in frame.columns] == inspection.metadata["column_names"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for property tests, whose examples each overwrite the same file."""
    return tmp_path_factory.mktemp("columnar")


# --- Parquet: what is reported and read ---------------------------------------------


@pytest.mark.parametrize("codec", ["snappy", "zstd", "gzip"])
def test_parquet_metadata_and_frame_match_the_source(tmp_path: Path, codec: str) -> None:
    frame = sample_frame()
    path = write_parquet(tmp_path / "t.parquet", frame, compression=codec, row_group_size=300)
    formulas = escaped_by_export(frame["text"].tolist())

    inspection = inspect_parquet(path, LIMITS)

    assert inspection.metadata == {
        "rows": 1_000,
        "columns": 5,
        "column_names": ["id", "score", "flag", "text", "when"],
        "formula_cells": formulas,
        "row_groups": 4,
        "compression": [codec.upper()],
    }
    assert inspection.warnings == (("formula_cells", f"{formulas} {FORMULA_MESSAGE}"),)
    read = read_parquet(path, inspection.metadata)
    pd.testing.assert_frame_equal(read, frame)
    pd.testing.assert_frame_equal(read, pd.read_parquet(path, engine="pyarrow"))


def test_read_parquet_stops_after_max_rows(tmp_path: Path) -> None:
    frame = sample_frame()
    path = write_parquet(tmp_path / "t.parquet", frame, row_group_size=100)
    metadata = inspect_parquet(path, LIMITS).metadata

    pd.testing.assert_frame_equal(read_parquet(path, metadata, max_rows=250), frame.head(250))
    assert read_parquet(path, metadata, max_rows=0).shape == (0, 5)
    pd.testing.assert_frame_equal(read_parquet(path, metadata, max_rows=5_000), frame)


def test_parquet_index_from_pandas_metadata_is_not_a_column(tmp_path: Path) -> None:
    frame = sample_frame(50).set_index("id")
    path = write_parquet(tmp_path / "t.parquet", frame)

    inspection = inspect_parquet(path, LIMITS)

    assert inspection.metadata["column_names"] == ["score", "flag", "text", "when"]
    pd.testing.assert_frame_equal(read_parquet(path, inspection.metadata), frame)


def test_parquet_nested_columns_are_kept_and_warned_about(tmp_path: Path) -> None:
    table = pa.table({"tags": [[1, 2], [3]], "point": [{"x": 1}, {"x": 2}], "n": [1, 2]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)

    inspection = inspect_parquet(path, LIMITS)

    assert dict(inspection.warnings)["nested_values"].startswith("2 columns hold nested")
    assert read_parquet(path, inspection.metadata)["point"].tolist() == [{"x": 1}, {"x": 2}]


def test_parquet_text_formulas_are_counted_in_plain_and_view_columns(tmp_path: Path) -> None:
    """Dictionary-encoded columns and string views take different paths to the count."""
    cells = FORMULAS + NOT_FORMULAS + LOCALE_NUMBERS + [None]
    table = pa.table(
        {
            "dictionary": pa.array(cells * 3),
            "view": pa.array(cells * 3, type=pa.string_view()),
            "categorical": pa.array(cells * 3).dictionary_encode(),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)

    assert inspect_parquet(path, LIMITS).metadata["formula_cells"] == 9 * len(FORMULAS)


def test_read_parquet_refuses_a_file_that_changed_since_inspection(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "t.parquet", sample_frame(100))
    metadata = inspect_parquet(path, LIMITS).metadata
    write_parquet(path, sample_frame(120))

    with pytest.raises(TableError, match="no longer matches") as caught:
        read_parquet(path, metadata)
    assert caught.value.code == "table_invalid"


# --- Parquet: limits, bombs and damage ------------------------------------------------


def wipe_data_pages(path: Path) -> None:
    """Destroy every data page but keep the footer, so only metadata can be read."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    data[4 : len(data) - 8 - footer] = b"\xff" * (len(data) - 12 - footer)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"max_csv_rows": 999}, "csv_too_many_rows", "1,000 rows; the limit is 999"),
        ({"max_csv_columns": 4}, "csv_too_many_columns", "5 columns; the limit is 4"),
        ({"max_csv_cells": 4_999}, "csv_too_many_rows", "5,000 cells"),
    ],
)
def test_parquet_over_limits_is_refused_from_the_footer_alone(
    tmp_path: Path, changes: dict[str, int], code: str, words: str
) -> None:
    path = write_parquet(tmp_path / "t.parquet", sample_frame())
    wipe_data_pages(path)

    error = refused(inspect_parquet, path, Limits.default(**changes))

    assert (error.code, type(error)) == (code, TableError)
    assert words in error.message
    assert refused(inspect_parquet, path).code == "table_invalid"  # the pages really are gone


def test_parquet_compression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "zeros.parquet"
    zeros = pa.table({"z": np.zeros(600_000, dtype="int64")})
    pq.write_table(zeros, path, use_dictionary=False, compression="zstd")
    assert path.stat().st_size < 10_000

    error = refused(inspect_parquet, path)

    assert error.code == "table_invalid"
    assert re.search(
        r"would expand [\d,]+ times, to 4,8\d\d,\d+ bytes; the limit is 100 times", str(error)
    )


def test_parquet_row_group_over_the_expansion_limit_is_refused(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "t.parquet", sample_frame())

    error = refused(inspect_parquet, path, Limits.default(max_zip_uncompressed_bytes=10_000))

    assert error.code == "table_invalid"
    assert re.search(r"Row group 1 of the Parquet file would expand to [\d,]+ bytes", str(error))


def test_parquet_dictionary_bomb_is_counted_as_decoded_bytes(tmp_path: Path) -> None:
    """One random 10 kB value repeated 20,000 times: tiny on disk and in the footer's
    sizes, 200 MB once decoded; it is refused without materialising it."""
    path = tmp_path / "repeat.parquet"
    value = random.Random(0).randbytes(5_000).hex()
    pq.write_table(pa.table({"x": pa.array([value] * 20_000)}), path)
    assert path.stat().st_size < 50_000

    error = refused(inspect_parquet, path, Limits.default(max_zip_uncompressed_bytes=10_000_000))

    assert error.code == "table_invalid"
    assert "decodes to at least" in str(error)


def damaged(original: bytes, how: str) -> bytes:
    rng = random.Random(how)
    footer = int.from_bytes(original[-8:-4], "little")
    if how == "truncated":
        return original[: len(original) // 2]
    if how == "footer scrambled":
        start = len(original) - 8 - footer
        return original[:start] + rng.randbytes(footer) + original[-8:]
    if how == "random between magics":
        return b"PAR1" + rng.randbytes(2_000) + (500).to_bytes(4, "little") + b"PAR1"
    if how == "huge footer length":
        return original[:-8] + (2**31).to_bytes(4, "little") + b"PAR1"
    if how == "encrypted footer magic":
        return original[:-4] + b"PARE"
    assert how == "only magics"
    return b"PAR1" + (0).to_bytes(4, "little") + b"PAR1"


@pytest.mark.parametrize(
    "how",
    [
        "truncated",
        "footer scrambled",
        "random between magics",
        "huge footer length",
        "encrypted footer magic",
        "only magics",
    ],
)
def test_damaged_parquet_is_table_invalid(tmp_path: Path, how: str) -> None:
    good = write_parquet(tmp_path / "good.parquet", sample_frame()).read_bytes()
    path = tmp_path / "bad.parquet"
    path.write_bytes(damaged(good, how))

    error = refused(inspect_parquet, path)

    assert (type(error), error.code) == (TableError, "table_invalid")
    with pytest.raises(TableError):
        read_parquet(path, {"rows": 1_000, "column_names": []})


@pytest.mark.parametrize("content", [b"id,name\n1,x\n2,y\n", b"", b"PAR"])
def test_file_that_is_not_parquet_is_a_content_mismatch(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "table.parquet"
    path.write_bytes(content)

    assert type(refused(inspect_parquet, path)) is ContentMismatch


# --- JSON: what is reported and read ---------------------------------------------------

RECORDS = [{"a": 1, "b": "x"}, {"a": 2, "c": True}]
EXPECTED = pd.DataFrame(RECORDS)


@pytest.mark.parametrize(
    ("text", "orient", "encoding"),
    [
        (json.dumps(RECORDS, indent=2), "records", "utf-8"),
        ("\n".join(json.dumps(r) for r in RECORDS) + "\n\n", "lines", "utf-8"),
        ("\r\n".join(json.dumps(r) for r in RECORDS), "lines", "utf-8"),
        ("\ufeff" + json.dumps(RECORDS), "records", "utf-8-sig"),
        ("\ufeff" + "\n".join(json.dumps(r) for r in RECORDS), "lines", "utf-8-sig"),
    ],
)
def test_json_records_and_lines(tmp_path: Path, text: str, orient: str, encoding: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8", newline="")

    inspection = inspect_json(path, LIMITS)

    assert inspection.metadata == {
        "rows": 2,
        "columns": 3,
        "column_names": ["a", "b", "c"],
        "formula_cells": 0,
        "lines": orient == "lines",
        "encoding": encoding,
        "orient": orient,
    }
    assert inspection.warnings == ()
    pd.testing.assert_frame_equal(read_json(path, inspection.metadata), EXPECTED)


@pytest.mark.parametrize(
    ("text", "orient", "expected"),
    [
        ('{"a": [1, 2], "b": ["x", null]}', "list-columns", {"a": [1, 2], "b": ["x", None]}),
        ('{"a": 1, "b": "x"}', "records", {"a": [1], "b": ["x"]}),
        ("[]", "records", {}),
    ],
)
def test_json_single_objects_and_empty_array(
    tmp_path: Path, text: str, orient: str, expected: dict[str, list[Any]]
) -> None:
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8")

    inspection = inspect_json(path, LIMITS)

    assert inspection.metadata["orient"] == orient
    assert inspection.metadata["column_names"] == list(expected)
    want = pd.DataFrame(expected, columns=list(expected))
    pd.testing.assert_frame_equal(read_json(path, inspection.metadata), want)


@pytest.mark.parametrize("orient", ["records", "lines", "list-columns"])
def test_read_json_stops_after_max_rows_and_keeps_every_column(tmp_path: Path, orient: str) -> None:
    records = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "c": 1.5}]
    frame = pd.DataFrame(records)
    text = {
        "records": json.dumps(records),
        "lines": "\n".join(json.dumps(r) for r in records),
        "list-columns": json.dumps(
            {"a": [1, 2, 3], "b": ["x", "y", None], "c": [None] * 2 + [1.5]}
        ),
    }[orient]
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8")
    metadata = inspect_json(path, LIMITS).metadata

    read = read_json(path, metadata, max_rows=2)

    assert metadata["orient"] == orient
    pd.testing.assert_frame_equal(read, frame.head(2), check_dtype=False)


def test_read_json_refuses_a_file_that_changed_since_inspection(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(RECORDS), encoding="utf-8")
    metadata = inspect_json(path, LIMITS).metadata
    path.write_text(json.dumps([*RECORDS, {"d": 1}]), encoding="utf-8")

    with pytest.raises(TableError, match="no longer matches"):
        read_json(path, metadata)


def test_json_nested_values_are_kept_and_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('[{"a": {"x": 1}, "b": [1, 2]}, {"a": null, "b": 3}]', encoding="utf-8")

    inspection = inspect_json(path, LIMITS)

    assert inspection.warnings == (
        (
            "nested_values",
            "2 cells hold nested lists or objects; they are kept as Python objects, "
            "not split into columns.",
        ),
    )
    assert read_json(path, inspection.metadata)["a"][0] == {"x": 1}


@pytest.mark.parametrize("kind", ["json", "parquet"])
def test_formula_cells_follow_the_same_rule_in_json_and_parquet(tmp_path: Path, kind: str) -> None:
    cells = FORMULAS + NOT_FORMULAS
    path = tmp_path / f"t.{kind}"
    if kind == "json":
        path.write_text(json.dumps([{"text": c, "n": -5} for c in cells]), encoding="utf-8")
        inspection = inspect_json(path, LIMITS)
    else:
        write_parquet(path, pd.DataFrame({"text": cells, "n": -5}))
        inspection = inspect_parquet(path, LIMITS)

    assert escaped_by_export(cells) == len(FORMULAS)
    assert inspection.metadata["formula_cells"] == len(FORMULAS)
    assert inspection.warnings == (("formula_cells", f"{len(FORMULAS)} {FORMULA_MESSAGE}"),)


@pytest.mark.parametrize("kind", ["json", "parquet"])
def test_numbers_with_commas_are_not_formula_cells_as_in_an_export(
    tmp_path: Path, kind: str
) -> None:
    """One rule for every format (export.py's): these used to count here, not in an export."""
    cells = LOCALE_NUMBERS + FORMULAS
    path = tmp_path / f"t.{kind}"
    if kind == "json":
        path.write_text(json.dumps([{"text": c} for c in cells]), encoding="utf-8")
        inspection = inspect_json(path, LIMITS)
    else:
        write_parquet(path, pd.DataFrame({"text": cells}))
        inspection = inspect_parquet(path, LIMITS)

    assert escaped_by_export(LOCALE_NUMBERS) == 0
    assert inspection.metadata["formula_cells"] == escaped_by_export(cells) == len(FORMULAS)


# --- JSON: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"[1, 2, 3]", "Item 1 of the JSON array is a number, not an object"),
        (b'[{"a": 1}, "x"]', "Item 2 of the JSON array is a string"),
        (b'[{"a": 1},]', "not valid JSON"),
        (b'[{"a": 1}', "expected , or ]"),
        (b'[{"a": 1}] [{"a": 2}]', "extra data"),
        (b'[{"a": NaN}]', "contains NaN"),
        (b'[{"a": -Infinity}]', "contains -Infinity"),
        (b'[{"a": 1e999}]', "too large"),
        (b'[{"a": 1, "b": 2, "a": 3}]', "the key 'a' twice"),
        (b'{"a": 1}\n{"a": 2}\n[3]', "Line 3 of the JSON Lines file is a list"),
        (b'{"a": 1}\n{"a": }', "not valid JSON: Expecting value at line 2"),
        (b'{"a": [1, 2], "b": [1]}', "different lengths"),
        (b"", "empty"),
        (b" \r\n\t", "empty"),
        (b"[" * 100_000, "too deeply"),
        (b'{"a":' * 100_000, "too deeply"),
        (b'[{"a": ' + b"1" * 5_000 + b"}]", "too many digits"),
        ("\ufeff[]".encode("utf-16"), "UTF-16"),
        (b'[{"a": "caf\xe9"}]', "not UTF-8"),
        (b'{"a": 1}\n{"a": "\xff"}', "line 2 has a bad byte"),
        (b'[{"\\ud800": 1}]', "lone surrogate"),
    ],
)
def test_bad_json_is_table_invalid(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(content)

    error = refused(inspect_json, path)

    assert (type(error), error.code) == (TableError, "table_invalid")
    assert words in error.message


@pytest.mark.parametrize("content", [b"id,name\n1,x\n", b"42", b'"text"', b"<html></html>"])
def test_file_that_is_not_a_json_table_is_a_content_mismatch(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(content)

    assert type(refused(inspect_json, path)) is ContentMismatch


@pytest.mark.parametrize(
    ("changes", "line", "code"),
    [
        ({"max_csv_rows": 10}, '{"a": 1}', "csv_too_many_rows"),
        ({"max_csv_columns": 2}, '{"a": 1, "b": 2, "c": 3}', "csv_too_many_columns"),
        ({"max_csv_cells": 20}, '{"a": 1, "b": 2}', "csv_too_many_rows"),
    ],
)
def test_json_lines_over_a_limit_stop_at_the_first_record_past_it(
    tmp_path: Path, changes: dict[str, int], line: str, code: str
) -> None:
    """The garbage after the limit would be table_invalid if it were ever read."""
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([line] * 11 + ["not json at all"]), encoding="utf-8")

    error = refused(inspect_json, path, Limits.default(**changes))

    assert (type(error), error.code) == (TableError, code)
    assert "has at least" in error.message


def test_json_array_over_the_row_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"a": i} for i in range(11)]), encoding="utf-8")

    error = refused(inspect_json, path, Limits.default(max_csv_rows=10))

    assert error.code == "csv_too_many_rows"


# --- properties: hostile bytes and round trips ---------------------------------------------

FUZZ = settings(max_examples=80, deadline=None)


@FUZZ
@given(st.binary(max_size=3_000))
def test_random_bytes_are_refused_or_read(scratch: Path, content: bytes) -> None:
    path = scratch / "random"
    path.write_bytes(content)
    inspect_then_read(path, inspect_parquet, read_parquet)
    inspect_then_read(path, inspect_json, read_json)


@FUZZ
@given(st.binary(max_size=3_000), st.integers(min_value=0, max_value=3_000))
def test_random_footers_between_parquet_magics_are_refused(
    scratch: Path, body: bytes, footer: int
) -> None:
    path = scratch / "framed.parquet"
    path.write_bytes(b"PAR1" + body + min(footer, len(body)).to_bytes(4, "little") + b"PAR1")
    inspect_then_read(path, inspect_parquet, read_parquet)


@pytest.fixture(scope="module")
def small_parquet() -> bytes:
    frame = sample_frame(40).assign(cat=lambda f: f["text"].astype("category"))
    table = pa.Table.from_pandas(frame).append_column("tags", pa.array([[1, 2]] * 40))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=15)
    return bytes(sink.getvalue().to_pybytes())


@FUZZ
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=6))
def test_parquet_with_damaged_pages_is_refused_or_read(
    scratch: Path, small_parquet: bytes, flips: list[tuple[int, int]]
) -> None:
    """Only the pages: pyarrow 24 aborts the whole process on some damaged footers
    (see ``_row_group_sizes``), which the sandbox, not this module, turns into a refusal."""
    data = bytearray(small_parquet)
    pages = len(data) - 12 - int.from_bytes(data[-8:-4], "little")
    for position, value in flips:
        data[4 + position % pages] = value
    path = scratch / "flipped.parquet"
    path.write_bytes(bytes(data))
    inspect_then_read(path, inspect_parquet, read_parquet)


json_text = st.text(alphabet='[]{}",:0123456789.-+eE \n\ttrufalsnNI\\u=@a', max_size=300)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(json_text | json_values.map(json.dumps), st.booleans())
def test_json_like_text_is_refused_or_read(scratch: Path, text: str, lines: bool) -> None:
    path = scratch / "fuzz.json"
    path.write_text(text.replace(",", "\n") if lines else text, encoding="utf-8")
    inspect_then_read(path, inspect_json, read_json)


texts = st.text(alphabet=st.sampled_from("=+-@\t\r0123456789.,eE xé\x00"), max_size=6) | st.text(
    max_size=8
)
ELEMENTS = {
    "int64": st.integers(-(2**63), 2**63 - 1),
    "float64": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "object": texts | st.none(),
}


@st.composite
def frames(draw: st.DrawFn, min_rows: int = 0) -> pd.DataFrame:
    rows = draw(st.integers(min_rows, 12))
    names = draw(st.lists(st.text(max_size=6), min_size=1, max_size=5, unique=True))
    columns = {}
    for name in names:
        dtype = draw(st.sampled_from(sorted(ELEMENTS)))
        values = draw(st.lists(ELEMENTS[dtype], min_size=rows, max_size=rows))
        columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns)


def formula_cells(frame: pd.DataFrame) -> int:
    text = frame.select_dtypes(include="object")
    return sum(escaped_by_export(text.iloc[:, i].tolist()) for i in range(text.shape[1]))


@FUZZ
@given(frames())
def test_frames_round_trip_through_parquet(scratch: Path, frame: pd.DataFrame) -> None:
    path = write_parquet(scratch / "round.parquet", frame, row_group_size=5)

    inspection = inspect_parquet(path, LIMITS)

    assert inspection.metadata["rows"] == len(frame)
    assert inspection.metadata["column_names"] == list(frame.columns)
    assert inspection.metadata["formula_cells"] == formula_cells(frame)
    pd.testing.assert_frame_equal(read_parquet(path, inspection.metadata), frame)


def json_file(frame: pd.DataFrame, lines: bool) -> str:
    records: list[Mapping[str, Any]] = frame.to_dict(orient="records")
    if lines:
        return "\n".join(json.dumps(record) for record in records)
    return json.dumps(records)


@FUZZ
@given(frames(min_rows=1), st.booleans())
def test_frames_round_trip_through_json(scratch: Path, frame: pd.DataFrame, lines: bool) -> None:
    path = scratch / "round.json"
    path.write_text(json_file(frame, lines), encoding="utf-8")

    inspection = inspect_json(path, LIMITS)

    assert inspection.metadata["rows"] == len(frame)
    assert inspection.metadata["column_names"] == list(frame.columns)
    assert inspection.metadata["formula_cells"] == formula_cells(frame)
    pd.testing.assert_frame_equal(read_json(path, inspection.metadata), frame)
