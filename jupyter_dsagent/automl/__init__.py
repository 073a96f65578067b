"""Time-limited AutoML in a separate process: ``dsa.automl(df, target="y", time_limit=60)``.

The run never blocks the kernel and cannot crash it: it trains in a worker process of
its own (memory limit, lower priority, a hard deadline), and the kernel only watches.
``jupyter_dsagent.automl`` is both this package and the function that starts a run,
so ``dsa.automl(df, "y")`` and ``dsa.automl.load_model(run_id)`` both work.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .api import automl, list_runs, load_model, load_result, warm_up
from .predictor import Predictor
from .progress import Progress
from .result import AutoMLResult
from .run import AutoMLRun, active_runs
from .store import RunSummary

__all__ = [
    "AutoMLResult",
    "AutoMLRun",
    "Predictor",
    "Progress",
    "RunSummary",
    "active_runs",
    "automl",
    "list_runs",
    "load_model",
    "load_result",
    "warm_up",
]


class _CallableModule(types.ModuleType):
    """The package, callable as :func:`automl` (importing it makes it an attribute of
    ``jupyter_dsagent`` that would otherwise hide the function of the same name)."""

    def __call__(self, *args: Any, **kwargs: Any) -> AutoMLRun:
        return automl(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
