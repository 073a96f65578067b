"""The vectorised pieces against the plain computation they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats.contingency import association

from jupyter_dsagent.profiling import text
from jupyter_dsagent.profiling.association import cramers_v
from jupyter_dsagent.profiling.numbers import datetime_histogram, sorted_quantiles
from jupyter_dsagent.profiling.rowhash import RowHasher
from jupyter_dsagent.profiling.text import scan_strings

STRINGS = st.lists(st.text(max_size=8) | st.sampled_from(["", " ", "a\x00b", "€ x", "=1"]))


@settings(max_examples=60, deadline=None)
@given(values=STRINGS, chunk=st.sampled_from([1, 3, 16_384]))
def test_string_scan_equals_python(values: list[str], chunk: int) -> None:
    original = text.CHUNK_STRINGS
    text.CHUNK_STRINGS = chunk
    try:
        scan = scan_strings(np.array(values, dtype=object))
    finally:
        text.CHUNK_STRINGS = original
    assert scan.lengths.tolist() == [len(v) for v in values]
    assert scan.first.tolist() == [ord(v[0]) if v else -1 for v in values]
    assert scan.spaced.tolist() == [" " in v for v in values]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-1e12, 1e12), min_size=1, max_size=50))
def test_sorted_quantiles_equal_numpy(values: list[float]) -> None:
    ordered = np.sort(np.asarray(values))
    qs = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
    assert sorted_quantiles(ordered, qs).tolist() == np.quantile(ordered, qs).tolist()


def test_datetime_histogram_puts_every_instant_in_one_bin() -> None:
    ticks = np.sort(np.random.default_rng(0).integers(0, 10**15, 1000))
    histogram = datetime_histogram(ticks, "ns", distinct=1000)
    assert histogram is not None and sum(histogram.counts) == 1000
    assert len(histogram.counts) == 20 and histogram.edges[-1] == ticks[-1] / 1e9
    single = datetime_histogram(np.array([5, 5, 5]), "s", distinct=1)
    assert single is not None and single.counts == (3,)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0.0, -0.0, 1.5])), max_size=40))
def test_row_hash_counts_duplicates_like_pandas(rows: list[tuple[int, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["a", "b"], dtype=object).astype({"b": float})
    hasher = RowHasher(len(frame))
    hasher.add(frame["a"].to_numpy(dtype="int64").view("uint64"))
    hasher.add((frame["b"].to_numpy() + 0.0).view("uint64"))
    assert hasher.duplicates() == frame.duplicated().sum()


def test_row_hash_tells_swapped_cells_apart() -> None:
    swapped, same = RowHasher(2), RowHasher(2)
    for keys in ([1, 2], [2, 1]):  # rows (1, 2) and (2, 1)
        swapped.add(np.array(keys, dtype="uint64"))
    for keys in ([1, 1], [2, 2]):  # rows (1, 2) and (1, 2)
        same.add(np.array(keys, dtype="uint64"))
    assert swapped.duplicates() == 0
    assert same.duplicates() == 1


@pytest.mark.parametrize("seed", range(5))
def test_cramers_v_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(1, 50, size=(rng.integers(2, 6), rng.integers(2, 6)))
    assert cramers_v(table) == pytest.approx(association(table, method="cramer"))


def test_cramers_v_undefined_for_a_single_level() -> None:
    assert cramers_v(np.array([[5, 3]])) is None
    assert cramers_v(np.array([[0, 0], [0, 0]])) is None
