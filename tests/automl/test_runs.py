"""Real runs with real AutoGluon and scikit-learn on small shared tables, short budgets.

One AutoGluon run on titanic is shared by the tests that read its result; the others
each start the run they are about.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_dsagent.audit import AuditLog, AuditRecord
from jupyter_dsagent.automl import (
    AutoMLResult,
    AutoMLRun,
    Progress,
    automl,
    list_runs,
    load_model,
    load_result,
)
from jupyter_dsagent.automl.progress import PHASES, STATUSES
from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.exceptions import SchemaMismatch
from jupyter_dsagent.ingest import ingestor_for
from tests.automl.conftest import table
from tests.paths import SHARED_DATA

pytestmark = pytest.mark.slow

CLASSIFICATION_METRICS = {"accuracy", "balanced_accuracy", "roc_auc", "f1"}
REGRESSION_METRICS = {"rmse", "mae", "r2", "mape"}


def audit_records(settings: DSAgent, kind: str, run_id: str) -> list[AuditRecord]:
    audit = AuditLog(Path(settings.data_dir) / "audit.sqlite")
    return [r for r in audit.query(kind=kind, limit=1000) if r.subject == run_id]


class Recorder:
    """Collects the progress reports a run sends to its callbacks."""

    def __init__(self) -> None:
        self.reports: list[Progress] = []
        self.lock = threading.Lock()

    def __call__(self, progress: Progress) -> None:
        with self.lock:
            self.reports.append(progress)


@pytest.fixture(scope="module")
def titanic(settings: DSAgent) -> tuple[AutoMLRun, AutoMLResult, Recorder]:
    recorder = Recorder()
    run = automl(table("seaborn/titanic.csv"), "survived", time_limit=15, settings=settings)
    run.on_progress(recorder)
    result = run.wait()
    return run, result, recorder


def test_binary_run_reports_the_classification_metrics(titanic: tuple) -> None:
    run, result, _ = titanic
    assert run.status == "done" and result.task == "binary" and result.engine == "autogluon"
    assert set(result.metrics) == CLASSIFICATION_METRICS
    assert all(0.5 < value <= 1.0 for value in result.metrics.values())
    assert result.score == result.metrics["accuracy"] and result.metric == "accuracy"
    assert result.leakage_candidates == []  # the shared tables' leak columns are dropped


def test_a_column_that_restates_the_target_is_named_before_the_scores(
    settings: DSAgent,
) -> None:
    frame = table("seaborn/titanic.csv")
    frame["alive"] = frame["survived"].map({0: "no", 1: "yes"})  # as in the original table
    result = automl(frame, "survived", time_limit=10, engine="sklearn", settings=settings).wait()
    assert result.leakage_candidates == ["alive"]
    [note] = [note for note in result.notes if "leakage" in note]
    assert '"alive"' in note and 'df.drop(columns=["alive"])' in note


def test_the_holdout_is_a_stratified_fifth_set_aside_first(titanic: tuple) -> None:
    _, result, _ = titanic
    frame = table("seaborn/titanic.csv")
    assert result.split["strategy"] == "stratified"
    rows = result.rows
    assert (rows["total"], rows["used"], rows["train"] + rows["holdout"]) == (891, 891, 891)
    assert abs(rows["holdout"] - 891 * 0.2) <= 2  # a fifth of each class, rounded
    matrix = result.confusion_matrix
    assert matrix is not None and int(matrix.to_numpy().sum()) == rows["holdout"]
    assert result.residuals is None
    held = matrix.sum(axis=1)  # true classes of the holdout
    for label, count in frame["survived"].value_counts().items():
        assert abs(held[label] - count * 0.2) <= 1


def test_leaderboard_and_feature_importance_are_tables(titanic: tuple) -> None:
    _, result, _ = titanic
    board = result.leaderboard
    assert list(board.columns) == [
        "model",
        "score_holdout",
        "score_val",
        "fit_seconds",
        "predict_seconds",
    ]
    assert result.best_model in set(board["model"]) and result.models_finished >= 1
    importance = result.feature_importance
    features = [c["name"] for c in result.data["features"]]
    assert sorted(importance["feature"]) == sorted(features) and "survived" not in features
    assert (importance["repeats"] > 0).any()


def test_the_run_directory_keeps_model_result_and_log(
    titanic: tuple, runs_dir: Path, settings: DSAgent
) -> None:
    run, result, _ = titanic
    directory = runs_dir / run.run_id
    assert result.path == directory
    stored = json.loads((directory / "result.json").read_text())
    for key in ("config", "split", "metrics", "leaderboard", "timings", "versions"):
        assert stored[key], key
    assert stored["config"]["time_limit"] == 15 and stored["versions"]["autogluon.tabular"]
    assert "wall" in stored["timings"] and "fit" in stored["timings"]
    assert "Fitting model" in (directory / "run.log").read_text()
    assert (directory / "model").is_dir() and not (directory / "input.pkl").exists()
    assert load_result(run.run_id, settings=settings).to_dict() == stored


def test_progress_callbacks_saw_the_models_finish(titanic: tuple) -> None:
    run, result, recorder = titanic
    assert recorder.reports[-1].status == "done"
    assert all(r.status in STATUSES and r.phase in PHASES for r in recorder.reports)
    assert max(report.models_done for report in recorder.reports) == result.models_finished
    assert any(report.best_score is not None for report in recorder.reports)
    assert run.progress.status == "done" and run.progress.models_done == result.models_finished


def test_start_and_end_are_in_the_audit_log(titanic: tuple, settings: DSAgent) -> None:
    run, result, _ = titanic
    (start,) = audit_records(settings, "automl.start", run.run_id)
    (end,) = audit_records(settings, "automl.end", run.run_id)
    assert start.outcome == "ok" and start.details["rows"] == 891
    assert start.details["engine"] == "autogluon" and start.details["time_limit"] == 15
    assert end.outcome == "ok" and end.details["metrics"] == result.metrics
    assert end.details["deadline_hit"] is result.deadline_hit
    assert end.details["seconds"] == result.timings["wall"]


def test_the_model_predicts_and_checks_its_input(titanic: tuple, settings: DSAgent) -> None:
    run, _, _ = titanic
    model = load_model(run.run_id, settings=settings)
    frame = table("seaborn/titanic.csv")
    predicted = model.predict(frame.head(20))
    assert list(predicted.index) == list(range(20)) and set(predicted) <= {0, 1}
    proba = model.predict_proba(frame.drop(columns=["survived"]).head(5))
    assert list(proba.columns) == model.classes == [0, 1]
    broken = frame.drop(columns=["age"]).assign(ticket="A/5 21171", fare=frame["fare"].astype(str))
    with pytest.raises(SchemaMismatch) as caught:
        model.predict(broken)
    assert caught.value.missing == ("age",) and caught.value.extra == ("ticket",)
    assert caught.value.dtypes == {"fare": ("number (float64)", "text (object)")}


def test_list_runs_shows_the_finished_run(titanic: tuple, settings: DSAgent) -> None:
    run, result, _ = titanic
    summary = next(s for s in list_runs(settings=settings) if s.run_id == run.run_id)
    assert (summary.status, summary.engine, summary.task) == ("done", "autogluon", "binary")
    assert summary.score == result.score


def test_a_path_is_validated_like_an_upload_then_learned(settings: DSAgent) -> None:
    path = SHARED_DATA / "seaborn" / "iris.csv"
    result = automl(path, "species", time_limit=12, settings=settings).wait()
    assert result.task == "multiclass" and set(result.metrics) == CLASSIFICATION_METRICS
    assert result.metrics["roc_auc"] is not None
    assert result.confusion_matrix is not None and result.confusion_matrix.shape == (3, 3)
    uploads = ingestor_for(settings).catalog.list(limit=100)
    assert any(record.name == "iris.csv" for record in uploads)


def test_sklearn_engine_with_a_time_split_on_a_sample(make_settings: Callable) -> None:
    settings = make_settings(automl_sample_threshold_rows=2000)
    frame = table("seaborn/taxis.csv").drop(columns=["total", "tip"])  # total restates fare
    run = automl(
        frame, "fare", time_limit=20, engine="sklearn", time_column="pickup", settings=settings
    )
    result = run.wait()
    assert result.engine == "sklearn" and result.task == "regression"
    assert set(result.metrics) == REGRESSION_METRICS and (result.metrics["r2"] or 0) > 0.5
    assert result.sampled and result.rows["used"] == 2000 and result.rows["total"] == len(frame)
    assert any("sample of 2,000" in note for note in result.notes)
    split = result.split
    assert split["strategy"] == "time" and split["holdout_from"] >= split["train_until"]
    assert result.leakage_candidates == []  # `total` (fare plus tip and tolls) was dropped
    residuals = result.residuals  # every holdout row, as the plot shows them
    assert result.confusion_matrix is None and residuals is not None
    assert len(residuals) == result.rows["holdout_scored"] == result.rows["holdout"]
    rmse = float(np.sqrt((residuals["residual"] ** 2).mean()))
    assert rmse == pytest.approx(result.metrics["rmse"], rel=1e-9)
    predictor = result.load_model()
    predicted = predictor.predict(frame.head(10))
    assert predicted.notna().all() and predicted.name == "fare"


def test_infinite_targets_are_left_out_and_a_failing_candidate_is_skipped(
    settings: DSAgent,
) -> None:
    """A regression target with infinities trains on the finite rows; a class seen once
    breaks one scikit-learn candidate (its early stopping splits by class), which is
    named in the notes while the others make the model."""
    rng = np.random.default_rng(4)
    rows = 300
    features = pd.DataFrame({"x": rng.normal(size=rows), "c": rng.choice(list("abc"), rows)})
    target = features["x"] * 3 + rng.normal(size=rows)
    target[::10] = np.inf
    run = automl(features.assign(y=target), "y", time_limit=20, engine="sklearn", settings=settings)
    result = run.wait()
    assert "30 rows whose target is infinite were left out." in result.notes
    assert result.rows["train"] + result.rows["holdout"] == rows - 30
    assert np.isfinite(result.metrics["rmse"])

    labels = np.array(["a", "b"] * (rows // 2), dtype=object)
    labels[7] = "rare"
    run = automl(features.assign(y=labels), "y", time_limit=20, engine="sklearn", settings=settings)
    result = run.wait()
    assert run.status == "done" and result.models_finished >= 2
    assert any(
        note.startswith("HistGradientBoostingSlow could not be fitted on this data (ValueError")
        for note in result.notes
    )
    assert "HistGradientBoostingSlow" not in set(result.leaderboard["model"])


def nullable_frame(rows: int, seed: int) -> pd.DataFrame:
    """pandas' nullable and pyarrow dtypes, with missing values, and a column of none."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, rows)
    gaps = rng.random(rows) < 0.1
    return pd.DataFrame(
        {
            "count": pd.array(np.where(gaps, None, label * 3 + rng.integers(0, 3, rows))),
            "flag": pd.array(np.where(gaps, None, label == 1)),
            "seen": pd.array(np.where(gaps, None, True), dtype="boolean"),  # one value or NA
            "word": pd.array(np.where(label == 1, "yes", "no"), dtype="string"),
            "arrow": pd.array(rng.choice(["u", "v"], rows), dtype="string[pyarrow]"),
            "nothing": np.full(rows, np.nan),
            "spiky": np.where(rng.random(rows) < 0.2, np.inf, rng.normal(size=rows)),
            "label": pd.array(label, dtype="Int64"),
        }
    )


