"""sanitize_for_export neutralises spreadsheet formulas (CWE-1236) without touching the data."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_dsagent.ingest.export import (
    FORMULA_LEAD,
    FORMULA_PREFIXES,
    PLAIN_NUMBER,
    is_formula_like,
    sanitize_for_export,
)


@pytest.mark.parametrize(
    "text",
    ["=SUM(A1)", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\tx", "\rx", "-", "="],
)
def test_formula_like_text_gets_a_leading_quote(text: str) -> None:
    out = sanitize_for_export(pd.DataFrame({"a": [text]}))
    assert out.loc[0, "a"] == "'" + text


@pytest.mark.parametrize("text", ["-5", "+3.2", "-1,5", "-1.234,5", "1e-5", "-2.5E+10", "-.5"])
def test_plain_numbers_stay_as_they_are(text: str) -> None:
    assert not is_formula_like(text)
    assert sanitize_for_export(pd.DataFrame({"a": [text]})).loc[0, "a"] == text


def test_only_string_cells_change() -> None:
    stamp = pd.Timestamp("2024-03-01")
    frame = pd.DataFrame(
        {"n": [-5, 3], "x": [-1.5, math.nan], "mixed": ["=1", -7], "when": [stamp, stamp]}
    )
    out = sanitize_for_export(frame)
    assert out["n"].tolist() == [-5, 3]
    assert out["x"].iloc[0] == -1.5 and math.isnan(out["x"].iloc[1])
    assert out["mixed"].tolist() == ["'=1", -7]
    assert out.dtypes.equals(frame.dtypes)


def test_labels_are_sanitized_too() -> None:
    frame = pd.DataFrame({'=HYPERLINK("x")': [1], "ok": [2]}, index=["@evil"])
    out = sanitize_for_export(frame)
    assert list(out.columns) == ['\'=HYPERLINK("x")', "ok"]
    assert list(out.index) == ["'@evil"]


def test_string_and_categorical_columns_keep_their_dtype() -> None:
    frame = pd.DataFrame(
        {
            "s": pd.array(["=a", None, "b"], dtype="string"),
            "c": pd.Categorical(["+x", "y", "+x"]),
        }
    )
    out = sanitize_for_export(frame)
    assert out["s"].dtype == frame["s"].dtype and out["c"].dtype.name == "category"
    assert out["s"].tolist()[0] == "'=a" and out["s"].isna().tolist() == [False, True, False]
    assert out["c"].tolist() == ["'+x", "y", "'+x"]


formula_heavy_text = st.text(
    alphabet=st.sampled_from([*FORMULA_PREFIXES, "0", "5", ".", ",", "e", "a", " ", "'", '"']),
    max_size=8,
)
cells = st.one_of(formula_heavy_text, st.text(max_size=8), st.integers(), st.floats(), st.none())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(cells, cells), min_size=1, max_size=12),
    st.lists(formula_heavy_text, min_size=2, max_size=2, unique=True),
)
def test_no_exported_string_starts_a_formula(rows: list[tuple[Any, Any]], names: list[str]) -> None:
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    before = frame.copy(deep=True)
    out = sanitize_for_export(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is never changed
    for original, exported in zip(frame.to_numpy().ravel(), out.to_numpy().ravel(), strict=True):
        if isinstance(original, str):
            expected = "'" + original if is_formula_like(original) else original
            assert exported == expected
            assert not exported.startswith(FORMULA_PREFIXES) or not is_formula_like(exported)
        else:
            both_nan = isinstance(original, float) and math.isnan(original) and math.isnan(exported)
            assert both_nan or (type(exported) is type(original) and exported == original)
    for name, exported_name in zip(names, out.columns, strict=True):
        assert exported_name == ("'" + name if is_formula_like(name) else name)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(formula_heavy_text, st.text(max_size=8)), min_size=1, max_size=50))
def test_the_rule_as_patterns_is_the_rule(texts: list[str]) -> None:
    """Code that matches many cells at once (Arrow's RE2, for Parquet) uses FORMULA_LEAD and
    PLAIN_NUMBER; Python's re and RE2 must both read them as is_formula_like."""
    expected = [is_formula_like(text) for text in texts]
    by_re = [
        re.match(FORMULA_LEAD, text) is not None and re.fullmatch(PLAIN_NUMBER, text) is None
        for text in texts
    ]
    values = pa.array(texts)
    by_re2 = pc.and_(
        pc.match_substring_regex(values, f"^{FORMULA_LEAD}"),
        pc.invert(pc.match_substring_regex(values, f"^{PLAIN_NUMBER}$")),
    ).to_pylist()
    assert by_re == expected and by_re2 == expected


def test_the_lead_pattern_is_exactly_the_prefixes() -> None:
    characters = [chr(code) for code in range(0x3000)]
    by_re = {c for c in characters if re.match(FORMULA_LEAD, c)}
    matched = pc.match_substring_regex(pa.array(characters), f"^{FORMULA_LEAD}").to_pylist()
    by_re2 = {c for c, hit in zip(characters, matched, strict=True) if hit}
    assert by_re == by_re2 == set(FORMULA_PREFIXES)
