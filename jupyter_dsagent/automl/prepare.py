"""Check a request and its data in the kernel, before any process is started.

Parameters and data are refused here with one clear sentence (``bad_request``,
``automl_bad_target``, ``automl_too_large``), so a mistake costs nothing. What is
accepted is a private copy of the frame (string column names, sampled when large), the
task, the metric and the engine, ready to be written for the worker.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field

import pandas as pd

from ..config import AUTOML_PRESETS, DSAgent
from ..exceptions import AutoMLInputError, BadRequest
from .engines import ENGINES, available
from .schema import dtype_kind
from .split import sample_rows
from .tasks import check_metric, choose_task

__all__ = ["MIN_TIME_LIMIT", "Prepared", "Request", "prepare"]

#: Shortest budget accepted: a worker needs a few seconds to start at all.
MIN_TIME_LIMIT = 5.0
HOLDOUT_RANGE = (0.05, 0.5)
#: Share of a named time column's values that must read as dates.
TIME_PARSE_SHARE = 0.9


@dataclass(frozen=True)
class Request:
    """The parameters of ``automl()``, checked."""

    target: str
    time_limit: float
    preset: str
    metric: str | None
    engine: str
    holdout: float
    seed: int
    task: str | None
    time_column: str | None

    @classmethod
    def build(
        cls,
        settings: DSAgent,
        *,
        target: object,
        time_limit: float | None,
        preset: str | None,
        metric: str | None,
        engine: str,
        holdout: float,
        seed: int,
        task: str | None,
        time_column: object | None,
    ) -> Request:
        limit = settings.automl_default_seconds if time_limit is None else time_limit
        if not isinstance(limit, numbers.Real) or isinstance(limit, bool):
            raise BadRequest(f"time_limit must be a number of seconds, not {limit!r}.")
        if not MIN_TIME_LIMIT <= float(limit) <= settings.automl_max_seconds:
            raise BadRequest(
                f"time_limit={limit} is outside {MIN_TIME_LIMIT:g} to "
                f"{settings.automl_max_seconds} seconds (DSAgent.automl_max_seconds)."
            )
        chosen_preset = preset or settings.automl_preset
        if chosen_preset not in AUTOML_PRESETS:
            raise BadRequest(f"preset={preset!r} is not one of {', '.join(AUTOML_PRESETS)}.")
        if engine not in ENGINES:
            raise BadRequest(f"engine={engine!r} is not one of {', '.join(ENGINES)}.")
        if not isinstance(holdout, numbers.Real) or not (
            HOLDOUT_RANGE[0] <= float(holdout) <= HOLDOUT_RANGE[1]
        ):
            raise BadRequest(
                f"holdout={holdout!r} must be a fraction from {HOLDOUT_RANGE[0]} to "
                f"{HOLDOUT_RANGE[1]}."
            )
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise BadRequest(f"seed={seed!r} must be a whole number, 0 or more.")
        return cls(
            target=str(target),
            time_limit=float(limit),
            preset=chosen_preset,
            metric=metric,
            engine=engine,
            holdout=float(holdout),
            seed=int(seed),
            task=task,
            time_column=None if time_column is None else str(time_column),
        )


@dataclass(frozen=True)
class Prepared:
    """A frame ready for the worker, and what was decided about it."""

    frame: pd.DataFrame
    task: str
    metric: str
    engine: str
    rows_total: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def _names(columns: list[str]) -> str:
    shown = ", ".join(json.dumps(c) for c in columns[:20])
    return shown + (f" and {len(columns) - 20} more" if len(columns) > 20 else "")


def _check_time_column(frame: pd.DataFrame, request: Request) -> None:
    name = request.time_column
    if name is None:
        return
    if name not in frame.columns:
        raise BadRequest(
            f"time_column={name!r} is not a column; the columns are {_names(list(frame.columns))}."
        )
    if name == request.target:
        raise BadRequest("time_column cannot be the target.")
    column = frame[name]
    kind = dtype_kind(column.dtype)
    if kind == "datetime":
        return
    parsed = pd.to_datetime(column, errors="coerce", format="mixed") if kind == "text" else None
    if (
        parsed is None
        or not parsed.notna().any()
        or (parsed.notna().sum() < TIME_PARSE_SHARE * column.notna().sum())
    ):
        raise BadRequest(f"time_column={name!r} does not hold dates or times ({column.dtype}).")


def prepare(frame: pd.DataFrame, request: Request, settings: DSAgent) -> Prepared:
    """Check ``frame`` against the request and the limits; a private, possibly sampled copy."""
    rows, columns = frame.shape
    if rows > settings.automl_max_rows or columns > settings.automl_max_columns:
        raise AutoMLInputError(
            f"The table has {rows:,} rows and {columns:,} columns; AutoML accepts at most "
            f"{settings.automl_max_rows:,} rows (DSAgent.automl_max_rows) and "
            f"{settings.automl_max_columns:,} columns (DSAgent.automl_max_columns).",
            code="automl_too_large",
        )
    data = frame.rename(columns=str)
    if data.columns.duplicated().any():
        repeated = sorted(set(data.columns[data.columns.duplicated()]))
        raise BadRequest(f"The table has repeated column names: {_names(repeated)}.")
    if request.target not in data.columns:
        raise AutoMLInputError(
            f"There is no column {json.dumps(request.target)} to predict; the columns are "
            f"{_names(list(data.columns))}."
        )
    if columns < 2:
        raise AutoMLInputError("The table has no columns besides the target to learn from.")
    _check_time_column(data, request)
    notes: list[str] = []
    limit = settings.automl_sample_threshold_rows
    if rows > limit:
        data = sample_rows(data, limit, request.seed)
        notes.append(
            f"Trained and evaluated on a seeded random sample of {limit:,} of the {rows:,} rows "
            "(DSAgent.automl_sample_threshold_rows)."
        )
    task = choose_task(data[request.target], request.task, max_classes=settings.automl_max_classes)
    metric = check_metric(request.metric, task)
    engine = request.engine
    if not available(engine):
        if engine == "autogluon" and available("sklearn"):
            engine = "sklearn"
            notes.append("AutoGluon is not installed, so the scikit-learn engine was used.")
        else:
            raise BadRequest(f"The {engine} engine is not installed.")
    return Prepared(data, task, metric, engine, rows, tuple(notes))
