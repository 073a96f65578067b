"""The run itself, in its own process: ``python -m jupyter_dsagent.automl.worker RUN_DIR``.

Started by the kernel in a new session (its own process group), with stdout and stderr
going to the run's log. It limits itself first (address space, priority, no core
dumps), then reads ``run.json`` and ``input.pkl``, splits, fits, evaluates and writes
``outcome.json`` after every step, or ``error.json`` when it cannot produce a model.
A watchdog thread kills the whole group if the kernel disappears or the deadline is
long past, so a run never outlives its budget by more than a few seconds.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import resource
import signal
import sys
import threading
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..exceptions import AutoMLError
from .alarm import Alarm, Cutoff
from .budget import KILL_GRACE, SELF_KILL_GRACE
from .engines import ENGINES, available, engine_class
from .evaluation import evaluate
from .leakage import leakage_candidates, leakage_note
from .outcome import Outcome
from .progress import ProgressReporter, write_json
from .schema import frame_schema
from .spec import RunSpec
from .split import holdout_split
from .store import ERROR_FILE, INPUT_FILE, LOG_FILE, PROGRESS_FILE, SPEC_FILE
from .tasks import learnable

__all__ = ["main"]

VERSIONED = ("pandas", "numpy", "scikit-learn", "autogluon.tabular", "lightgbm", "jupyter_dsagent")

WATCHDOG_STACK = 256 * 1024

log = logging.getLogger("jupyter_dsagent.automl.worker")


def _limit_resources(memory_bytes: int, niceness: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    os.nice(niceness)


def _preload() -> None:
    """Import what a run needs, so a standby's run starts with it all loaded."""
    for name in ENGINES:
        if available(name):
            engine_class(name)


