"""The front door: ``automl()``, ``load_model()``, ``list_runs()``, ``active_runs()``.

Settings come from the same Jupyter config files and environment as the server's
(or are passed in by a caller that already has them, such as the ``%dsagent`` magic),
so every kernel enforces the same limits and writes to the same runs directory and
audit log.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..audit import AuditLog
from ..config import DSAgent, load_config, read_jupyter_config
from ..datadir import DataDir
from ..exceptions import AutoMLError, BadRequest, DSAgentError
from ..runtime import current_user
from . import standby
from .predictor import Predictor
from .prepare import Prepared, Request, prepare
from .progress import read_json
from .result import AutoMLResult
from .run import AutoMLRun, RunContext, active_runs
from .store import RESULT_FILE, RunStore, RunSummary, new_run_id

__all__ = ["automl", "list_runs", "load_model", "load_result", "warm_up"]

_contexts: dict[str, tuple[DataDir, AuditLog]] = {}
_contexts_lock = threading.Lock()


def _settings(settings: DSAgent | None) -> DSAgent:
    if settings is not None:
        return settings
    config, origins = read_jupyter_config()
    return load_config(config=config, config_origins=origins)


def _data(settings: DSAgent) -> tuple[DataDir, AuditLog]:
    """The data dir and audit log for these settings, opened once per process."""
    key = os.path.realpath(os.path.expanduser(settings.data_dir))
    with _contexts_lock:
        if key not in _contexts:
            data = DataDir.prepare(settings.data_dir)
            _contexts[key] = (data, AuditLog(data.audit_db))
        return _contexts[key]


def _load_table(settings: DSAgent) -> Any:
    """Read a path through the validation pipeline, like ``dsa.load``: never trusted as is."""

    def load(source: str | Path) -> pd.DataFrame:
        from ..ingest import ingestor_for
        from ..ingest.load import load as load_upload

        table = load_upload(source, ingestor=ingestor_for(settings), actor=current_user())
        if not isinstance(table, pd.DataFrame):
            raise BadRequest(f"{str(source)!r} is not a table, so AutoML cannot learn from it.")
        return table

    return load


def automl(
    df_or_path: pd.DataFrame | str | os.PathLike[str],
    target: str,
    *,
    time_limit: float | None = None,
    preset: str | None = None,
    metric: str | None = None,
    engine: str = "autogluon",
    holdout: float = 0.2,
    seed: int = 0,
    task: str | None = None,
    time_column: str | None = None,
    settings: DSAgent | None = None,
) -> AutoMLRun:
    """Start a time-limited AutoML run in a separate process and return at once.

    Parameters
    ----------
    df_or_path : DataFrame or path
        The data. A path (or an upload's id or name) is loaded through the same
        validation as ``dsa.load``, in the background.
    target : str
        The column to predict.
    time_limit : float, optional
        Seconds from this call to the result, evaluation included; the run is stopped
        at this limit and keeps the best model finished by then. Default
        ``DSAgent.automl_default_seconds``, at most ``DSAgent.automl_max_seconds``.
    preset : str, optional
        AutoGluon preset; default ``DSAgent.automl_preset``.
    metric : str, optional
        The metric models are ranked by: accuracy, balanced_accuracy, roc_auc, f1
        (classification) or rmse, mae, r2, mape (regression). Default accuracy / rmse.
    engine : {"autogluon", "sklearn"}
        AutoGluon (LightGBM and the scikit-learn models), or a small scikit-learn
        search that also serves when AutoGluon is not installed.
    holdout : float
        Share of rows set aside, before any fitting, to score the models.
    seed : int
        Seed of the holdout split, the sampling and the models.
    task : {"binary", "multiclass", "regression"}, optional
        Overrides the task detected from the target (the profiler's rule).
    time_column : str, optional
        A date/time column: the holdout is then the latest rows, not a random draw.
    settings : DSAgent, optional
        Settings to use instead of reading the Jupyter configuration.

    Returns
    -------
    AutoMLRun
        ``.status``, ``.progress``, ``.wait()``, ``.cancel()``, ``.result``.

    Raises
    ------
    BadRequest
        A parameter is out of range.
    AutoMLInputError
        The target cannot be learned (``automl_bad_target``) or the table is over the
        limits (``automl_too_large``); for a DataFrame these are raised here, for a path
        by ``wait()``.
    AutoMLError
        AutoML is turned off (``automl_disabled``) or too many runs are going
        (``automl_busy``).
    """
    started_at, started_clock = time.time(), time.monotonic()
    chosen = _settings(settings)
    data, audit = _data(chosen)
    run_id = new_run_id(started_at)
    try:
        if not chosen.automl:
            raise AutoMLError(
                "AutoML is turned off here (DSAgent.automl = False).", code="automl_disabled"
            )
        request = Request.build(
            chosen,
            target=target,
            time_limit=time_limit,
            preset=preset,
            metric=metric,
            engine=engine,
            holdout=holdout,
            seed=seed,
            task=task,
            time_column=time_column,
        )
        busy = active_runs()
        if len(busy) >= chosen.automl_max_concurrent_runs:
            raise AutoMLError(
                f"{len(busy)} AutoML run(s) already going ({', '.join(r.run_id for r in busy)}); "
                "wait for one or cancel it (DSAgent.automl_max_concurrent_runs).",
                code="automl_busy",
            )
        prepared: Prepared | None = None
        if isinstance(df_or_path, pd.DataFrame):
            prepared = prepare(df_or_path, request, chosen)
        elif not isinstance(df_or_path, str | os.PathLike):
            raise BadRequest(f"Expected a DataFrame or a path, got {type(df_or_path).__name__}.")
    except DSAgentError as exc:
        audit.append(
            "automl.start",
            actor=current_user(),
            subject=run_id,
            outcome="denied",
            details={"error": exc.code, "engine": str(engine)[:40]},
        )
        raise
    run = AutoMLRun(
        run_id,
        request,
        RunContext(
            store=RunStore(data.runs),
            audit=audit,
            actor=current_user(),
            settings=chosen,
        ),
        source=df_or_path,
        prepared=prepared,
        started_at=started_at,
        started_clock=started_clock,
        load=_load_table(chosen),
        prepare=lambda frame: prepare(frame, request, chosen),
    )
    run.start()
    return run


def warm_up(*, settings: DSAgent | None = None) -> None:
    """Start a standby worker now, so even the first run does not wait for imports.

    Each run leaves a standby for the next one; ``%load_ext`` does not start one (it
    holds about 250 MB, a cost kernels that never train should not pay). Call this
    ahead of a first run, e.g. in a workshop notebook's set-up cell. It returns at once
    and does nothing when AutoML or ``DSAgent.automl_warm_worker`` is off.
    """
    chosen = _settings(settings)
    if chosen.automl and chosen.automl_warm_worker:
        data, _ = _data(chosen)
        standby.warm_up(standby.Limits.from_settings(chosen), data.runs)


def _store(settings: DSAgent | None) -> RunStore:
    data, _ = _data(_settings(settings))
    return RunStore(data.runs)


def load_model(run_id: str, *, settings: DSAgent | None = None) -> Predictor:
    """The best model of a finished run, as a :class:`Predictor`.

    ``predict(df)`` and ``predict_proba(df)`` check ``df`` against the training
    columns and dtypes first, and raise ``SchemaMismatch`` naming every difference.
    """
    return Predictor.from_run(_store(settings).path(run_id))


def load_result(run_id: str, *, settings: DSAgent | None = None) -> AutoMLResult:
    """The result of a finished run, read back from its ``result.json``."""
    directory = _store(settings).path(run_id)
    data = read_json(directory / RESULT_FILE)
    if data is None or data.get("status") != "done":
        raise AutoMLError(f"Run {run_id} has no result with a model.", code="automl_no_model")
    return AutoMLResult(data, directory)


def list_runs(limit: int = 50, *, settings: DSAgent | None = None) -> list[RunSummary]:
    """Runs in the runs directory, newest first: finished ones and those in progress."""
    store = _store(settings)
    return [store.summary(run_id) for run_id in reversed(store.run_ids()[-limit:])]
