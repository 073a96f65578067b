"""The scikit-learn engine: a small search, each candidate one ``Pipeline`` with its preprocessing.

Fast and light on dependencies, so it also serves where AutoGluon is absent. The
candidates are tried in order of value for time (gradient boosting first) on part of
the training rows and scored on the rest; the best is refitted on all training rows
when its measured fit time says it will finish before the engine's time limit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from ...exceptions import AutoMLError
from ..metrics import CLASSIFICATION, METRICS, score
from ..split import holdout_split
from .base import LEADERBOARD_COLUMNS, Engine, predict_with_proba
from .features import ColumnGroups, categorical_mask, preprocessor

__all__ = ["SklearnEngine", "SklearnModel", "candidates", "load"]

#: Share of the training rows used to score candidates.
VALIDATION_SHARE = 0.2
#: Head-room on the measured fit time when deciding whether a refit will finish.
REFIT_MARGIN = 1.25
MODEL_FILE = "model/pipeline.joblib"


def candidates(
    task: str, groups: ColumnGroups, *, cpus: int, seed: int
) -> Iterator[tuple[str, bool, BaseEstimator]]:
    """``(name, linear, estimator)`` for each candidate, the most promising first."""
    classify = task != "regression"
    mask = categorical_mask(groups)
    categorical = mask if any(mask) else None
    boosting = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    forest = RandomForestClassifier if classify else RandomForestRegressor
    yield (
        "HistGradientBoosting",
        False,
        boosting(categorical_features=categorical, random_state=seed),
    )
    yield "Linear", True, LogisticRegression(max_iter=1000) if classify else Ridge()
    yield (
        "HistGradientBoostingSlow",
        False,
        boosting(
            learning_rate=0.05,
            max_iter=500,
            max_leaf_nodes=63,
            l2_regularization=0.1,
            early_stopping=True,
            categorical_features=categorical,
            random_state=seed,
        ),
    )
    yield "RandomForest", False, forest(n_estimators=300, n_jobs=cpus, random_state=seed)


class SklearnModel:
    """A fitted pipeline with the interface of a trained model."""

    def __init__(self, pipeline: Pipeline, target: str) -> None:
        self.pipeline = pipeline
        self.target = target

    @property
    def classes(self) -> list[Any] | None:
        classes = getattr(self.pipeline, "classes_", None)
        return None if classes is None else list(classes)

    def predict(self, features: pd.DataFrame) -> pd.Series:
        return pd.Series(self.pipeline.predict(features), index=features.index, name=self.target)

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            self.pipeline.predict_proba(features), index=features.index, columns=self.classes
        )

    def predict_from_proba(self, proba: pd.DataFrame) -> pd.Series:
        """The most probable class, which is what these classifiers predict."""
        return pd.Series(proba.idxmax(axis=1), index=proba.index, name=self.target)


def _brief(exc: Exception) -> str:
    """The exception's type and the first line of its message, clipped."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


@dataclass
class _Candidate:
    name: str
    pipeline: Pipeline
    score_val: float | None
    fit_seconds: float
    predict_seconds: float


