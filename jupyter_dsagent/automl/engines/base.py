"""What an engine does for the worker, and what a trained model offers afterwards.

An engine fits on the training part within a time limit and may be interrupted at any
moment by :class:`~jupyter_dsagent.automl.alarm.Cutoff`; :meth:`Engine.finish` then makes
the best model that finished usable, or raises ``automl_no_model``. Engines keep every
piece of state on ``self`` as soon as it exists, so nothing finished is lost to an
interruption.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ..spec import RunSpec

__all__ = ["LEADERBOARD_COLUMNS", "Engine", "Reporter", "TrainedModel", "predict_with_proba"]

#: Leaderboard columns, scores in the metric's natural direction.
LEADERBOARD_COLUMNS = ("model", "score_holdout", "score_val", "fit_seconds", "predict_seconds")


class Reporter(Protocol):
    """Receives each finished model, to report progress."""

    def model_done(self, name: str, score: float | None) -> None: ...


class TrainedModel(Protocol):
    """A fitted model as the worker and ``load_model`` use it."""

    @property
    def classes(self) -> list[Any] | None: ...

    def predict(self, features: pd.DataFrame) -> pd.Series: ...

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame: ...

    def predict_from_proba(self, proba: pd.DataFrame) -> pd.Series: ...


def predict_with_proba(
    model: TrainedModel, features: pd.DataFrame, *, classify: bool
) -> tuple[pd.Series, pd.DataFrame | None]:
    """Predictions, and class probabilities for classification, from one pass of the model."""
    if not classify:
        return model.predict(features), None
    proba = model.predict_proba(features)
    return model.predict_from_proba(proba), proba


class Engine(ABC):
    """One way of fitting models within a time limit."""

    def __init__(self, spec: RunSpec, directory: Path, reporter: Reporter) -> None:
        self.spec = spec
        self.directory = directory
        self.reporter = reporter
        #: What the person should know about the fit (e.g. a candidate that failed).
        self.notes: list[str] = []

    @abstractmethod
    def fit(self, train: pd.DataFrame, time_limit: float) -> None:
        """Fit on ``train`` (features and target) within about ``time_limit`` seconds."""

    @abstractmethod
    def finish(self) -> str:
        """Make the best finished model usable and saved; return its name."""

    @property
    @abstractmethod
    def model(self) -> TrainedModel:
        """The best model, after :meth:`finish`."""

    @abstractmethod
    def leaderboard(self, holdout: pd.DataFrame | None) -> pd.DataFrame:
        """Every finished model with its scores; holdout scores when ``holdout`` is given."""