@pytest.mark.parametrize("engine", ["autogluon", "sklearn"])
def test_nullable_pyarrow_empty_and_infinite_features_train_and_predict(
    settings: DSAgent, engine: str
) -> None:
    frame = nullable_frame(400, seed=5)
    run = automl(frame, "label", time_limit=20, engine=engine, settings=settings)
    result = run.wait()
    assert run.status == "done" and result.task == "binary"
    assert result.metrics["accuracy"] > 0.8  # "word" gives the label away
    if engine == "sklearn":
        assert 'Columns without any value were not used: "nothing".' in result.notes
    predicted = result.load_model().predict(nullable_frame(50, seed=6))
    assert predicted.notna().all() and set(predicted) <= {0, 1}


def test_the_deadline_stops_an_engine_that_overruns(make_settings: Callable) -> None:
    # engine_share 1.0 gives AutoGluon all the time up to the cut-off as its own limit,
    # as if it ran alone; on this table it cannot fit its portfolio in that time and it
    # overruns its limit, so the runner's cut-off has to stop it.
    settings = make_settings(automl_engine_share=1.0)
    frame = table("messy/hotel_bookings_subset.csv")
    result = automl(frame, "is_canceled", time_limit=20, settings=settings).wait()
    assert result.deadline_hit
    assert result.models_finished >= 1 and result.best_model in set(result.leaderboard["model"])
    assert result.score is not None
    assert result.load_model().predict(frame.head(3)).isin([0, 1]).all()
