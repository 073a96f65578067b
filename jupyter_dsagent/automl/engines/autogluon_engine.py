"""The AutoGluon engine: ``TabularPredictor`` with LightGBM and the scikit-learn models.

AutoGluon writes each model to disk as it finishes and saves the predictor before it
starts, so an interrupted fit still leaves a usable predictor once the trainer (which
holds the list of finished models) is saved too; a callback keeps a handle on the
trainer and reports every finished model. Torch-based models and the GPU probe are
left out: they need packages we do not install and only add warnings.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from autogluon.core.callbacks import AbstractCallback
from autogluon.tabular import TabularPredictor
from autogluon.tabular.configs.hyperparameter_configs import get_hyperparameter_config
from autogluon.tabular.configs.presets_configs import tabular_presets_dict
from pandas.api import types as ptypes

from ...exceptions import AutoMLError
from ..budget import Budget
from ..metrics import METRICS
from .base import LEADERBOARD_COLUMNS, Engine, Reporter

__all__ = [
    "MODEL_FAMILIES",
    "AutoGluonEngine",
    "AutoGluonModel",
    "load",
    "plain_dtypes",
    "portfolio",
]

#: LightGBM and the scikit-learn models: everything AutoGluon fits without torch,
#: CatBoost or XGBoost.
MODEL_FAMILIES = ("GBM", "RF", "XT", "KNN", "LR")
#: A model is not started with less than this many seconds left before the cut-off.
MIN_MODEL_SECONDS = 0.5
#: Head-room on the expected time of predicting the holdout.
PREDICT_MARGIN = 1.5
MODEL_DIR = "model"


def portfolio(preset: str) -> dict[str, Any]:
    """The preset's hyperparameters, kept to the model families in MODEL_FAMILIES."""
    name = tabular_presets_dict.get(preset, {}).get("hyperparameters", "default")
    config = get_hyperparameter_config(name)
    return {family: config[family] for family in MODEL_FAMILIES if family in config}


class _Tracker(AbstractCallback):
    """Keeps the trainer, reports finished models, and starts none it cannot finish.

    A new model is not started when there is not time left for it and for predicting
    the holdout with the models already fitted (their measured validation prediction
    time, scaled to the holdout's rows): a slow-to-predict model moves the cut-off
    earlier, so the evaluation still ends by the deadline.
    """

    def __init__(self, reporter: Reporter, sign: float, budget: Budget, holdout_rows: int) -> None:
        super().__init__()
        self.reporter = reporter
        self.sign = sign
        self.budget = budget
        self.holdout_rows = holdout_rows
        self.trainer: Any = None

    def _evaluation_seconds(self, trainer: Any) -> float:
        rows = trainer.num_rows_val_for_calibration
        if not rows:
            return 0.0
        seconds = sum(
            trainer.get_model_attribute(name, "predict_time") or 0.0
            for name in trainer.get_model_names()
        )
        return PREDICT_MARGIN * seconds * self.holdout_rows / rows

    def latest_start(self, trainer: Any) -> float:
        """The last moment a new model may start."""
        budget = self.budget
        evaluated = budget.finish_by - budget.importance_limit - self._evaluation_seconds(trainer)
        return min(budget.fit_cutoff, evaluated) - MIN_MODEL_SECONDS

    def before_trainer_fit(self, trainer: Any, **kwargs: Any) -> None:
        self.trainer = trainer

    def _before_model_fit(
        self,
        trainer: Any,
        model: Any,
        time_limit: float | None = None,
        stack_name: str = "core",
        level: int = 1,
    ) -> tuple[bool, bool]:
        return time.time() > self.latest_start(trainer), False

    def _after_model_fit(
        self, trainer: Any, model_names: list[str], stack_name: str = "core", level: int = 1
    ) -> bool:
        for name in model_names:
            score = trainer.get_model_attribute(name, "val_score")
            self.reporter.model_done(name, None if score is None else self.sign * float(score))
        return False


