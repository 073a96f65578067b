"""Which task a target asks for, decided the way the profiler decides it, and checked.

The task comes from :func:`jupyter_dsagent.profiling.target.infer_task` on the target's
column profile, so ``profile(df, target=…)`` and ``automl(df, target)`` agree; a
person may override it. Everything here runs before a process is started, so a bad
target is refused at once with a sentence that says why.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ..exceptions import AutoMLInputError, BadRequest
from ..profiling.columns import profile_column
from ..profiling.target import infer_task
from .metrics import CLASSIFICATION, DEFAULT_METRIC, METRICS, TASKS

__all__ = ["MIN_ROWS", "check_metric", "choose_task", "detect_task", "learnable"]

#: Fewest rows with a target value a run accepts: below it a holdout says nothing.
MIN_ROWS = 20


def learnable(target: pd.Series) -> pd.Series:
    """Which rows hold a target value a model can learn: present, and finite for numbers."""
    known = target.notna()
    if ptypes.is_float_dtype(target.dtype):
        known &= np.isfinite(target.to_numpy(dtype="float64", na_value=np.nan))
    return known


def detect_task(target: pd.Series) -> tuple[str | None, str]:
    """The task the profiler suggests for ``target`` and its reason."""
    column, _ = profile_column(target, target, position=0, name=str(target.name), sampled=False)
    return infer_task(column)


def choose_task(target: pd.Series, override: str | None, *, max_classes: int) -> str:
    """The run's task: ``override`` if given, else detected; refused when unlearnable."""
    name = json.dumps(str(target.name)[:60])
    labelled = target[learnable(target)]
    if len(labelled) < MIN_ROWS:
        raise AutoMLInputError(
            f"The target {name} has {len(labelled)} rows with a value; AutoML needs at "
            f"least {MIN_ROWS}."
        )
    if override is not None and override not in TASKS:
        raise BadRequest(f"task={override!r} is not one of {', '.join(TASKS)}.")
    detected, reason = detect_task(target)
    task = override or detected
    if task is None:
        raise AutoMLInputError(f"Cannot learn the target: {reason}.")
    if task == "regression":
        if not ptypes.is_numeric_dtype(target.dtype) or ptypes.is_bool_dtype(target.dtype):
            raise AutoMLInputError(
                f"The target {name} holds {target.dtype} values, not numbers, so it cannot "
                "be a regression target; use task='multiclass' or convert it first."
            )
        return task
    classes = labelled.nunique()
    if classes < 2:
        raise AutoMLInputError(f"The target {name} has a single class; there is nothing to learn.")
    if task == "binary" and classes != 2:
        raise AutoMLInputError(
            f"task='binary' but the target {name} has {classes} classes; use 'multiclass'."
        )
    if classes > max_classes:
        raise AutoMLInputError(
            f"The target {name} has {classes} classes, more than the limit of {max_classes} "
            "(DSAgent.automl_max_classes): is it an identifier or a number to predict "
            "with task='regression'?"
        )
    return task


def check_metric(metric: str | None, task: str) -> str:
    """The metric a run ranks models by: ``metric`` if it fits the task, else the default."""
    if metric is None:
        return DEFAULT_METRIC[task]
    spec = METRICS.get(metric)
    if spec is None:
        raise BadRequest(f"metric={metric!r} is not one of {', '.join(METRICS)}.")
    if task not in spec.tasks:
        fitting = [name for name, other in METRICS.items() if task in other.tasks]
        kind = "classification" if task in CLASSIFICATION else "regression"
        raise BadRequest(
            f"metric={metric!r} does not apply to {kind}; use one of {', '.join(fitting)}."
        )
    return metric
