"""Random frames of every awkward dtype: profile never raises, to_dict is strict JSON,
the summary stays within budget, and missing, distinct and duplicate counts equal
pandas'."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_dsagent.llm import count_tokens
from jupyter_dsagent.profiling import profile

count_tokens("warm the tokenizer up before hypothesis times examples")

TEXT = st.text(max_size=12)
DATES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))


def _column(kind: str, draw: Any, rows: int) -> pd.Series:
    def values(strategy: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(strategy, min_size=rows, max_size=rows))

    if kind == "int_nan":
        return pd.Series(pd.array(values(st.none() | st.integers(-(2**62), 2**62)), dtype="Int64"))
    if kind == "int":
        return pd.Series(values(st.integers(-(2**63), 2**63 - 1)), dtype="int64")
    if kind == "float":
        return pd.Series(values(st.floats(allow_nan=True, allow_infinity=True)), dtype="float64")
    if kind == "text":
        return pd.Series(values(st.none() | TEXT), dtype=object)
    if kind == "string":
        return pd.Series(pd.array(values(st.none() | TEXT), dtype="string"))
    if kind == "bool":
        return pd.Series(values(st.booleans()), dtype=bool)
    if kind == "boolean":
        return pd.Series(pd.array(values(st.none() | st.booleans()), dtype="boolean"))
    if kind == "datetime_tz":
        stamps = pd.Series(pd.to_datetime(values(st.none() | DATES)), dtype="datetime64[ns]")
        return stamps.dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata")
    if kind == "timedelta":
        seconds = values(st.none() | st.integers(-(10**9), 10**9))
        return pd.Series(pd.to_timedelta(seconds, unit="s"))
    if kind == "category":
        return pd.Series(pd.Categorical(values(st.none() | st.sampled_from(["x", "y", "=1+1"]))))
    if kind == "mixed":
        anything = st.none() | st.integers() | TEXT | st.floats() | st.booleans()
        return pd.Series(values(anything | st.lists(st.integers(), max_size=2)), dtype=object)
    return pd.Series([None] * rows, dtype=object)  # "empty"


KINDS = [
    "int_nan",
    "int",
    "float",
    "text",
    "string",
    "bool",
    "boolean",
    "datetime_tz",
    "timedelta",
    "category",
    "mixed",
    "empty",
]


@st.composite
def frames(draw: Any) -> pd.DataFrame:
    rows = draw(st.integers(0, 25))
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=6))
    names = draw(
        st.lists(
            st.sampled_from(["a", "b", "<x>", "a b"]), min_size=len(kinds), max_size=len(kinds)
        )
    )
    data = [_column(kind, draw, rows) for kind in kinds]
    frame = pd.concat(data, axis=1) if data else pd.DataFrame(index=range(rows))
    frame.columns = pd.Index(names, dtype=object)
    if data and draw(st.booleans()):
        frame.columns = pd.MultiIndex.from_arrays([names, list(range(len(names)))])
    return frame


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frame=frames(), budget=st.sampled_from([40, 200, 1500]), target=st.booleans())
def test_any_frame_profiles(frame: pd.DataFrame, budget: int, target: bool) -> None:
    chosen = frame.columns[0] if target and frame.shape[1] else None
    result = profile(frame, target=chosen, use_cache=False)
    assert result.rows == len(frame)
    assert [c.missing for c in result.columns] == frame.isna().sum().tolist()
    for column in result.columns:
        try:
            expected = frame.iloc[:, column.position].nunique(dropna=True)
        except TypeError:  # lists: pandas cannot count them, the profile counts their repr
            continue
        assert column.distinct == expected
    try:
        duplicated = int(frame.duplicated().sum()) if frame.shape[1] else 0
    except TypeError:  # lists again
        return
    assert result.duplicate_rows == duplicated
    json.dumps(result.to_dict(), allow_nan=False)
    assert count_tokens(result.summary(max_tokens=budget)) <= budget
    assert "<script" not in result._repr_html_()


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 300), size=st.integers(1, 50), seed=st.integers(0, 2**32 - 1))
def test_sampling_keeps_counts_exact(rows: int, size: int, seed: int) -> None:
    values = np.where(np.arange(rows) % 3 == 0, np.nan, np.arange(rows, dtype="float64"))
    frame = pd.DataFrame({"x": values, "y": np.arange(rows) % 7})
    result = profile(frame, sample=size, seed=seed, use_cache=False)
    assert result.sampled == (size < rows)
    assert result.sample_rows == min(size, rows)
    assert result.columns[0].missing == int(np.isnan(values).sum())
    assert result.columns[1].distinct == min(rows, 7)