class SklearnEngine(Engine):
    """Tries the candidates in turn and keeps every one that finishes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metric = METRICS[self.spec.metric]
        self.finished: list[_Candidate] = []
        self.failed: list[Exception] = []
        self.refitted: Pipeline | None = None
        self.best: _Candidate | None = None
        self._model: SklearnModel | None = None

    def _score(self, pipeline: Pipeline, features: pd.DataFrame, truth: pd.Series) -> float | None:
        model = SklearnModel(pipeline, self.spec.target)
        classify = self.spec.task in CLASSIFICATION
        predicted, proba = predict_with_proba(model, features, classify=classify)
        positive = model.classes[-1] if self.spec.task == "binary" and model.classes else None
        return score(self.spec.metric, truth, predicted, proba, positive=positive)

    def _best(self) -> _Candidate | None:
        scored = [c for c in self.finished if c.score_val is not None]
        if not scored:
            return self.finished[0] if self.finished else None
        best = scored[0]
        for candidate in scored[1:]:
            if self.metric.better(candidate.score_val or 0.0, best.score_val or 0.0):
                best = candidate
        return best

    def fit(self, train: pd.DataFrame, time_limit: float) -> None:
        ends = time.time() + time_limit
        target = self.spec.target
        split = holdout_split(
            train,
            target,
            self.spec.task,
            fraction=VALIDATION_SHARE,
            seed=self.spec.seed,
            time_column=self.spec.time_column,
        )
        features, truth = train.drop(columns=[target]), train[target]
        fit_x, fit_y = features.iloc[split.train], truth.iloc[split.train]
        val_x, val_y = features.iloc[split.holdout], truth.iloc[split.holdout]
        groups = ColumnGroups(features)
        if groups.empty:
            listed = ", ".join(json.dumps(name) for name in groups.empty[:10])
            self.notes.append(f"Columns without any value were not used: {listed}.")
        for name, linear, estimator in candidates(
            self.spec.task, groups, cpus=self.spec.cpus, seed=self.spec.seed
        ):
            if self.finished and time.time() >= ends:
                break  # the first candidate always starts: the cut-off bounds it anyway
            pipeline = Pipeline(
                [("prepare", preprocessor(groups, linear=linear)), ("model", estimator)]
            )
            started = time.time()
            try:
                pipeline.fit(fit_x, fit_y)
                fitted = time.time()
                val_score = self._score(pipeline, val_x, val_y)
            except (ValueError, ArithmeticError) as exc:  # this data breaks it
                self.failed.append(exc)
                self.notes.append(f"{name} could not be fitted on this data ({_brief(exc)}).")
                continue
            candidate = _Candidate(
                name, pipeline, val_score, fitted - started, time.time() - fitted
            )
            self.finished.append(candidate)
            self.reporter.model_done(name, val_score)
        best = self._best()
        if best is None:
            return
        needed = best.fit_seconds * len(train) / max(1, len(fit_x)) * REFIT_MARGIN
        if time.time() + needed <= ends:
            try:
                self.refitted = clone(best.pipeline).fit(features, truth)
            except (ValueError, ArithmeticError) as exc:
                self.notes.append(
                    f"{best.name} could not be refitted on all training rows ({_brief(exc)}); "
                    "the model fitted on the validation split is kept."
                )
            else:
                self.best = best

    def finish(self) -> str:
        best = self._best()
        if best is None and self.failed:
            raise AutoMLError(
                f"No scikit-learn model could be fitted on this data: {_brief(self.failed[0])}",
                code="automl_failed",
            )
        if best is None:
            raise AutoMLError(
                "No scikit-learn model finished in the time it had.", code="automl_no_model"
            )
        pipeline = (
            self.refitted if self.refitted is not None and self.best is best else best.pipeline
        )
        self.best = best
        path = self.directory / MODEL_FILE
        path.parent.mkdir(exist_ok=True)
        joblib.dump(pipeline, path)
        self._model = SklearnModel(pipeline, self.spec.target)
        return best.name

    @property
    def model(self) -> SklearnModel:
        if self._model is None:
            raise RuntimeError("finish() has not run")
        return self._model

    def leaderboard(self, holdout: pd.DataFrame | None) -> pd.DataFrame:
        rows = []
        for candidate in self.finished:
            pipeline = self.model.pipeline if candidate is self.best else candidate.pipeline
            holdout_score = None
            if holdout is not None:
                features = holdout.drop(columns=[self.spec.target])
                holdout_score = self._score(pipeline, features, holdout[self.spec.target])
            rows.append(
                {
                    "model": candidate.name,
                    "score_holdout": holdout_score,
                    "score_val": candidate.score_val,
                    "fit_seconds": candidate.fit_seconds,
                    "predict_seconds": candidate.predict_seconds,
                }
            )
        board = pd.DataFrame(rows, columns=list(LEADERBOARD_COLUMNS))
        order = board["score_val"].rank(ascending=not self.metric.greater_is_better)
        return board.assign(_order=order).sort_values("_order").drop(columns="_order")


def load(directory: Path, best_model: str, target: str) -> SklearnModel:
    """The pipeline saved in ``directory`` by :meth:`SklearnEngine.finish`."""
    return SklearnModel(joblib.load(directory / MODEL_FILE), target)
