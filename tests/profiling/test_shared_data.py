"""Every shared table profiles, with pandas' own counts, sensible target hints and a
summary inside the token budget."""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
import pytest

from jupyter_dsagent.llm import count_tokens
from jupyter_dsagent.profiling import Profile, profile
from tests.ingest.manifest import PROPER_READS
from tests.paths import SHARED_DATA


@cache
def read(name: str) -> pd.DataFrame:
    # low_memory=False: chunked inference gives diabetic_data a mixed column and a
    # DtypeWarning (a reading matter, not the profiler's).
    return pd.read_csv(SHARED_DATA / name, low_memory=False, **PROPER_READS[name])  # type: ignore[arg-type]


@cache
def profiled(name: str) -> Profile:
    return profile(read(name), use_cache=False)


@pytest.mark.parametrize("name", sorted(PROPER_READS))
def test_counts_equal_pandas(name: str) -> None:
    df, result = read(name), profiled(name)
    assert result.rows == len(df)
    assert result.n_columns == df.shape[1]
    missing = df.isna().sum().tolist()
    assert [c.missing for c in result.columns] == missing
    assert result.duplicate_rows == df.duplicated().sum()
    for column in result.columns:
        if column.values_exact:
            series = df.iloc[:, column.position]
            assert column.distinct == series.nunique(dropna=True)
            top = series.value_counts(dropna=True).head(5).tolist()
            assert [n for _, n in column.top_values] == top


@pytest.mark.parametrize("name", sorted(PROPER_READS))
def test_to_dict_is_strict_json(name: str) -> None:
    body = profiled(name).to_dict()
    assert body["schema_version"] == 1
    json.dumps(body, allow_nan=False)


@pytest.mark.parametrize("name", sorted(PROPER_READS))
def test_summary_fits_1500_tokens(name: str) -> None:
    tokens = count_tokens(profiled(name).summary(max_tokens=1500))
    print(f"{name}: {tokens} tokens")
    assert 0 < tokens <= 1500


def test_large_table_is_sampled_but_counts_stay_exact() -> None:
    name = "large/diabetic_data.csv"
    df, result = read(name), profiled(name)
    assert result.sampled and result.sample_rows == 100_000
    assert [c.missing for c in result.columns] == df.isna().sum().tolist()
    assert all(c.values_exact for c in result.columns)


def test_titanic_survived_is_binary_and_alive_leaks() -> None:
    result = profile(read("seaborn/titanic.csv"), target="survived")
    assert result.target is not None and result.target.task == "binary"
    assert result.target.reason
    assert "alive" in result.target.leakage_candidates
    assert [w.column for w in result.warnings_for("possible_leakage")] == ["alive"]


def test_iris_species_is_multiclass_without_leaks() -> None:
    result = profile(read("seaborn/iris.csv"), target="species")
    assert result.target is not None and result.target.task == "multiclass"
    assert result.target.leakage_candidates == ()


def test_taxis_total_leaks_the_fare() -> None:
    result = profile(read("seaborn/taxis.csv"), target="fare")
    assert result.target is not None and result.target.task == "regression"
    assert result.target.leakage_candidates == ("total",)  # r = 0.974: total = fare + ...
    assert "distance" not in result.target.leakage_candidates  # r = 0.92: a real feature


def test_leakage_threshold_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSAGENT_PROFILE_LEAKAGE_VARIANCE_SHARE", "0.99")
    result = profile(read("seaborn/taxis.csv"), target="fare")
    assert result.target is not None and result.target.leakage_candidates == ()
    assert result.thresholds["profile_leakage_variance_share"] == 0.99


def test_diamonds_carat_is_a_feature_not_a_leak() -> None:
    result = profile(read("seaborn/diamonds.csv"), target="price")
    assert result.target is not None and result.target.leakage_candidates == ()


def test_tips_tip_is_regression() -> None:
    result = profile(read("seaborn/tips.csv"), target="tip")
    assert result.target is not None and result.target.task == "regression"


def test_hotel_reservation_status_leaks_cancellation() -> None:
    result = profile(read("messy/hotel_bookings_subset.csv"), target="is_canceled")
    assert result.target is not None
    assert "reservation_status" in result.target.leakage_candidates


def test_hr_attrition_constant_columns() -> None:
    result = profiled("messy/HR_attrition_utf8_bom.csv")
    constant = {w.column for w in result.warnings_for("constant")}
    assert constant == {"EmployeeCount", "Over18", "StandardHours"}


def test_skin_target_is_imbalanced_binary() -> None:
    result = profile(read("large/Skin_NonSkin.txt"), target=3)
    assert result.target is not None and result.target.task == "binary"
    assert not result.warnings_for("imbalanced_target")  # 21% minority is not below 10%


def test_wide_table_keeps_every_column_name() -> None:
    result = profiled("messy/crimedata_latin1_wide.csv")
    text = result.summary()
    assert all(json.dumps(c.name[:57]).rstrip('"') in text for c in result.columns)
