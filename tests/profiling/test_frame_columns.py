"""Columns built two at a time, text first, give the profile built one by one."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.profiling import frame_columns, profile, threads
from jupyter_dsagent.profiling.cache import fingerprint
from jupyter_dsagent.profiling.columns import build_column

ROWS = 30_000  # above THREADED_MIN_ROWS: the threaded path


def _frame() -> pd.DataFrame:
    """Categorical-looking columns of every kind, text ones late, a few repeated rows."""
    rng = np.random.default_rng(7)
    words = np.array(["red", "green", "blue", None], dtype=object)
    frame = pd.DataFrame(
        {
            "level": rng.integers(0, 4, ROWS),
            "flag": rng.random(ROWS) < 0.4,
            "amount": rng.normal(size=ROWS),
            "grade": pd.Categorical(rng.choice(["a", "b", "c"], ROWS)),
            "target": rng.integers(0, 2, ROWS),
            "colour": words[rng.integers(0, 4, ROWS)],
            "code": pd.array(rng.choice(["x", "y", None], ROWS), dtype="string"),
            "label": np.array([f"row {i % 5000}" for i in range(ROWS)], dtype=object),
            "shade": words[rng.integers(0, 3, ROWS)],
        }
    )
    frame.iloc[100:110] = frame.iloc[0:10].to_numpy()
    return frame


def _one_by_one(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> dict[str, Any]:
    with monkeypatch.context() as patched:
        patched.setattr(threads, "THREADED_MIN_ROWS", 10**12)
        return profile(_frame(), use_cache=False, **kwargs).to_dict()


@pytest.mark.parametrize("most_associated", [0, 1, 2, 3, 20])
def test_threaded_profile_equals_the_one_built_column_by_column(
    monkeypatch: pytest.MonkeyPatch, most_associated: int
) -> None:
    settings = DSAgent(environ={}, profile_association_max_columns=most_associated)
    options: dict[str, Any] = {"settings": settings, "target": "target", "sample": False}
    expected = _one_by_one(monkeypatch, **options)
    threaded = profile(_frame(), use_cache=False, **options).to_dict()
    assert threaded == expected
    associated = expected["association_columns"]
    # The first qualifying columns by position, although the text ones were built first.
    qualifying = ["level", "flag", "grade", "target", "colour", "code", "shade"]
    assert associated == qualifying[: len(associated)]
    assert expected["duplicate_rows"] == 10


def test_text_columns_are_built_first_on_pool_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[str, str]] = []

    def recording(series: pd.Series, *args: Any, **kwargs: Any) -> Any:
        started.append((kwargs["name"], threading.current_thread().name))
        return build_column(series, *args, **kwargs)

    monkeypatch.setattr(frame_columns, "build_column", recording)
    profile(_frame(), use_cache=False)
    names = [name for name, _ in started]
    assert names[:4] == ["colour", "code", "label", "shade"]
    assert sorted(names) == sorted(_frame().columns)
    assert all(thread.startswith("dsagent-profile") for _, thread in started)


def test_small_frames_stay_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return build_column(*args, **kwargs)

    monkeypatch.setattr(frame_columns, "build_column", recording)
    profile(_frame().head(1000), use_cache=False)
    assert threads == {threading.current_thread().name}


def test_a_failing_column_raises_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("column failed")

    monkeypatch.setattr(frame_columns, "build_column", failing)
    with pytest.raises(RuntimeError, match="column failed"):
        profile(_frame(), use_cache=False)


def test_the_fingerprint_is_the_same_on_threads_and_sees_one_edit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _frame()
    threaded = fingerprint(frame)
    with monkeypatch.context() as patched:
        patched.setattr(threads, "THREADED_MIN_ROWS", 10**12)
        assert fingerprint(frame) == threaded
    frame.loc[ROWS - 1, "label"] = "row 1"
    assert fingerprint(frame) != threaded


def test_every_kind_of_column_profiles_the_same_on_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(11)
    n = ROWS
    mixed = np.array([1, "two", 3.0, None, (4,), b"5"], dtype=object)
    frame = pd.DataFrame(
        {
            "nullable_int": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 9, n))),
            "nullable_bool": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5)),
            "string": pd.array(rng.choice(["a", "b", None], n), dtype="string"),
            "arrow": pd.array(rng.choice(["x", "y"], n), dtype="string[pyarrow]"),
            "category": pd.Categorical(rng.choice(["lo", "hi"], n)),
            "when": pd.date_range("2024-01-01", periods=n, freq="min", tz="Europe/Paris"),
            "lasted": pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
            "mixed": mixed[rng.integers(0, len(mixed), n)],
            "empty": np.full(n, np.nan),
            "same": np.zeros(n),
        }
    )
    frame.columns = pd.MultiIndex.from_tuples([("a", c) for c in frame.columns])
    frame = pd.concat([frame, frame.iloc[:, :2]], axis=1)  # duplicate labels
    threaded = profile(frame, use_cache=False, sample=False).to_dict()
    with monkeypatch.context() as patched:
        patched.setattr(threads, "THREADED_MIN_ROWS", 10**12)
        assert profile(frame, use_cache=False, sample=False).to_dict() == threaded
    assert threaded["n_columns"] == 12


def test_a_thread_that_cannot_start_leaves_the_work_to_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a tight memory limit a thread's stack may not fit: the profile still comes."""
    expected = _one_by_one(monkeypatch, sample=False)

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patched:
        patched.setattr(threading.Thread, "start", refuse)
        assert profile(_frame(), use_cache=False, sample=False).to_dict() == expected
