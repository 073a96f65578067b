"""profile() itself: awkward frames, sampling rules, JSON form and the cache."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.exceptions import BadRequest, NotFoundError
from jupyter_dsagent.profiling import WARNING_CODES, profile
from jupyter_dsagent.profiling.thresholds import Thresholds


def test_empty_frames_profile() -> None:
    for frame in (pd.DataFrame(), pd.DataFrame({"a": []}), pd.DataFrame(index=range(3))):
        result = profile(frame)
        json.dumps(result.to_dict(), allow_nan=False)
        assert result.rows == len(frame)


def test_duplicate_and_multiindex_labels_are_profiled_by_position() -> None:
    frame = pd.DataFrame([[1, "x", 2.0]], columns=["a", "a", "b"])
    assert [c.name for c in profile(frame).columns] == ["a", "a", "b"]
    frame.columns = pd.MultiIndex.from_tuples([("g", 1), ("g", 2), ("h", 1)])
    assert profile(frame).columns[0].name == "('g', 1)"


def test_semantic_types_and_warning_codes() -> None:
    rng = np.random.default_rng(1)
    n = 200
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "code": rng.integers(1, 4, n),
            "flag": rng.random(n) > 0.5,
            "when": pd.date_range("2024-01-01", periods=n, tz="Europe/Paris"),
            "dates_text": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d"),
            "numbers_text": [str(i) for i in rng.integers(0, 10**6, n)],
            "one": 1,
            "nothing": np.nan,
            "skew": rng.lognormal(0, 2, n),
            "mixed": [1, "a"] * (n // 2),
            "formula": ["=HYPERLINK(1)"] + ["x"] * (n - 1),
            "free": [f"some words {i}" for i in range(n)],
        }
    )
    result = profile(frame)
    semantic = {c.name: c.semantic_type for c in result.columns}
    assert semantic["id"] == "identifier"
    assert semantic["code"] == "integer-coded categorical"
    assert semantic["flag"] == "boolean"
    assert semantic["when"] == "datetime"
    assert semantic["one"] == "constant"
    assert semantic["nothing"] == "empty"
    assert semantic["skew"] == "numeric"
    assert semantic["free"] == "text"
    found = {(w.code, w.column) for w in result.warnings}
    for expected in [
        ("possible_id", "id"),
        ("datetime_as_text", "dates_text"),
        ("numbers_as_text", "numbers_text"),
        ("constant", "one"),
        ("high_missing", "nothing"),
        ("skewed", "skew"),
        ("mixed_types", "mixed"),
        ("formula_like_values", "formula"),
        ("high_cardinality", "free"),
    ]:
        assert expected in found
    assert {w.code for w in result.warnings} <= set(WARNING_CODES)


def test_categorical_column_that_determines_a_numeric_target_leaks() -> None:
    rng = np.random.default_rng(4)
    grade = rng.choice(["low", "mid", "high"], size=3000)
    price = pd.Series(grade).map({"low": 10.0, "mid": 50.0, "high": 90.0}).to_numpy()
    frame = pd.DataFrame(
        {
            "grade": grade,  # its groups explain ~all of the price: eta squared near 1
            "colour": rng.choice(["red", "blue"], size=3000),
            "noise": rng.normal(size=3000),
            "price": price + rng.normal(scale=1.0, size=3000),
        }
    )
    result = profile(frame, target="price")
    assert result.target is not None and result.target.task == "regression"
    assert result.target.leakage_candidates == ("grade",)
    (warning,) = result.warnings_for("possible_leakage")
    assert "eta squared" in warning.message


def test_imbalanced_target_and_duplicates() -> None:
    frame = pd.DataFrame({"y": [1] * 2 + [0] * 98, "x": [0] * 100})
    result = profile(frame, target="y")
    assert result.target is not None and result.target.task == "binary"
    assert result.warnings_for("imbalanced_target")
    assert result.duplicate_rows == 98 and result.warnings_for("duplicate_rows")


def test_sampling_follows_the_configured_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    assert not profile(frame).sampled  # 1000 rows: below the default 100 000
    monkeypatch.setenv("DSAGENT_SAMPLE_THRESHOLD_ROWS", "100")
    result = profile(frame)
    assert result.sampled and result.sample_rows == 100
    assert result.thresholds["sample_threshold_rows"] == 100
    assert not profile(frame, sample=False).sampled  # False never samples
    assert profile(frame, sample=10).sample_rows == 10  # an int samples that many rows
    assert profile(frame, sample=5000).sampled is False
    monkeypatch.delenv("DSAGENT_SAMPLE_THRESHOLD_ROWS")
    assert not profile(frame).sampled


def test_sampling_follows_the_jupyter_config_file(jp_config_dir: Path) -> None:
    (jp_config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"DSAgent": {"sample_threshold_rows": 200}})
    )
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    assert profile(frame).sample_rows == 200


def test_settings_passed_in_win_and_bad_arguments_are_refused() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    settings = DSAgent(environ={}, sample_threshold_rows=300)
    assert profile(frame, settings=settings).sample_rows == 300
    with pytest.raises(BadRequest):
        profile(frame, sample=0)
    with pytest.raises(NotFoundError):
        profile(frame, target="nope")


def test_thresholds_come_from_the_settings_and_are_stated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = pd.DataFrame({"x": [1.0, None, None, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]})
    default = profile(frame)
    assert not default.warnings_for("high_missing")  # 20% missing, below 50%
    body = default.to_dict()["thresholds"]
    assert body["profile_high_missing_share"] == 0.5
    assert set(body) >= {f.name for f in fields(Thresholds)}
    assert body["categorical_max_distinct"] == 50  # the fixed cut-offs are stated too
    monkeypatch.setenv("DSAGENT_PROFILE_HIGH_MISSING_SHARE", "0.2")
    lowered = profile(frame)
    assert lowered is not default  # the settings are part of the cache key
    assert [w.column for w in lowered.warnings_for("high_missing")] == ["x"]
    assert lowered.to_dict()["thresholds"]["profile_high_missing_share"] == 0.2


def test_cache_returns_the_same_profile_until_the_frame_changes() -> None:
    frame = pd.DataFrame({"x": np.arange(5000.0), "s": ["a"] * 5000})
    first = profile(frame)
    assert profile(frame) is first
    assert profile(frame.copy()) is first
    assert profile(frame, target="x") is not first
    assert profile(frame, use_cache=False) is not first
    frame.loc[1234, "x"] = -1.0
    assert profile(frame) is not first


@pytest.mark.parametrize(
    "edit",
    [
        lambda f: f.loc.__setitem__((2345, "s"), "b"),  # one text cell in the middle
        lambda f: f.loc.__setitem__(([10, 11], "x"), [11.0, 10.0]),  # a swap: same sum
        lambda f: f.loc.__setitem__((4000, "when"), pd.Timestamp("1999-01-01")),
        lambda f: f.loc.__setitem__((17, "flag"), False),
        lambda f: f.loc.__setitem__((99, "s"), None),
        lambda f: f.loc.__setitem__((3, "s"), "a\x00"),  # the separator inside a value
        lambda f: f.loc.__setitem__((4321, "utc"), pd.Timestamp("1999-01-01", tz="UTC")),
        lambda f: f.loc.__setitem__((4322, "utc"), pd.NaT),
        lambda f: f.loc.__setitem__((5, "count"), 6),
        lambda f: f.loc.__setitem__((0, "count"), pd.NA),  # missing where 0 was
        lambda f: f.loc.__setitem__((1, "count"), 0),  # 0 where a missing value was
    ],
)
def test_any_edit_invalidates_the_cached_profile(edit: Any) -> None:
    frame = pd.DataFrame(
        {
            "x": np.arange(5000.0),
            "s": ["a"] * 5000,
            "when": pd.date_range("2024-01-01", periods=5000, freq="h"),
            "flag": [True] * 5000,
            "utc": pd.date_range("2024-01-01", periods=5000, freq="min", tz="UTC"),
            "count": pd.array([0, None, *range(2, 5000)], dtype="Int64"),
        }
    )
    first = profile(frame)
    edit(frame)
    assert profile(frame) is not first


def test_the_cache_is_bounded() -> None:
    from jupyter_dsagent.profiling.core import _cache

    for i in range(40):
        profile(pd.DataFrame({"x": [i]}))
    assert len(_cache) <= 16


def test_one_python_type_pandas_does_not_know_is_not_mixed() -> None:
    frame = pd.DataFrame({"d": [{"a": 1}, {"b": 2}, None], "m": [{"a": 1}, "x", None]})
    flagged = {w.column for w in profile(frame).warnings_for("mixed_types")}
    assert flagged == {"m"}


def test_equal_numbers_stay_equal_in_a_column_with_unhashable_cells() -> None:
    frame = pd.DataFrame({"a": [0, 0.0, [], []]})
    result = profile(frame, sample=False, use_cache=False)
    assert result.columns[0].distinct == 2  # 0 == 0.0, as pandas counts them
    assert result.duplicate_rows == int(frame.duplicated().sum()) == 2


@pytest.mark.parametrize("rows", [100, 30_000])  # inline and threaded
def test_pyarrow_lists_and_structs_are_counted_by_value(rows: int) -> None:
    """pandas cannot factorize them (pyarrow has no kernel): they go by their repr."""
    lists = pd.array([[i % 3, 2] for i in range(rows)], dtype=pd.ArrowDtype(pa.list_(pa.int64())))
    structs = pd.array(
        [{"a": i % 4} for i in range(rows)],
        dtype=pd.ArrowDtype(pa.struct([("a", pa.int64())])),
    )
    frame = pd.DataFrame({"l": lists, "s": structs, "y": np.arange(rows) % 3})
    for target in (None, "l", "y"):
        result = profile(frame, target=target, sample=False)
        assert [c.distinct for c in result.columns] == [3, 4, 3]
        assert result.summary() and result._repr_html_()


@pytest.mark.parametrize("dtype", [object, "string"])
@pytest.mark.parametrize("rows", [10, 30_000])
def test_text_with_lone_surrogates_is_counted_value_by_value(dtype: Any, rows: int) -> None:
    """Text decoded with ``surrogateescape`` keeps lone surrogates; pandas' factorize
    sees all such texts as one value, value_counts does not: the profile agrees with
    value_counts."""
    texts = pd.array([f"\udcff{i % 3}" if i % 5 else None for i in range(rows)], dtype=dtype)
    frame = pd.DataFrame({"name\udcfe": texts, "same": ["\ud800x"] * rows})
    result = profile(frame, target="name\udcfe", sample=False)
    column = result.columns[0]
    expected = frame.iloc[:, 0].value_counts()
    assert (column.distinct, column.missing) == (3, rows // 5 + (rows % 5 > 0))
    assert sorted(count for _, count in column.top_values) == sorted(expected.tolist())
    assert result.columns[1].semantic_type == "constant"
    assert "\\udcff" in result.summary()  # escaped, never raw
    assert result._repr_html_() and str(result)
