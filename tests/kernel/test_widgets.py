"""The AutoML result figure: a confusion matrix for classes, residuals for numbers."""

from __future__ import annotations

from pathlib import Path

from jupyter_dsagent.automl.result import AutoMLResult
from jupyter_dsagent.kernel.widgets import _result_figure


def test_a_regression_result_plots_its_residuals(tmp_path: Path) -> None:
    result = AutoMLResult(
        {
            "task": "regression",
            "residuals": {"actual": [3.0, 5.0, 8.0], "predicted": [2.5, 5.0, 9.0]},
        },
        tmp_path,
    )
    [axes] = _result_figure(result).axes
    assert axes.get_title() == "Residuals (holdout)"
    [points] = axes.collections
    assert points.get_offsets().tolist() == [[2.5, 0.5], [5.0, 0.0], [9.0, -1.0]]


def test_a_classification_result_plots_its_confusion_matrix(tmp_path: Path) -> None:
    matrix = {"labels": ["no", "yes"], "matrix": [[50, 5], [7, 30]]}
    result = AutoMLResult({"task": "binary", "confusion_matrix": matrix}, tmp_path)
    [axes] = _result_figure(result).axes
    assert axes.get_title() == "Confusion matrix (holdout)"
    assert sorted(text.get_text() for text in axes.texts) == ["30", "5", "50", "7"]


def test_a_result_without_either_has_no_figure(tmp_path: Path) -> None:
    assert _result_figure(AutoMLResult({"task": "regression"}, tmp_path)) is None
