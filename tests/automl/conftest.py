"""Fixtures for the AutoML tests: real tables from the shared data, settings per module.

Runs in the tests use niceness 0: a run competes with nothing of the test's own, and a
lower priority only makes the test at the mercy of whatever else the machine runs.
The niceness setting itself is checked on a live worker in test_process_limits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_dsagent.config import DSAgent
from tests.paths import SHARED_DATA

#: Columns that restate the target; a model learning from them proves nothing.
LEAKS = {
    "seaborn/titanic.csv": ["alive"],
    "messy/hotel_bookings_subset.csv": ["reservation_status", "reservation_status_date"],
}


@cache
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(SHARED_DATA / name).drop(columns=LEAKS.get(name, []))


def table(name: str) -> pd.DataFrame:
    """A fresh copy of a shared table, leak columns dropped."""
    return _read(name).copy()


@pytest.fixture(scope="module")
def make_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., DSAgent]:
    """Settings over one private data dir per test module, with any setting changed."""
    data_dir = tmp_path_factory.mktemp("automl") / "dsagent"

    def make(**changes: Any) -> DSAgent:
        values: dict[str, Any] = {"data_dir": str(data_dir), "automl_niceness": 0}
        values.update(changes)
        return DSAgent(environ={}, **values).validate()

    return make


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., DSAgent]) -> DSAgent:
    return make_settings()


@pytest.fixture(scope="module")
def runs_dir(settings: DSAgent) -> Path:
    return Path(settings.data_dir) / "runs"
