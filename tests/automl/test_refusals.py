"""Mistakes are refused at once, before any process starts, and each refusal is audited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import jupyter_dsagent as dsa
from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.automl import automl
from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.exceptions import AutoMLError, AutoMLInputError, BadRequest
from tests.automl.conftest import table
from tests.paths import SHARED_DATA


def refusals(settings: DSAgent) -> list[str]:
    audit = AuditLog(Path(settings.data_dir) / "audit.sqlite")
    return [r.details["error"] for r in audit.query(kind="automl.start") if r.outcome == "denied"]


def test_automl_is_the_package_and_the_function() -> None:
    assert callable(dsa.automl) and dsa.automl.automl is automl
    assert dsa.load_model is dsa.automl.load_model


def test_a_missing_target_is_named_with_the_columns(settings: DSAgent) -> None:
    with pytest.raises(AutoMLInputError, match='no column "Survived"') as caught:
        automl(table("seaborn/titanic.csv"), "Survived", settings=settings)
    assert caught.value.code == "automl_bad_target" and '"survived"' in caught.value.message
    assert refusals(settings)[0] == "automl_bad_target"


def test_tables_over_the_limits_are_refused(make_settings: Callable[..., DSAgent]) -> None:
    small = make_settings(automl_max_rows=500)
    with pytest.raises(AutoMLInputError, match="891 rows") as caught:
        automl(table("seaborn/titanic.csv"), "survived", settings=small)
    assert caught.value.code == "automl_too_large" and caught.value.http_status == 413
    narrow = make_settings(automl_max_columns=5)
    with pytest.raises(AutoMLInputError, match="automl_max_columns"):
        automl(table("seaborn/titanic.csv"), "survived", settings=narrow)


def test_automl_can_be_turned_off(make_settings: Callable[..., DSAgent]) -> None:
    with pytest.raises(AutoMLError) as caught:
        automl(table("seaborn/iris.csv"), "species", settings=make_settings(automl=False))
    assert caught.value.code == "automl_disabled"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"time_limit": 601}, "automl_max_seconds"),
        ({"time_limit": 2}, "outside 5 to 600"),
        ({"holdout": 0.9}, "holdout=0.9"),
        ({"engine": "xgboost"}, "autogluon, sklearn"),
        ({"preset": "fast"}, "medium_quality"),
        ({"metric": "rmse"}, "does not apply to classification"),
        ({"seed": -1}, "seed=-1"),
        ({"time_column": "nope"}, "not a column"),
        ({"time_column": "sepal_width"}, "does not hold dates"),
        ({"task": "ranking"}, "binary, multiclass, regression"),
    ],
)
def test_bad_parameters_say_what_is_allowed(
    settings: DSAgent, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(BadRequest, match=words):
        automl(table("seaborn/iris.csv"), "species", settings=settings, **options)


def test_something_that_is_no_table_is_refused(settings: DSAgent) -> None:
    with pytest.raises(BadRequest, match="DataFrame or a path"):
        automl([[1, 2], [3, 4]], "y", settings=settings)


def test_a_path_is_checked_in_the_background_and_refused_on_wait(settings: DSAgent) -> None:
    run = automl(SHARED_DATA / "seaborn" / "iris.csv", "colour", settings=settings)
    with pytest.raises(AutoMLError) as caught:
        run.wait()
    assert caught.value.code == "automl_bad_target" and run.status == "failed"
    assert run.pid is None  # no worker was ever started
    assert refusals(settings)[0] == "automl_bad_target"


def test_a_file_that_fails_validation_never_reaches_pandas(settings: DSAgent) -> None:
    page = SHARED_DATA / "messy" / "pd_speech_features_ACTUALLY_HTML.csv"
    with pytest.raises(AutoMLError) as caught:
        automl(page, "class", settings=settings).wait()
    assert caught.value.code == "content_mismatch"
