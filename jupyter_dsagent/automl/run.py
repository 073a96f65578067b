"""``AutoMLRun``: the kernel's handle on a run, watched by one monitor thread.

The monitor thread writes the worker's input, starts the worker in its own process
group, follows ``progress.json``, calls the registered callbacks, and ends the run in
exactly one of three ways: the worker exits (done, or failed with its error), the
person cancels, or the hard deadline passes and the group is killed. Whatever
happened, ``result.json`` is written, the audit log gets an ``automl.end`` record and
no process of the run is left alive. The notebook thread only ever waits on an event.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..audit import AuditLog
from ..config import DSAgent
from ..exceptions import AutoMLError, DSAgentError
from . import standby
from .prepare import Prepared, Request
from .process import ProcessGroup, worker_environment
from .progress import Progress, read_json, write_json
from .result import AutoMLResult
from .spec import RunSpec
from .store import (
    ERROR_FILE,
    INPUT_FILE,
    LOG_FILE,
    OUTCOME_FILE,
    PROGRESS_FILE,
    RESULT_FILE,
    SPEC_FILE,
    RunStore,
)

__all__ = ["AutoMLRun", "RunContext", "active_runs"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
TRACK_EVERY = 1.0
CANCEL_WAIT = 5.0
ProgressCallback = Callable[[Progress], Any]

_active: dict[str, AutoMLRun] = {}
_active_lock = threading.Lock()


def active_runs() -> list[AutoMLRun]:
    """Runs started by this process that are queued or running, oldest first."""
    with _active_lock:
        return list(_active.values())


class RunContext:
    """Where a run lives and what it answers to: settings, runs dir, audit log, actor."""

    def __init__(self, *, store: RunStore, audit: AuditLog, actor: str, settings: DSAgent) -> None:
        self.store = store
        self.audit = audit
        self.actor = actor
        self.settings = settings


class AutoMLRun:
    """A running (or finished) AutoML run; returned at once by ``automl()``.

    ``status`` is queued, running, done, failed or cancelled; ``progress`` the latest
    report; ``wait()`` blocks until the end and returns the result; ``cancel()`` stops
    the whole process tree. Callbacks given to ``on_progress`` are called from the
    monitor thread with each new :class:`Progress`, and once more at the end.
    """

    def __init__(
        self,
        run_id: str,
        request: Request,
        context: RunContext,
        *,
        source: pd.DataFrame | str | Path,
        prepared: Prepared | None,
        started_at: float,
        started_clock: float,
        load: Callable[[str | Path], pd.DataFrame],
        prepare: Callable[[pd.DataFrame], Prepared],
    ) -> None:
        self.run_id = run_id
        self.request = request
        self.directory = context.store.create(run_id)
        self._context = context
        self._source = source
        self._prepared = prepared
        self._started_at = started_at
        self._started_clock = started_clock
        self._load = load
        self._prepare = prepare
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._cancel = threading.Event()
        self._callbacks: list[ProgressCallback] = []
        self._progress = Progress(run_id, budget=request.time_limit, metric=request.metric)
        self._result: AutoMLResult | None = None
        self._error: AutoMLError | None = None
        self._group: ProcessGroup | None = None
        self._spec: RunSpec | None = None
        self._thread = threading.Thread(target=self._monitor, name=f"automl-{run_id}", daemon=True)

    # -- the notebook's side ---------------------------------------------------------
    @property
    def status(self) -> str:
        return self._progress.status

    @property
    def progress(self) -> Progress:
        """The latest report; ``elapsed`` is current while the run goes on."""
        with self._lock:
            progress = self._progress
        if progress.status in ("queued", "running"):
            return progress.elapsed_since(self._started_at)
        return progress

    @property
    def pid(self) -> int | None:
        """The worker's process id (also its process group id), once started."""
        return None if self._group is None else self._group.pid

    @property
    def error(self) -> AutoMLError | None:
        """Why the run failed or that it was cancelled; None otherwise."""
        return self._error

    @property
    def result(self) -> AutoMLResult:
        """The result of a finished run; raises while it runs, or the run's error."""
        if not self._finished.is_set():
            raise AutoMLError(
                f"Run {self.run_id} is still {self.status}; use run.wait() for its result.",
                code="automl_running",
            )
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> AutoMLResult:
        """Block until the run ends (at most ``timeout`` seconds) and return its result.

        Raises
        ------
        TimeoutError
            The run is still going after ``timeout`` seconds.
        AutoMLError
            The run failed (``.code`` says why) or was cancelled (``automl_cancelled``).
        """
        if not self._finished.wait(timeout):
            raise TimeoutError(f"Run {self.run_id} is still {self.status} after {timeout} s.")
        return self.result

    def cancel(self) -> None:
        """Stop the run and every process it started; returns once they are gone."""
        self._cancel.set()
        self._finished.wait(CANCEL_WAIT)

    def on_progress(self, callback: ProgressCallback) -> None:
        """Call ``callback(progress)`` from the monitor thread at every report."""
        with self._lock:
            self._callbacks.append(callback)
            current = self._progress
        if self._finished.is_set():
            self._call(callback, current)

    def __repr__(self) -> str:
        p = self.progress
        best = "" if p.best_score is None else f", best {p.metric} {p.best_score:.4g}"
        return (
            f"<AutoMLRun {self.run_id} {p.status} {p.elapsed:.0f}/{p.budget:.0f} s, "
            f"{p.models_done} models{best}>"
        )

    # -- the monitor thread ----------------------------------------------------------
    def start(self) -> None:
        with _active_lock:
            _active[self.run_id] = self
        self._thread.start()

    def _call(self, callback: ProgressCallback, progress: Progress) -> None:
        try:
            callback(progress)
        except Exception:
            log.exception("An AutoML progress callback failed (run %s)", self.run_id)

    def _publish(self, progress: Progress) -> None:
        with self._lock:
            changed = progress != self._progress
            self._progress = progress
            callbacks = list(self._callbacks)
        if changed:
            for callback in callbacks:
                self._call(callback, progress)

    def _follow_worker(self) -> None:
        data = read_json(self.directory / PROGRESS_FILE)
        if data is not None:
            self._publish(Progress.from_dict(data).updated(status="running"))

    def _monitor(self) -> None:
        outcome = "error"
        try:
            prepared = self._prepared or self._prepare(self._load(self._source))
            self._prepared = None
            if self._cancel.is_set():
                raise AutoMLError(
                    "The run was cancelled before it started.", code="automl_cancelled"
                )
            spec = self._launch(prepared)
            ended = self._supervise(spec)
            outcome = self._conclude(spec, ended)
        except DSAgentError as exc:
            self._fail(
                exc if isinstance(exc, AutoMLError) else AutoMLError(exc.message, code=exc.code)
            )
            outcome = (
                "cancelled" if self._error and self._error.code == "automl_cancelled" else "error"
            )
        except Exception as exc:
            log.exception("AutoML run %s failed in the kernel", self.run_id)
            self._fail(AutoMLError(f"The run failed: {type(exc).__name__}: {exc}"))
        finally:
            if self._group is not None:
                self._group.stop()
            self._end(outcome)

    def _launch(self, prepared: Prepared) -> RunSpec:
        settings = self._context.settings
        request = self.request
        limits = standby.Limits.from_settings(settings)
        waiting = standby.take(limits) if settings.automl_warm_worker else None
        spec = RunSpec(
            run_id=self.run_id,
            target=request.target,
            task=prepared.task,
            metric=prepared.metric,
            engine=prepared.engine,
            preset=request.preset,
            time_limit=request.time_limit,
            started_at=self._started_at,
            holdout=request.holdout,
            seed=request.seed,
            time_column=request.time_column,
            cpus=limits.cpus,
            memory_bytes=limits.memory_bytes,
            niceness=limits.niceness,
            importance_seconds=settings.automl_importance_seconds,
            engine_share=settings.automl_engine_share,
            parent_pid=os.getpid(),
            rows_total=prepared.rows_total,
            rows_used=len(prepared.frame),
            columns=prepared.frame.shape[1],
            warm_worker=waiting is not None,
            notes=prepared.notes,
        )
        prepared.frame.to_pickle(self.directory / INPUT_FILE)
        spec.write(self.directory / SPEC_FILE)
        if waiting is not None and not waiting.hand_over(self.directory):
            waiting.stop()  # it died while waiting: start a fresh worker instead
            waiting = None
            spec = replace(spec, warm_worker=False)
            spec.write(self.directory / SPEC_FILE)
        self._spec = spec
        self._group = waiting or ProcessGroup(
            [sys.executable, "-m", "jupyter_dsagent.automl.worker", str(self.directory)],
            cwd=self.directory,
            log_path=self.directory / LOG_FILE,
            env=worker_environment(spec.cpus),
        )
        self._context.audit.append(
            "automl.start",
            actor=self._context.actor,
            subject=self.run_id,
            outcome="ok",
            details=_start_details(spec, self._source),
        )
        self._publish(
            self._progress.updated(status="running", phase="starting", metric=spec.metric)
        )
        self._prune()
        return spec

    def _prune(self) -> None:
        settings = self._context.settings
        protect = frozenset(run.run_id for run in active_runs())
        try:
            removed = self._context.store.prune(
                keep_runs=settings.automl_keep_runs,
                keep_days=settings.automl_keep_days,
                protect=protect,
            )
        except OSError:
            log.exception("Could not remove old AutoML runs")
            return
        if removed:
            log.info("Removed %d old AutoML runs: %s", len(removed), ", ".join(removed))

    def _supervise(self, spec: RunSpec) -> str:
        """Follow the worker until it exits, is cancelled or reaches the kill time."""
        assert self._group is not None
        group = self._group
        tracked = 0.0
        while True:
            code = group.wait(POLL_SECONDS)
            self._follow_worker()
            if code is not None:
                group.reap_stragglers()
                return "exited"
            if self._cancel.is_set():
                group.stop()
                return "cancelled"
            now = time.time()
            if now >= spec.budget.kill_at:
                group.stop()
                return "killed"
            if now - tracked >= TRACK_EVERY:
                group.track()
                tracked = now

    def _conclude(self, spec: RunSpec, ended: str) -> str:
        """Turn what the worker left into the result, or the error; return the audit outcome."""
        if ended == "cancelled":
            self._fail(AutoMLError(f"Run {self.run_id} was cancelled.", code="automl_cancelled"))
            return "cancelled"
        outcome = read_json(self.directory / OUTCOME_FILE)
        if outcome is not None and outcome.get("best_model"):
            if ended == "killed":
                outcome["deadline_hit"] = True
                outcome.setdefault("notes", []).append(
                    "The worker was stopped at the deadline; the result holds what it had "
                    "finished by then."
                )
            self._succeed(spec, outcome)
            return "ok"
        error = read_json(self.directory / ERROR_FILE)
        if error is not None:
            self._fail(AutoMLError(str(error.get("message")), code=str(error.get("code"))))
            return "timeout" if error.get("code") == "automl_no_model" else "error"
        if ended == "killed":
            self._fail(
                AutoMLError(
                    f"No model was ready within the {spec.time_limit:g} s time limit; "
                    "the run was stopped. Give it more time or fewer rows.",
                    code="automl_no_model",
                )
            )
            return "timeout"
        assert self._group is not None
        self._fail(AutoMLError(_death(self._group.process.returncode, self.directory / LOG_FILE)))
        return "error"

    def _succeed(self, spec: RunSpec, outcome: dict[str, Any]) -> None:
        outcome["status"] = "done"
        outcome["config"] = spec.to_dict()
        outcome.setdefault("timings", {})["wall"] = round(time.monotonic() - self._started_clock, 3)
        write_json(self.directory / RESULT_FILE, outcome)
        self._result = AutoMLResult(
            read_json(self.directory / RESULT_FILE) or outcome, self.directory
        )

    def _fail(self, error: AutoMLError) -> None:
        self._error = error

    def _end(self, outcome: str) -> None:
        (self.directory / INPUT_FILE).unlink(missing_ok=True)
        wall = (
            self._result.timings["wall"]
            if self._result is not None
            else round(time.monotonic() - self._started_clock, 3)
        )
        status = "done" if self._result is not None else "failed"
        if self._error is not None and self._error.code == "automl_cancelled":
            status = "cancelled"
        if self._result is None:
            record = {
                "run_id": self.run_id,
                "status": status,
                "error": {"code": self._error.code if self._error else "automl_failed",
                          "message": self._error.message if self._error else ""},
                "engine": self.request.engine,
                "target": self.request.target,
                "metric": self.request.metric,
                "timings": {"wall": wall},
                "config": None if self._spec is None else self._spec.to_dict(),
            }  # fmt: skip
            write_json(self.directory / RESULT_FILE, record)
        self._audit_end(status, outcome, wall)
        final = self._progress.updated(status=status, phase="finished", elapsed=wall)
        with self._lock:  # the status is final before anyone waiting wakes up
            self._progress = final
            callbacks = list(self._callbacks)
        with _active_lock:
            _active.pop(self.run_id, None)
        self._finished.set()
        for callback in callbacks:
            self._call(callback, final)
        if self._context.settings.automl_warm_worker:
            standby.warm_up(
                standby.Limits.from_settings(self._context.settings), self._context.store.root
            )

    def _audit_end(self, status: str, outcome: str, wall: float) -> None:
        details: dict[str, Any] = {"status": status, "seconds": wall}
        if self._result is not None:
            data = self._result.data
            details.update(
                engine=data.get("engine"),
                task=data.get("task"),
                metric=data.get("metric"),
                score=data.get("score"),
                metrics=data.get("metrics"),
                deadline_hit=bool(data.get("deadline_hit")),
                models_finished=data.get("models_finished"),
                sampled=bool(data.get("sampled")),
            )
        if self._error is not None:
            details["error"] = self._error.code
        kind = "automl.end"
        if self._spec is None:  # refused (or cancelled) before it started: no end without a start
            kind = "automl.start"
            outcome = "cancelled" if status == "cancelled" else "denied"
            details["input"] = "file"
        try:
            self._context.audit.append(
                kind,
                actor=self._context.actor,
                subject=self.run_id,
                outcome=outcome,
                details=details,
            )
        except DSAgentError:
            log.exception("Could not write the %s audit record of %s", kind, self.run_id)


def _start_details(spec: RunSpec, source: object) -> dict[str, Any]:
    return {
        "engine": spec.engine,
        "task": spec.task,
        "metric": spec.metric,
        "preset": spec.preset,
        "time_limit": spec.time_limit,
        "rows": spec.rows_total,
        "rows_used": spec.rows_used,
        "columns": spec.columns,
        "sampled": spec.sampled,
        "holdout": spec.holdout,
        "seed": spec.seed,
        "split": "time" if spec.time_column else "seeded",
        "input": "dataframe" if isinstance(source, pd.DataFrame) else "file",
        "cpus": spec.cpus,
        "memory_bytes": spec.memory_bytes,
    }


def _death(returncode: int | None, log_path: Path) -> str:
    """Say how the worker died, for a person."""
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        why = (
            " (probably the system's out-of-memory killer)" if returncode == -signal.SIGKILL else ""
        )
        how = f"was killed by {name}{why}"
    else:
        how = f"exited with status {returncode}"
    return f"The AutoML worker {how} before it produced a model; its log is {log_path}."
