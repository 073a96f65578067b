"""A run's best model, loaded back for predictions that check their input first.

``predict(df)`` refuses data whose columns or dtypes differ from the training data and
says exactly how (missing, extra, which dtype) instead of letting the engine guess.
The model files are the worker's own output in the private data directory; a run is
only loaded through its checked id, never from a path given by someone else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import AutoMLError, BadRequest
from .engines import model_loader
from .metrics import CLASSIFICATION
from .progress import read_json
from .schema import ColumnSpec, check_frame
from .store import RESULT_FILE

__all__ = ["Predictor"]


class Predictor:
    """Predicts with the best model of one run.

    Attributes
    ----------
    run_id, task, target : str
    features : tuple of ColumnSpec
        The input columns, in training order, with their dtype and kind.
    classes : list or None
        Class labels for classification, in ``predict_proba``'s column order.
    """

    def __init__(self, result: dict[str, Any], directory: Path) -> None:
        self.run_id = str(result["run_id"])
        self.task = str(result["task"])
        self.target = str(result["target"])
        self.best_model = str(result["best_model"])
        self.features = tuple(ColumnSpec(**column) for column in result["features"])
        self._model = model_loader(result["engine"])(directory, self.best_model, self.target)
        self.classes: list[Any] | None = self._model.classes

    @classmethod
    def from_run(cls, directory: Path) -> Predictor:
        result = read_json(directory / RESULT_FILE)
        if result is None or result.get("status") != "done":
            raise AutoMLError(
                f"The run in {directory.name} has no model: it did not finish with one.",
                code="automl_no_model",
            )
        return cls(result, directory)

    def check(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame``'s feature columns in training order; SchemaMismatch when they differ."""
        return check_frame(frame, self.features, target=self.target)

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Predicted target for each row of ``frame`` (index kept)."""
        features = self.check(frame)
        return self._model.predict(features).rename(self.target)

    def predict_proba(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Probability of each class (columns) for each row of ``frame``."""
        if self.task not in CLASSIFICATION:
            raise BadRequest(f"Run {self.run_id} is a regression: it has no class probabilities.")
        return self._model.predict_proba(self.check(frame))

    def __repr__(self) -> str:
        return (
            f"<Predictor run={self.run_id} task={self.task} target={self.target!r} "
            f"model={self.best_model} features={len(self.features)}>"
        )
