"""The input schema a model was trained on, and the check new data must pass.

Dtypes are compared by kind (number, boolean, datetime, timedelta, text), not exactly:
an integer column that arrives as floats because of a missing value is still a number,
but text where a number was expected is an error that names the column.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from ..exceptions import BadRequest, SchemaMismatch

__all__ = ["ColumnSpec", "check_frame", "dtype_kind", "frame_schema"]

#: Names listed in full in an error message before "and N more".
MAX_LISTED = 20


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, its pandas dtype and the dtype's kind."""

    name: str
    dtype: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def dtype_kind(dtype: Any) -> str:
    """number, boolean, datetime, timedelta or text (strings, categories, objects)."""
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timedelta"
    if ptypes.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "number"
    return "text"


def frame_schema(frame: pd.DataFrame) -> tuple[ColumnSpec, ...]:
    """The schema of ``frame``'s columns, in order."""
    return tuple(
        ColumnSpec(str(name), str(dtype), dtype_kind(dtype)) for name, dtype in frame.dtypes.items()
    )


def _listed(names: list[str]) -> str:
    shown = ", ".join(json.dumps(name) for name in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def check_frame(frame: Any, schema: tuple[ColumnSpec, ...], *, target: str) -> pd.DataFrame:
    """``frame``'s feature columns in training order, or SchemaMismatch saying what differs.

    The target column may be present (it is dropped); any other column the model does
    not know is an error, as is a missing one or one of another kind. A column whose
    values are all missing passes whatever its dtype: it tells nothing about its type.
    """
    if not isinstance(frame, pd.DataFrame):
        raise BadRequest(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    data = frame.rename(columns=str)
    if data.columns.duplicated().any():
        repeated = sorted(set(data.columns[data.columns.duplicated()]))
        raise SchemaMismatch(f"The data has repeated column names: {_listed(repeated)}.")
    expected = {column.name: column for column in schema}
    present = [name for name in data.columns if name != target]
    missing = tuple(name for name in expected if name not in data.columns)
    extra = tuple(name for name in present if name not in expected)
    dtypes: dict[str, tuple[str, str]] = {}
    for name, column in expected.items():
        if name not in data.columns:
            continue
        found = data[name]
        kind = dtype_kind(found.dtype)
        if kind != column.kind and found.notna().any():
            dtypes[name] = (f"{column.kind} ({column.dtype})", f"{kind} ({found.dtype})")
    if missing or extra or dtypes:
        parts = []
        if missing:
            parts.append(f"missing columns: {_listed(list(missing))}")
        if extra:
            parts.append(f"extra columns: {_listed(list(extra))}")
        for name, (want, got) in list(dtypes.items())[:MAX_LISTED]:
            parts.append(f"column {json.dumps(name)} is {got} but was {want} in training")
        raise SchemaMismatch(
            "The data does not match what the model was trained on: " + "; ".join(parts) + ".",
            missing=missing,
            extra=extra,
            dtypes=dtypes,
        )
    return data[list(expected)]
