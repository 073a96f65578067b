"""Preprocessing for the scikit-learn engine, inside the pipeline so predict() repeats it.

Module-level functions, because a saved pipeline refers to them by import path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

from ..schema import dtype_kind

__all__ = ["ColumnGroups", "as_float", "as_seconds", "as_text", "categorical_mask", "preprocessor"]

#: One-hot columns per categorical feature for the linear model; rarer values share one.
ONE_HOT_MAX = 30
#: Codes per categorical feature for the tree models (HistGradientBoosting allows 255).
ORDINAL_MAX = 250


class ColumnGroups:
    """Feature names by how they are prepared: numbers, times, categories.

    Columns without a single value are left out (``empty``): they carry nothing to
    learn, and some estimators cannot bin them.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        present = frame.notna().any()
        self.empty = [str(name) for name, some in present.items() if not some]
        kinds = {
            str(name): dtype_kind(dtype)
            for name, dtype in frame.dtypes.items()
            if str(name) not in self.empty
        }
        self.numeric = [n for n, k in kinds.items() if k in ("number", "boolean")]
        self.time = [n for n, k in kinds.items() if k in ("datetime", "timedelta")]
        self.categorical = [n for n, k in kinds.items() if k == "text"]


def as_float(frame: pd.DataFrame) -> np.ndarray:
    """Numbers and booleans as float64; missing and infinite values as NaN."""
    values = np.asarray(frame.astype("float64").to_numpy(dtype="float64", na_value=np.nan))
    values[np.isinf(values)] = np.nan
    return values


def as_seconds(frame: pd.DataFrame) -> np.ndarray:
    """Datetimes as seconds since the epoch and durations as seconds, missing as NaN."""
    columns = []
    for _, series in frame.items():
        if pd.api.types.is_timedelta64_dtype(series.dtype):
            values = series.dt.total_seconds()
        else:
            values = pd.to_datetime(series, errors="coerce", utc=True)
            values = (values - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        columns.append(values.to_numpy(dtype="float64", na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def as_text(frame: pd.DataFrame) -> np.ndarray:
    """Any values as strings (so mixed types encode), missing values as NaN."""
    return np.asarray(frame.astype(object).where(frame.notna(), np.nan).map(_text), dtype=object)


def _text(value: Any) -> Any:
    return value if isinstance(value, float) and np.isnan(value) else str(value)


def preprocessor(groups: ColumnGroups, *, linear: bool) -> ColumnTransformer:
    """Column preparation for a linear model (scaled, one-hot) or trees (ordinal codes).

    For trees the categorical codes come last; :func:`categorical_mask` marks them.
    """
    steps: list[tuple[str, Pipeline, list[str]]] = []
    if linear:
        if groups.numeric:
            numbers = make_pipeline(
                FunctionTransformer(as_float),
                SimpleImputer(strategy="median", keep_empty_features=True),
                StandardScaler(),
            )
            steps.append(("numeric", numbers, groups.numeric))
        if groups.time:
            times = make_pipeline(
                FunctionTransformer(as_seconds),
                SimpleImputer(strategy="median", keep_empty_features=True),
                StandardScaler(),
            )
            steps.append(("time", times, groups.time))
        if groups.categorical:
            categories = make_pipeline(
                FunctionTransformer(as_text),
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    max_categories=ONE_HOT_MAX,
                    sparse_output=False,
                ),
            )
            steps.append(("categorical", categories, groups.categorical))
    else:
        if groups.numeric:
            steps.append(("numeric", make_pipeline(FunctionTransformer(as_float)), groups.numeric))
        if groups.time:
            steps.append(("time", make_pipeline(FunctionTransformer(as_seconds)), groups.time))
        if groups.categorical:
            categories = make_pipeline(
                FunctionTransformer(as_text),
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    max_categories=ORDINAL_MAX,
                ),
            )
            steps.append(("categorical", categories, groups.categorical))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)


def categorical_mask(groups: ColumnGroups) -> list[bool]:
    """Which columns of the tree preprocessor's output are categorical codes."""
    plain = len(groups.numeric) + len(groups.time)
    return [False] * plain + [True] * len(groups.categorical)
