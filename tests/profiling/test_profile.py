"""profile() itself: awkward frames, sampling rules, JSON form and the cache."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from jupyter_dsagent.exceptions import BadRequest, NotFoundError
from jupyter_dsagent.profiling import WARNING_CODES, profile


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


def test_imbalanced_target_and_duplicates() -> None:
    frame = pd.DataFrame({"y": [1] * 2 + [0] * 98, "x": [0] * 100})
    result = profile(frame, target="y")
    assert result.target is not None and result.target.task == "binary"
    assert result.warnings_for("imbalanced_target")
    assert result.duplicate_rows == 98 and result.warnings_for("duplicate_rows")


def test_sampling_follows_the_threshold() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    assert profile(frame, sample_threshold=100).sample_rows == 100
    assert not profile(frame, sample=False, sample_threshold=100).sampled
    assert profile(frame, sample=10).sample_rows == 10
    assert profile(frame, sample=5000).sampled is False
    with pytest.raises(BadRequest):
        profile(frame, sample=0)
    with pytest.raises(NotFoundError):
        profile(frame, target="nope")


def test_cache_returns_the_same_profile_until_the_frame_changes() -> None:
    frame = pd.DataFrame({"x": np.arange(5000.0), "s": ["a"] * 5000})
    first = profile(frame)
    assert profile(frame) is first
    assert profile(frame.copy()) is first
    assert profile(frame, target="x") is not first
    assert profile(frame, use_cache=False) is not first
    frame.loc[1234, "x"] = -1.0  # off the hashed rows, but it changes the column sum
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
