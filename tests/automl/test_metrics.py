"""Holdout metrics: the right set per task, agreeing with scikit-learn, and defined only
where they mean something."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from jupyter_dsagent.automl.metrics import (
    DEFAULT_METRIC,
    METRICS,
    confusion,
    holdout_metrics,
    score,
)
from tests.automl.conftest import table


def test_each_task_gets_its_metrics() -> None:
    truth = pd.Series(["a", "b", "a", "b"])
    proba = pd.DataFrame({"a": [0.9, 0.2, 0.6, 0.4], "b": [0.1, 0.8, 0.4, 0.6]})
    binary = holdout_metrics("binary", truth, truth, proba, positive="b")
    assert set(binary) == {"accuracy", "balanced_accuracy", "roc_auc", "f1"}
    numbers = pd.Series([1.0, 2.0, 3.0])
    assert set(holdout_metrics("regression", numbers, numbers, None)) == {
        "rmse",
        "mae",
        "r2",
        "mape",
    }
    assert DEFAULT_METRIC == {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse"}


def test_classification_scores_agree_with_scikit_learn() -> None:
    frame = table("seaborn/titanic.csv")
    truth = frame["survived"]
    predicted = (frame["sex"] == "female").astype(int)
    proba = pd.DataFrame({0: 1 - frame["fare"].rank(pct=True), 1: frame["fare"].rank(pct=True)})
    found = holdout_metrics("binary", truth, predicted, proba, positive=1)
    assert found["accuracy"] == skm.accuracy_score(truth, predicted)
    assert found["balanced_accuracy"] == skm.balanced_accuracy_score(truth, predicted)
    assert found["f1"] == skm.f1_score(truth, predicted)
    assert found["roc_auc"] == skm.roc_auc_score(truth, proba[1])


def test_multiclass_roc_auc_is_one_vs_rest_and_f1_macro() -> None:
    frame = table("seaborn/iris.csv")
    truth = frame["species"]
    predicted = np.where(frame["petal_length"] < 2.5, "setosa", "versicolor")
    raw = pd.DataFrame(
        {
            "setosa": -frame["petal_length"],
            "versicolor": -abs(frame["petal_length"] - 4.3),
            "virginica": frame["petal_length"] - 5,
        }
    )
    scores = np.exp(raw).div(np.exp(raw).sum(axis=1), axis=0)  # probabilities per row
    found = holdout_metrics("multiclass", truth, pd.Series(predicted), scores)
    assert found["f1"] == skm.f1_score(truth, predicted, average="macro")
    expected = skm.roc_auc_score(truth, scores.to_numpy(), multi_class="ovr", labels=list(scores))
    assert math.isclose(found["roc_auc"] or 0, expected)


def test_regression_scores_agree_with_scikit_learn() -> None:
    frame = table("seaborn/tips.csv")
    truth, estimate = frame["tip"], frame["total_bill"] * 0.15
    found = holdout_metrics("regression", truth, estimate, None)
    assert math.isclose(found["rmse"] or 0, math.sqrt(skm.mean_squared_error(truth, estimate)))
    assert math.isclose(found["mae"] or 0, skm.mean_absolute_error(truth, estimate))
    assert math.isclose(found["r2"] or 0, skm.r2_score(truth, estimate))
    assert math.isclose(found["mape"] or 0, skm.mean_absolute_percentage_error(truth, estimate))


def test_mape_leaves_out_zero_truths_and_is_none_when_all_are_zero() -> None:
    truth = pd.Series([0.0, 2.0, 4.0])
    assert score("mape", truth, pd.Series([5.0, 1.0, 5.0])) == (0.5 + 0.25) / 2
    assert score("mape", pd.Series([0.0, 0.0]), pd.Series([1.0, 2.0])) is None


def test_roc_auc_needs_two_classes_in_the_truth() -> None:
    truth = pd.Series([1, 1, 1])
    proba = pd.DataFrame({0: [0.1, 0.2, 0.3], 1: [0.9, 0.8, 0.7]})
    assert score("roc_auc", truth, truth, proba, positive=1) is None


def test_confusion_matrix_counts_true_against_predicted() -> None:
    matrix = confusion(pd.Series(["a", "a", "b"]), pd.Series(["a", "b", "b"]), ["a", "b"])
    assert matrix.to_numpy().tolist() == [[1, 1], [0, 1]]
    assert (matrix.index.name, matrix.columns.name) == ("true", "predicted")


def test_every_metric_names_an_autogluon_metric_for_each_of_its_tasks() -> None:
    from autogluon.core.metrics import METRICS as AUTOGLUON

    for spec in METRICS.values():
        for task in spec.tasks:
            assert spec.autogluon[task] in AUTOGLUON[task]
