"""What a finished run gives back: scores, leaderboard, importance, and how it went.

Built from ``result.json``, so a result read back later (``load_result``) is the same
object as the one ``run.wait()`` returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["AutoMLResult"]


class AutoMLResult:
    """The outcome of an AutoML run that produced a model.

    Attributes
    ----------
    run_id : str
        The run's id; ``load_model(run_id)`` returns its predictor.
    task, target, metric, engine : str
        What was learned, from which column, ranked by which metric, with which engine.
    score : float or None
        The holdout score of the best model in ``metric``.
    metrics : dict
        Holdout metrics that apply to the task: ``accuracy``, ``balanced_accuracy``,
        ``roc_auc``, ``f1`` for classification; ``rmse``, ``mae``, ``r2``, ``mape`` for
        regression. None where one is undefined (a single class in the holdout, …).
    leaderboard : DataFrame
        Every finished model with ``score_holdout``, ``score_val``, ``fit_seconds`` and
        ``predict_seconds``.
    confusion_matrix : DataFrame or None
        True class (rows) against predicted class (columns), for classification.
    residuals : DataFrame or None
        For regression, ``actual``, ``predicted`` and ``residual`` (actual - predicted)
        of up to 1 000 evenly spaced holdout rows: what the residual plot shows.
    feature_importance : DataFrame
        Permutation importance on the holdout; ``repeats`` 0 means not reached in time.
    models_finished : int
        Models the engine finished in time, ensembles included.
    deadline_hit : bool
        True when the engine did not end by its cut-off: the runner stopped it (or
        killed the worker), or let it run on to finish a first model.
    sampled : bool
        True when a seeded sample of the rows was used (see ``rows``).
    leakage_candidates : list of str
        Feature columns the profiler's leakage check flags: they almost determine the
        target in the training rows (also said in ``notes``).
    timings : dict
        Seconds per step, and ``wall`` from ``automl()`` to the result.
    notes : list of str
        Sentences about anything sampled, skipped or cut short.
    """

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data = data
        self.path = path

    @property
    def run_id(self) -> str:
        return str(self.data.get("run_id"))

    @property
    def task(self) -> str:
        return str(self.data.get("task"))

    @property
    def target(self) -> str:
        return str(self.data.get("target"))

    @property
    def metric(self) -> str:
        return str(self.data.get("metric"))

    @property
    def engine(self) -> str:
        return str(self.data.get("engine"))

    @property
    def best_model(self) -> str:
        return str(self.data.get("best_model"))

    @property
    def score(self) -> float | None:
        value = self.data.get("score")
        return None if value is None else float(value)

    @property
    def models_finished(self) -> int:
        """Models the engine finished within the time limit (ensembles included)."""
        return int(self.data.get("models_finished") or 0)

    @property
    def rows(self) -> dict[str, int]:
        """Rows in the data given, used (after sampling), trained on and held out."""
        return dict(self.data.get("rows") or {})

    @property
    def split(self) -> dict[str, Any]:
        """How the holdout was chosen: strategy, sizes, and its details."""
        return dict(self.data.get("split") or {})

    @property
    def metrics(self) -> dict[str, float | None]:
        return dict(self.data.get("metrics") or {})

    @property
    def leaderboard(self) -> pd.DataFrame:
        return pd.DataFrame(self.data.get("leaderboard") or [])

    @property
    def feature_importance(self) -> pd.DataFrame:
        return pd.DataFrame(
            self.data.get("feature_importance") or [],
            columns=["feature", "importance", "std", "repeats"],
        )

    @property
    def confusion_matrix(self) -> pd.DataFrame | None:
        matrix = self.data.get("confusion_matrix")
        if not matrix:
            return None
        labels = matrix["labels"]
        return pd.DataFrame(
            matrix["matrix"],
            index=pd.Index(labels, name="true"),
            columns=pd.Index(labels, name="predicted"),
        )

    @property
    def residuals(self) -> pd.DataFrame | None:
        points = self.data.get("residuals")
        if not points:
            return None
        frame = pd.DataFrame({"actual": points["actual"], "predicted": points["predicted"]})
        frame["residual"] = frame["actual"] - frame["predicted"]
        return frame

    @property
    def deadline_hit(self) -> bool:
        return bool(self.data.get("deadline_hit"))

    @property
    def sampled(self) -> bool:
        return bool(self.data.get("sampled"))

    @property
    def leakage_candidates(self) -> list[str]:
        return list(self.data.get("leakage_candidates") or [])

    @property
    def timings(self) -> dict[str, float]:
        return dict(self.data.get("timings") or {})

    @property
    def notes(self) -> list[str]:
        return list(self.data.get("notes") or [])

    def load_model(self) -> Any:
        """The run's predictor (see :func:`jupyter_dsagent.automl.load_model`)."""
        from .predictor import Predictor

        return Predictor.from_run(self.path)

    def to_dict(self) -> dict[str, Any]:
        """The JSON content of ``result.json``."""
        return dict(self.data)

    def __repr__(self) -> str:
        score = self.data.get("score")
        shown = "n/a" if score is None else f"{score:.4g}"
        return (
            f"<AutoMLResult {self.data.get('run_id')} {self.data.get('task')} "
            f"{self.data.get('metric')}={shown} best={self.data.get('best_model')} "
            f"deadline_hit={self.deadline_hit}>"
        )
