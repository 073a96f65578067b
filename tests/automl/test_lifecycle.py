"""Cancel, crash, out of memory: the run ends with a clear error, no process of it is
left, and the kernel (here, the test process) carries on."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.automl import AutoMLRun, Progress, automl, list_runs
from jupyter_dsagent.automl.process import group_members
from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.exceptions import AutoMLError
from tests.automl.conftest import table

pytestmark = pytest.mark.slow


def started_fitting(run: AutoMLRun) -> threading.Event:
    """An event set once the worker reports the fitting phase."""
    fitting = threading.Event()

    def watch(progress: Progress) -> None:
        if progress.phase in ("fitting", "evaluating", "importance", "finished"):
            fitting.set()

    run.on_progress(watch)
    return fitting


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_cancel_stops_the_whole_process_tree(make_settings: Callable[..., DSAgent]) -> None:
    settings = make_settings(automl_niceness=7, automl_memory_bytes=3 * 1024**3)
    run = automl(table("seaborn/titanic.csv"), "survived", time_limit=120, settings=settings)
    assert started_fitting(run).wait(60) and run.pid is not None, run.progress
    worker = psutil.Process(run.pid)
    assert worker.nice() == 7
    assert worker.rlimit(psutil.RLIMIT_AS) == (3 * 1024**3, 3 * 1024**3)
    assert os.getpgid(run.pid) == run.pid != os.getpgid(0)  # a process group of its own
    with pytest.raises(AutoMLError) as busy:
        automl(table("seaborn/iris.csv"), "species", settings=settings)
    assert busy.value.code == "automl_busy"
    with pytest.raises(AutoMLError) as early:
        run.result  # noqa: B018
    assert early.value.code == "automl_running"
    with pytest.raises(TimeoutError):
        run.wait(timeout=0.01)
    tree = [worker, *worker.children(recursive=True)]
    run.cancel()
    assert run.status == "cancelled"
    assert group_members(run.pid) == [] and alive(tree) == []
    with pytest.raises(AutoMLError) as cancelled:
        run.wait()
    assert cancelled.value.code == "automl_cancelled"
    audit = AuditLog(Path(settings.data_dir) / "audit.sqlite")
    (end,) = [r for r in audit.query(kind="automl.end") if r.subject == run.run_id]
    assert end.outcome == "cancelled" and end.details["error"] == "automl_cancelled"
    summary = next(s for s in list_runs(settings=settings) if s.run_id == run.run_id)
    assert (summary.status, summary.error) == ("cancelled", "automl_cancelled")


def test_a_worker_that_segfaults_fails_the_run_not_the_kernel(
    make_settings: Callable[..., DSAgent],
) -> None:
    settings = make_settings()
    run = automl(table("seaborn/titanic.csv"), "survived", time_limit=120, settings=settings)
    assert started_fitting(run).wait(60) and run.pid is not None, run.progress
    pgid = run.pid
    os.kill(pgid, signal.SIGSEGV)
    with pytest.raises(AutoMLError) as caught:
        run.wait()
    assert caught.value.code == "automl_failed" and "SIGSEGV" in caught.value.message
    assert "run.log" in caught.value.message
    assert run.status == "failed" and run.error is caught.value
    assert group_members(pgid) == []


def test_running_out_of_memory_fails_the_run_with_the_limit_named(
    make_settings: Callable[..., DSAgent],
) -> None:
    settings = make_settings(automl_memory_bytes=256 * 1024**2, automl_warm_worker=False)
    run = automl(table("seaborn/titanic.csv"), "survived", time_limit=30, settings=settings)
    with pytest.raises(AutoMLError) as caught:
        run.wait()
    assert caught.value.code == "automl_failed"
    assert "ran out of memory" in caught.value.message and "0.25 GiB" in caught.value.message
    assert run.pid is not None and group_members(run.pid) == []