def _await_run() -> Path | None:
    """Block until the kernel names the run; then write to that run's log."""
    line = sys.stdin.readline().strip()
    if not line:
        return None  # the kernel went away before giving a run
    run_dir = Path(line)
    log_fd = os.open(run_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    return run_dir


def _quiet() -> None:
    """Warnings and library chatter go to the log only, and the GPU probe stays silent.

    A crash, or the kernel's SIGTERM when it stops the run, writes every thread's stack
    to the log first, so a run that had to be stopped can be understood afterwards.
    """
    faulthandler.enable(all_threads=True)
    faulthandler.register(signal.SIGTERM, all_threads=True, chain=True)
    warnings.simplefilter("ignore")
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("autogluon.common.utils.resource_utils").setLevel(logging.CRITICAL)


def _near_memory_limit(memory_bytes: int) -> bool:
    """True when the address space in use is within a tenth of the limit: a failure to
    allocate (a thread, a buffer) then means memory, whatever exception it raised."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024 >= 0.9 * memory_bytes
    return False


def _watchdog(spec: RunSpec) -> None:
    """Kill the process group when the kernel is gone or the deadline is long past."""
    give_up = spec.budget.deadline + SELF_KILL_GRACE
    while True:
        if os.getppid() != spec.parent_pid or time.time() > give_up:
            log.error("stopping the run: the kernel is gone or the deadline has passed")
            os.killpg(os.getpgid(0), signal.SIGKILL)
        time.sleep(0.2)


def _versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def _labelled(frame: pd.DataFrame, target: str, outcome: Outcome) -> pd.DataFrame:
    """The rows with a target value to learn, saying how many were left out and why."""
    known = learnable(frame[target])
    infinite = int((frame[target].notna() & ~known).sum())
    missing = len(frame) - int(known.sum()) - infinite
    if missing:
        outcome.note(f"{missing} rows without a target value were left out.")
    if infinite:
        outcome.note(f"{infinite} rows whose target is infinite were left out.")
    return frame[known]


def _run(run_dir: Path, spec: RunSpec) -> None:
    budget = spec.budget
    reporter = ProgressReporter(
        run_dir / PROGRESS_FILE, spec.run_id, spec.started_at, spec.time_limit, spec.metric
    )
    outcome = Outcome(
        run_dir,
        run_id=spec.run_id,
        engine=spec.engine,
        task=spec.task,
        target=spec.target,
        metric=spec.metric,
        deadline_hit=False,
        versions=_versions(),
    )
    for note in spec.notes:
        outcome.note(note)
    outcome.timing("startup", time.time() - spec.started_at)

    reporter.phase("splitting")
    started = time.time()
    frame = pd.read_pickle(run_dir / INPUT_FILE)
    labelled = _labelled(frame, spec.target, outcome)
    split = holdout_split(
        labelled,
        spec.target,
        spec.task,
        fraction=spec.holdout,
        seed=spec.seed,
        time_column=spec.time_column,
    )
    train, holdout = labelled.iloc[split.train], labelled.iloc[split.holdout]
    outcome.data.update(
        split=split.describe(),
        rows={
            "total": spec.rows_total,
            "used": spec.rows_used,
            "train": len(train),
            "holdout": len(holdout),
        },
        sampled=spec.sampled,
        features=[column.to_dict() for column in frame_schema(frame.drop(columns=[spec.target]))],
    )
    outcome.timing("split", time.time() - started)

    started = time.time()
    leaks = leakage_candidates(train, spec.target, seed=spec.seed)
    outcome.data["leakage_candidates"] = leaks
    if leaks:
        outcome.note(leakage_note(leaks, spec.target))
    outcome.timing("leakage_check", time.time() - started)

    reporter.phase("fitting")
    started = time.time()
    engine = engine_class(spec.engine)(spec, run_dir, reporter)
    limit = budget.engine_limit(time.time())  # after importing the engine's library
    outcome.data["engine_time_limit"] = round(limit, 2)
    alarm = Alarm(
        budget.fit_cutoff,
        postpone=lambda: budget.first_model_cutoff if reporter.progress.models_done == 0 else None,
    )
    try:
        with alarm:
            engine.fit(train, limit)
    except Cutoff:
        alarm.disarm()
        outcome.data["deadline_hit"] = True
        outcome.note(
            "The engine was still fitting at its cut-off; the models that finished are kept."
        )
    else:
        if time.time() > budget.fit_cutoff:  # let past its cut-off to finish a first model
            outcome.data["deadline_hit"] = True
            outcome.note(
                "The engine ran past its cut-off to finish a first model; evaluation and "
                "importance had less time."
            )
    for note in engine.notes:
        outcome.note(note)
    outcome.timing("fit", time.time() - started)

    started = time.time()
    # Saving the best model may run a little past the deadline, never up to the kill.
    with Alarm(budget.deadline + KILL_GRACE / 2):
        best = engine.finish()
    outcome.data.update(
        best_model=best,
        models_finished=reporter.progress.models_done,
        leaderboard=[dict(row) for row in engine.leaderboard(None).to_dict(orient="records")],
    )
    outcome.timing("finish", time.time() - started)
    outcome.write()

    reporter.phase("evaluating")
    evaluate(engine, holdout, budget, outcome)
    outcome.timing("worker_total", time.time() - spec.started_at)
    outcome.write()
    reporter.phase("finished")


def main(argv: list[str]) -> int:
    """Run the AutoML run in ``argv[0]``; 0 when it produced a model, 1 when it could not.

    ``--standby LIMITS`` instead applies the limits (JSON: memory_bytes, niceness),
    imports the engines, and waits for the run directory on stdin.
    """
    if argv[0] == "--standby":
        limits = json.loads(argv[1])
        _limit_resources(limits["memory_bytes"], limits["niceness"])
        _quiet()
        _preload()
        waited = _await_run()
        if waited is None:
            return 0
        run_dir = waited
        spec = RunSpec.read(run_dir / SPEC_FILE)
    else:
        run_dir = Path(argv[0])
        spec = RunSpec.read(run_dir / SPEC_FILE)
        _limit_resources(spec.memory_bytes, spec.niceness)
        _quiet()
    try:
        # A small stack: under a tight RLIMIT_AS the default 8 MiB may not be available.
        threading.stack_size(WATCHDOG_STACK)
        threading.Thread(target=_watchdog, args=(spec,), name="watchdog", daemon=True).start()
        threading.stack_size(0)
        _run(run_dir, spec)
    except AutoMLError as exc:
        log.error("%s: %s", exc.code, exc.message)
        write_json(run_dir / ERROR_FILE, {"code": exc.code, "message": exc.message})
        return 1
    except Cutoff:
        message = "The run reached its deadline before a model was ready."
        write_json(run_dir / ERROR_FILE, {"code": "automl_no_model", "message": message})
        return 1
    except Exception as exc:
        log.error("the run failed:\n%s", traceback.format_exc())
        if isinstance(exc, MemoryError) or _near_memory_limit(spec.memory_bytes):
            message = (
                f"The run ran out of memory (its limit is {spec.memory_bytes / 1024**3:.2f} "
                f"GiB, DSAgent.automl_memory_bytes): {type(exc).__name__}: {exc}"
            )
        else:
            message = f"The run failed: {type(exc).__name__}: {exc}"
        write_json(run_dir / ERROR_FILE, {"code": "automl_failed", "message": message[:2000]})
        return 1
    finally:
        (run_dir / INPUT_FILE).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    logging.shutdown()
    # Everything is written; skip tearing down the interpreter's modules, which takes
    # a noticeable part of a second with the engines loaded, off the run's budget.
    os._exit(status)