def plain_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with pandas' nullable and pyarrow columns as numpy ones, which AutoGluon
    reads (its feature generators stumble on ``pd.NA``).

    Numbers and booleans keep their numpy dtype when nothing is missing, else become
    float64 with NaN; text becomes object with NaN; categories and dates stay as they are.
    """
    plain = frame.copy(deep=False)
    for name, column in frame.items():
        dtype = column.dtype
        if isinstance(dtype, np.dtype | pd.CategoricalDtype | pd.DatetimeTZDtype):
            continue
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype):
            if column.hasnans or not isinstance(numpy_dtype, np.dtype):
                plain[name] = column.to_numpy(dtype="float64", na_value=np.nan)
            else:
                plain[name] = column.to_numpy(dtype=numpy_dtype)
        else:
            plain[name] = column.astype(object).where(column.notna(), np.nan)
    return plain


class AutoGluonModel:
    """One model of a fitted ``TabularPredictor`` (by default its best)."""

    def __init__(self, predictor: Any, name: str) -> None:
        self.predictor = predictor
        self.name = name

    @property
    def classes(self) -> list[Any] | None:
        if self.predictor.problem_type == "regression":
            return None
        return list(self.predictor.class_labels)

    def predict(self, features: pd.DataFrame) -> pd.Series:
        return self.predictor.predict(plain_dtypes(features), model=self.name)

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame:
        return self.predictor.predict_proba(
            plain_dtypes(features), model=self.name, as_multiclass=True
        )

    def predict_from_proba(self, proba: pd.DataFrame) -> pd.Series:
        """What ``predict`` would say, decision threshold included, without predicting again."""
        return self.predictor.predict_from_proba(proba)


class AutoGluonEngine(Engine):
    """Fits a ``TabularPredictor`` under ``runs/<id>/model``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = METRICS[self.spec.metric]
        self.sign = 1.0 if spec.greater_is_better else -1.0
        self.path = self.directory / MODEL_DIR
        holdout_rows = round(self.spec.rows_used * self.spec.holdout)
        self.tracker = _Tracker(self.reporter, self.sign, self.spec.budget, holdout_rows)
        self.predictor: Any = None
        self.completed = False
        self._model: AutoGluonModel | None = None

    def fit(self, train: pd.DataFrame, time_limit: float) -> None:
        self.predictor = TabularPredictor(
            label=self.spec.target,
            problem_type=self.spec.task,
            eval_metric=METRICS[self.spec.metric].autogluon[self.spec.task],
            path=str(self.path),
            verbosity=2,
        )
        self.predictor.fit(
            plain_dtypes(train),
            time_limit=time_limit,
            presets=self.spec.preset,
            hyperparameters=portfolio(self.spec.preset),
            num_cpus=self.spec.cpus,
            num_gpus=0,
            dynamic_stacking=False,
            callbacks=[self.tracker],
            raise_on_no_models_fitted=False,
        )
        self.completed = True

    def finish(self) -> str:
        trainer = self.tracker.trainer
        names = trainer.get_model_names() if trainer is not None else []
        if not names:
            raise AutoMLError(
                "AutoGluon did not finish any model in the time it had.", code="automl_no_model"
            )
        if not self.completed:  # interrupted: save what finished and load it back
            if trainer.model_best not in names:
                trainer.model_best = trainer.get_model_best()
            trainer.reset_callbacks()  # ours hold the worker's reporter: not for the saved model
            trainer.save()
            self.predictor = TabularPredictor.load(str(self.path), verbosity=0)
        self._model = AutoGluonModel(self.predictor, trainer.model_best)
        return str(trainer.model_best)

    @property
    def model(self) -> AutoGluonModel:
        if self._model is None:
            raise RuntimeError("finish() has not run")
        return self._model

    def leaderboard(self, holdout: pd.DataFrame | None) -> pd.DataFrame:
        data = None if holdout is None else plain_dtypes(holdout)
        board = self.predictor.leaderboard(data, silent=True)
        result = pd.DataFrame(
            {
                "model": board["model"],
                "score_holdout": self.sign * board["score_test"] if holdout is not None else None,
                "score_val": self.sign * board["score_val"],
                "fit_seconds": board["fit_time"],
                "predict_seconds": board["pred_time_val"],
            }
        )
        return result.loc[:, list(LEADERBOARD_COLUMNS)]


def load(directory: Path, best_model: str, target: str) -> AutoGluonModel:
    """The model ``best_model`` of the predictor saved in ``directory``."""
    predictor = TabularPredictor.load(str(directory / MODEL_DIR), verbosity=0)
    return AutoGluonModel(predictor, best_model)
