"""The holdout is seeded, stratified for classes, the latest rows for a time column, and
never shares a row with the training part."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jupyter_dsagent.automl.split import holdout_split, sample_rows
from tests.automl.conftest import table


def test_stratified_split_keeps_each_class_share() -> None:
    frame = table("seaborn/penguins.csv")
    split = holdout_split(frame, "species", "multiclass", fraction=0.2, seed=0)
    everything = np.sort(np.concatenate([split.train, split.holdout]))
    assert np.array_equal(everything, np.arange(len(frame)))
    assert not set(split.train) & set(split.holdout)
    held = frame["species"].iloc[split.holdout].value_counts()
    for label, count in frame["species"].value_counts().items():
        assert abs(held[label] - count * 0.2) <= 1
    assert split.describe()["strategy"] == "stratified"


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    frame = table("seaborn/titanic.csv")
    first = holdout_split(frame, "survived", "binary", fraction=0.2, seed=3)
    again = holdout_split(frame, "survived", "binary", fraction=0.2, seed=3)
    other = holdout_split(frame, "survived", "binary", fraction=0.2, seed=4)
    assert np.array_equal(first.holdout, again.holdout)
    assert not np.array_equal(first.holdout, other.holdout)


def test_a_class_with_one_row_trains_and_is_named() -> None:
    frame = pd.DataFrame({"x": range(21), "y": ["a"] * 10 + ["b"] * 10 + ["rare"]})
    split = holdout_split(frame, "y", "multiclass", fraction=0.2, seed=0)
    assert 20 in split.train
    assert split.details["train_only_classes"] == ["rare"]


def test_time_split_holds_out_the_latest_rows() -> None:
    frame = table("seaborn/taxis.csv")
    frame.loc[5, "pickup"] = None
    split = holdout_split(frame, "fare", "regression", fraction=0.25, seed=0, time_column="pickup")
    times = pd.to_datetime(frame["pickup"])
    assert times.iloc[split.holdout].min() >= times.iloc[split.train].max()
    assert 5 in split.train and split.details["rows_without_time_in_train"] == 1
    assert len(split.holdout) == round((len(frame) - 1) * 0.25)


def test_regression_split_is_uniform_and_sized() -> None:
    frame = table("seaborn/tips.csv")
    split = holdout_split(frame, "tip", "regression", fraction=0.3, seed=1)
    assert (len(split.train), len(split.holdout)) == (len(frame) - 73, 73)
    assert split.strategy == "random"


def test_sampling_is_seeded_keeps_order_and_leaves_small_frames_alone() -> None:
    frame = table("seaborn/taxis.csv")
    sample = sample_rows(frame, 500, seed=2)
    assert len(sample) == 500 and sample.index.is_monotonic_increasing
    assert sample.index.equals(sample_rows(frame, 500, seed=2).index)
    assert sample_rows(frame, len(frame), seed=2) is frame
