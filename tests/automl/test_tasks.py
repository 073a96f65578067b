"""The task comes from the profiler's own rule, and unlearnable targets are refused."""

from __future__ import annotations

import pandas as pd
import pytest

from jupyter_dsagent.automl.tasks import check_metric, choose_task, detect_task
from jupyter_dsagent.exceptions import AutoMLInputError, BadRequest
from jupyter_dsagent.profiling import profile
from tests.automl.conftest import table

CASES = [
    ("seaborn/titanic.csv", "survived"),
    ("seaborn/titanic.csv", "pclass"),
    ("seaborn/titanic.csv", "fare"),
    ("seaborn/iris.csv", "species"),
    ("seaborn/tips.csv", "tip"),
    ("seaborn/tips.csv", "size"),
    ("seaborn/penguins.csv", "sex"),
    ("seaborn/taxis.csv", "pickup"),
]


@pytest.mark.parametrize(("name", "column"), CASES)
def test_the_task_is_the_profilers_target_hint(name: str, column: str) -> None:
    frame = table(name)
    hint = profile(frame, target=column, use_cache=False).target
    assert hint is not None
    assert detect_task(frame[column])[0] == hint.task


def test_an_override_wins_over_detection() -> None:
    tips = table("seaborn/tips.csv")
    assert choose_task(tips["size"], None, max_classes=100) == "multiclass"
    assert choose_task(tips["size"], "regression", max_classes=100) == "regression"


@pytest.mark.parametrize(
    ("values", "override", "words"),
    [
        ([1] * 30, None, "constant"),
        (list(pd.date_range("2024-01-01", periods=30)), None, "dates"),
        ([1, 2] * 5, None, "at least 20"),
        ([f"id{i}" for i in range(300)], None, "more than the limit of 100"),
        (["a", "b", "c"] * 10, "regression", "not numbers"),
        (["a", "b", "c"] * 10, "binary", "has 3 classes"),
        ([float("inf"), float("-inf")] * 15 + [1.0] * 5, None, "has 5 rows with a value"),
    ],
)
def test_unlearnable_targets_are_refused_with_the_reason(
    values: list[object], override: str | None, words: str
) -> None:
    with pytest.raises(AutoMLInputError, match=words) as caught:
        choose_task(pd.Series(values, name="y"), override, max_classes=100)
    assert caught.value.code == "automl_bad_target"


def test_metrics_must_fit_the_task() -> None:
    assert check_metric(None, "regression") == "rmse"
    assert check_metric("roc_auc", "binary") == "roc_auc"
    with pytest.raises(BadRequest, match="does not apply to regression"):
        check_metric("f1", "regression")
    with pytest.raises(BadRequest, match="not one of"):
        check_metric("auc", "binary")
