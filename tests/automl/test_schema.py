"""Predictions check their input: missing, extra and retyped columns are named exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_dsagent.automl.schema import check_frame, frame_schema
from jupyter_dsagent.exceptions import SchemaMismatch
from tests.automl.conftest import table


@pytest.fixture
def trained() -> pd.DataFrame:
    return table("seaborn/titanic.csv").drop(columns=["survived"])


def test_matching_data_comes_back_in_training_order(trained: pd.DataFrame) -> None:
    schema = frame_schema(trained)
    shuffled = table("seaborn/titanic.csv")[list(reversed(trained.columns))]
    checked = check_frame(shuffled, schema, target="survived")
    assert list(checked.columns) == list(trained.columns)


def test_the_target_column_may_be_present(trained: pd.DataFrame) -> None:
    with_target = table("seaborn/titanic.csv")
    assert "survived" not in check_frame(with_target, frame_schema(trained), target="survived")


def test_missing_extra_and_retyped_columns_are_all_named(trained: pd.DataFrame) -> None:
    bad = trained.drop(columns=["age", "fare"]).assign(cabin="C85")
    bad["pclass"] = bad["pclass"].astype(str)
    with pytest.raises(SchemaMismatch) as caught:
        check_frame(bad, frame_schema(trained), target="survived")
    error = caught.value
    assert error.code == "automl_schema_mismatch"
    assert error.missing == ("age", "fare") and error.extra == ("cabin",)
    assert error.dtypes == {"pclass": ("number (int64)", "text (object)")}
    for text in ('missing columns: "age", "fare"', 'extra columns: "cabin"', '"pclass" is text'):
        assert text in error.message


def test_whole_numbers_arriving_as_floats_and_empty_columns_pass(trained: pd.DataFrame) -> None:
    data = trained.copy()
    data["pclass"] = data["pclass"].astype(float)
    data["deck"] = np.nan
    assert check_frame(data, frame_schema(trained), target="survived").shape == trained.shape
