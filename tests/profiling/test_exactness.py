"""On exact paths the one-pass counts equal pandas' and numpy's own, for every dtype."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_dsagent.profiling import profile
from jupyter_dsagent.profiling.columns import profile_column


def _every_dtype(rows: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=rows)
    floats[rng.random(rows) < 0.1] = np.nan
    floats[:3] = [np.inf, -0.0, 0.0]
    words = np.array(["alpha", "beta", "gamma", "Köln", "naïve €", ""], dtype=object)
    text = words[rng.integers(0, len(words), rows)]
    text[rng.random(rows) < 0.05] = None
    stamps = pd.Series(pd.to_datetime(rng.integers(0, 10**6, rows), unit="s"))
    stamps[rng.random(rows) < 0.05] = pd.NaT
    return pd.DataFrame(
        {
            "float": floats,
            "float32": floats.astype("float32"),
            "int": rng.integers(-5, 5, rows),
            "uint": rng.integers(0, 2**63, rows, dtype="uint64"),
            "big_int": rng.integers(-(2**62), 2**62, rows),
            "Int64": pd.array(np.where(rng.random(rows) < 0.2, None, rng.integers(0, 9, rows))),
            "Float64": pd.array(np.where(rng.random(rows) < 0.2, None, floats), dtype="Float64"),
            "bool": rng.random(rows) < 0.3,
            "boolean": pd.array(np.where(rng.random(rows) < 0.2, None, rng.random(rows) < 0.5)),
            "text": text,
            "string": pd.array(text, dtype="string"),
            "category": pd.Categorical(text, categories=[*words[:5], "never seen"]),
            "naive": stamps,
            "aware": stamps.dt.tz_localize("UTC").dt.tz_convert("America/New_York"),
            "seconds": stamps.astype("datetime64[s]"),
            "duration": pd.to_timedelta(rng.integers(-(10**6), 10**6, rows), unit="ms"),
            "mixed": pd.Series([1, "1", 1.0, True, None, 2.5] * (rows // 6), dtype=object),
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _every_dtype()


def test_missing_distinct_and_top_counts_equal_pandas(frame: pd.DataFrame) -> None:
    result = profile(frame, sample=False, use_cache=False)
    for column in result.columns:
        series = frame.iloc[:, column.position]
        assert column.values_exact
        assert column.missing == series.isna().sum(), column.name
        assert column.distinct == series.nunique(dropna=True), column.name
        counts = series.value_counts(dropna=True)
        counts = counts[counts > 0]
        assert [n for _, n in column.top_values] == counts.head(5).tolist(), column.name


def test_duplicate_rows_equal_pandas(frame: pd.DataFrame) -> None:
    doubled = pd.concat([frame, frame.iloc[::7], frame.iloc[::11]], ignore_index=True)
    result = profile(doubled, sample=False, use_cache=False)
    assert result.duplicate_rows == doubled.duplicated().sum() > 0
    assert result.warnings_for("duplicate_rows")


def test_numeric_statistics_equal_numpy(frame: pd.DataFrame) -> None:
    result = profile(frame, sample=False, use_cache=False)
    for name in ("float", "int", "big_int", "Int64", "Float64", "uint"):
        column = next(c for c in result.columns if c.name == name)
        values = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        finite = np.sort(values[np.isfinite(values)])
        stats = column.numeric
        assert stats is not None and stats.histogram is not None
        assert stats.min == finite[0] and stats.max == finite[-1]
        assert stats.mean == pytest.approx(finite.mean(), rel=1e-9)
        assert stats.std == pytest.approx(finite.std(ddof=1), rel=1e-9)
        expected = np.quantile(finite, [0.05, 0.25, 0.5, 0.75, 0.95])
        assert list(stats.quantiles.values()) == pytest.approx(expected.tolist(), rel=1e-12)
        bins = len(stats.histogram.counts)
        counts, edges = np.histogram(finite, bins=bins, range=(finite[0], finite[-1]))
        assert list(stats.histogram.counts) == counts.tolist()
        assert list(stats.histogram.edges) == edges.tolist()
    infinite = next(c for c in result.columns if c.name == "float").numeric
    assert infinite is not None and infinite.infinite == 1


def test_datetimes_get_exact_bounds_and_a_histogram_over_time(frame: pd.DataFrame) -> None:
    result = profile(frame, sample=False, use_cache=False)
    for name in ("naive", "aware", "seconds"):
        column = next(c for c in result.columns if c.name == name)
        assert column.semantic_type == "datetime"
        assert column.datetime_min == str(frame[name].min())
        assert column.datetime_max == str(frame[name].max())
        histogram = column.datetime_histogram
        assert histogram is not None
        assert sum(histogram.counts) == column.count
        first = frame[name].min()
        assert histogram.edges[0] == pytest.approx(pd.Timestamp(first).timestamp())
    assert result._repr_html_().count("<svg") >= 3 + 8  # three date columns among them


def test_sampled_profile_keeps_values_exact_up_to_the_bound(frame: pd.DataFrame) -> None:
    result = profile(frame, sample=500, use_cache=False)
    assert result.sampled
    assert [c.missing for c in result.columns] == frame.isna().sum().tolist()
    assert all(c.values_exact for c in result.columns)
    assert [c.distinct for c in result.columns] == frame.nunique().tolist()


def test_past_the_bound_numbers_are_estimated_from_the_sample(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSAGENT_PROFILE_EXACT_DISTINCT_ROWS", "1000")
    result = profile(frame, sample=500, use_cache=False)
    estimated = {c.name for c in result.columns if not c.values_exact}
    assert estimated == {"float", "float32", "int", "uint", "big_int", "Int64", "Float64"} | {
        "naive",
        "aware",
        "seconds",
        "duration",
    }
    assert [c.missing for c in result.columns] == frame.isna().sum().tolist()
    naive = next(c for c in result.columns if c.name == "naive")
    assert naive.datetime_min == str(frame["naive"].min())  # bounds stay exact


def test_associations_pair_categorical_columns() -> None:
    rng = np.random.default_rng(2)
    kind = rng.choice(["a", "b", "c"], size=2000)
    frame = pd.DataFrame(
        {
            "kind": kind,
            "same": pd.Series(kind).map({"a": "x", "b": "y", "c": "z"}),
            "noise": rng.choice(["p", "q"], size=2000),
            "number": rng.normal(size=2000),
        }
    )
    result = profile(frame)
    assert result.association_columns == ("kind", "same", "noise")
    matrix = result.association_matrix
    assert matrix[0][1] == 1.0 and matrix[0][0] == 1.0
    assert matrix[0][2] is not None and matrix[0][2] < 0.1
    assert "Cramer's V" in result.summary()


def test_profile_column_alone_keeps_its_signature() -> None:
    series = pd.Series([1, 2, 2, None, 5], name="y")
    column, warnings = profile_column(series, series, position=0, name="y", sampled=False)
    assert column.count == 4 and column.distinct == 3 and warnings == []
    sample = series.iloc[[0, 2]]
    column, _ = profile_column(series, sample, position=0, name="y", sampled=True)
    assert column.missing == 1 and column.numeric is not None and column.numeric.max == 2.0
