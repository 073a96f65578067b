"""The runs directory: ids that cannot escape it, listings, and retention that never
touches a run in progress."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from jupyter_dsagent.automl.store import RUN_ID, RunStore, new_run_id
from jupyter_dsagent.exceptions import NotFoundError

DAY = 86_400


def make_run(store: RunStore, age_days: float, *, finished: bool, time_limit: float = 60) -> str:
    started = time.time() - age_days * DAY
    run_id = new_run_id(started)
    path = store.create(run_id)
    spec = {"started_at": started, "time_limit": time_limit, "engine": "sklearn", "task": "binary"}
    (path / "run.json").write_text(json.dumps(spec))
    if finished:
        result = {"status": "done", "score": 0.5, "timings": {"wall": 3.0}}
        (path / "result.json").write_text(json.dumps(result))
    return run_id


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    root = tmp_path / "runs"
    root.mkdir()
    return RunStore(root)


def test_run_ids_sort_by_time_and_match_their_pattern() -> None:
    first, second = new_run_id(1_700_000_000), new_run_id(1_700_000_100)
    assert RUN_ID.match(first) and RUN_ID.match(second) and first < second


@pytest.mark.parametrize(
    "bad", ["../ready", "/etc/passwd", "20250101-120000-1a2b3c4d/../..", "", "..", "x" * 30]
)
def test_a_path_is_only_built_from_a_valid_existing_id(store: RunStore, bad: str) -> None:
    with pytest.raises(NotFoundError):
        store.path(bad)


def test_keep_runs_removes_the_oldest_finished_first_and_never_one_in_progress(
    store: RunStore,
) -> None:
    finished = [make_run(store, age, finished=True) for age in (5, 4, 3, 2, 1)]
    running = make_run(store, 0, finished=False)
    removed = store.prune(keep_runs=2, keep_days=0)
    assert removed == finished[:3]
    assert store.run_ids() == sorted([*finished[3:], running])


def test_keep_days_removes_old_runs_but_not_one_in_progress(store: RunStore) -> None:
    old = make_run(store, 40, finished=True)
    recent = make_run(store, 1, finished=True)
    long_running = make_run(store, 0.001, finished=False, time_limit=86_000)
    assert store.prune(keep_runs=0, keep_days=30) == [old]
    assert store.run_ids() == sorted([recent, long_running])


def test_protected_and_unfinished_runs_survive_and_abandoned_ones_go(store: RunStore) -> None:
    protected = make_run(store, 10, finished=True)
    abandoned = make_run(store, 2, finished=False)  # its kernel died two days ago
    assert store.prune(keep_runs=1, keep_days=0, protect=frozenset({protected})) == []
    assert store.summary(abandoned).status == "failed"
    assert store.prune(keep_runs=1, keep_days=1) == [protected, abandoned]


def test_summaries_say_how_each_run_ended(store: RunStore) -> None:
    done = make_run(store, 0.5, finished=True)
    running = make_run(store, 0, finished=False)
    summaries = {s.run_id: s for s in map(store.summary, store.run_ids())}
    assert summaries[done].status == "done" and summaries[done].score == 0.5
    assert summaries[done].seconds == 3.0
    assert summaries[running].status == "queued" and summaries[running].error is None
