"""The offline planner's cells run in a real kernel, on the real shared datasets, and show
what they promise: a table, a figure, a fitted run, a fixed error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nbformat import NotebookNode

from jupyter_dsagent.agent.intents import detect
from jupyter_dsagent.agent.offline import plan
from jupyter_dsagent.agent.workspace import Workspace
from tests.agent.conftest import NotebookSession
from tests.paths import SHARED_DATA

pytestmark = pytest.mark.slow

# The same code builds the kernel's variables and the planner's workspace.
SETUP = f"""
import pandas as pd

titanic = pd.read_csv({str(SHARED_DATA / "seaborn/titanic.csv")!r})
tips = pd.read_csv({str(SHARED_DATA / "seaborn/tips.csv")!r})
penguins = pd.read_csv({str(SHARED_DATA / "seaborn/penguins.csv")!r})
taxis = pd.read_csv({str(SHARED_DATA / "seaborn/taxis.csv")!r})
diamonds = pd.read_csv({str(SHARED_DATA / "seaborn/diamonds.csv")!r})
hr = pd.read_csv({str(SHARED_DATA / "messy/HR_attrition_utf8_bom.csv")!r}, encoding="utf-8-sig")
crime = pd.read_csv(
    {str(SHARED_DATA / "messy/crimedata_latin1_wide.csv")!r}, encoding="latin-1", na_values="?"
)
"""

TABLE, FIGURE = "table", "figure"

# (question, intent it must be read as, what the suggested cell must show)
CASES: list[tuple[str, str, str]] = [
    ("Give me an overview of titanic", "overview", TABLE),
    ("profile the hr data", "overview", TABLE),
    ("what's missing in penguins?", "missing", TABLE),
    ("count the NaNs in crime", "missing", TABLE),
    ("describe the age column of titanic", "describe_column", TABLE),
    ("tell me about sex in penguins", "describe_column", TABLE),
    ("summary of pickup in taxis", "describe_column", TABLE),
    ("describe alone in titanic", "describe_column", TABLE),
    ("histogram of fare in titanic", "plot_distribution", FIGURE),
    ("distribution of class in titanic", "plot_distribution", FIGURE),
    ("plot the distribution of size in tips", "plot_distribution", FIGURE),
    ("show the distribution of the pickup times in taxis", "plot_distribution", FIGURE),
    ("plot histograms of diamonds", "plot_distribution", FIGURE),
    ("histograms of bill length and species in penguins", "plot_distribution", FIGURE),
    ("scatter total bill vs tip", "plot_relationship", FIGURE),
    ("plot carat against price in diamonds", "plot_relationship", FIGURE),
    ("relationship between day and tip", "plot_relationship", FIGURE),
    ("how does fare relate to class in titanic", "plot_relationship", FIGURE),
    ("plot sex vs smoker in tips", "plot_relationship", TABLE),
    ("plot pickup against fare in taxis", "plot_relationship", FIGURE),
    ("plot pickup vs payment in taxis", "plot_relationship", TABLE),
    ("compare JobRole and Department in hr", "plot_relationship", TABLE),
    ("show correlations in penguins", "correlations", TABLE),
    ("which columns are correlated in crime?", "correlations", TABLE),
    ("what is correlated with MonthlyIncome in hr", "correlations", TABLE),
    ("correlation with species in penguins", "correlations", TABLE),
    ("is tip correlated with total bill and size", "correlations", TABLE),
    ("help", "help", TABLE),
]


def _namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(SETUP, "<setup>", "exec"), namespace)
    namespace.pop("__builtins__", None)
    return namespace


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return Workspace(namespace=_namespace())


@pytest.fixture(scope="module")
def kernel(notebook_session: NotebookSession) -> NotebookSession:
    notebook_session.run(SETUP)
    return notebook_session


def output_types(cell: NotebookNode) -> set[str]:
    """Mime types a cell displayed, plus ``stream:<name>`` and ``error`` entries."""
    found: set[str] = set()
    for output in cell.outputs:
        if output.output_type == "stream":
            found.add(f"stream:{output.name}")
        elif output.output_type == "error":
            found.add("error")
        else:
            found.update(output.get("data", {}))
    return found


def html_of(cell: NotebookNode) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def stdout_of(cell: NotebookNode) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def assert_shows(cell: NotebookNode, expected: str) -> None:
    shown = output_types(cell)
    assert "error" not in shown
    if expected == TABLE:
        assert "<table" in html_of(cell), shown
    else:
        assert "image/png" in shown, shown


@pytest.mark.parametrize(("question", "kind", "expected"), CASES, ids=[c[0] for c in CASES])
def test_suggested_cell_runs_and_shows_the_promised_output(
    question: str, kind: str, expected: str, workspace: Workspace, kernel: NotebookSession
) -> None:
    assert detect(question, workspace).kind == kind
    answer = plan(question, workspace)
    [suggestion] = answer.suggestions
    cell = kernel.run(suggestion.code)
    assert_shows(cell, expected)
    if kind != "overview":  # the profiler's own warnings are not the planner's to fix
        assert "stream:stderr" not in output_types(cell), cell.outputs


def test_every_next_step_of_an_overview_runs(workspace: Workspace, kernel: NotebookSession) -> None:
    answer = plan("overview of titanic", workspace)
    assert len(answer.next_steps) >= 3
    for step in answer.next_steps:
        if detect(step, workspace).kind == "automl":
            continue  # covered by the AutoML test, with a small budget
        [suggestion] = (
            plan(step, workspace).answer_suggestions()
            if False
            else plan(step, workspace).suggestions
        )
        cell = kernel.run(suggestion.code)
        assert "error" not in output_types(cell)


# -- the planner running inside the kernel: uploads and errors --------------------------------

IN_KERNEL_PLANNER = """
import json, sys
import jupyter_dsagent as dsa
from jupyter_dsagent.agent.offline import plan as _plan
from jupyter_dsagent.agent.workspace import Workspace as _Workspace

_workspace = _Workspace(
    namespace=get_ipython().user_ns,
    list_uploads=dsa.uploads,
    last_error=lambda: getattr(sys, "last_value", None),
)

def _ask(question):
    answer = _plan(question, _workspace)
    print(json.dumps({
        "text": answer.text,
        "code": [s.code for s in answer.suggestions],
        "flags": [list(s.flags) for s in answer.suggestions],
        "steps": answer.next_steps,
    }))
"""


@pytest.fixture(scope="module")
def planner_kernel(kernel: NotebookSession) -> NotebookSession:
    kernel.run(IN_KERNEL_PLANNER)
    return kernel


def ask_in_kernel(kernel: NotebookSession, question: str) -> dict[str, Any]:
    cell = kernel.run(f"_ask({question!r})")
    reply: dict[str, Any] = json.loads(stdout_of(cell))
    return reply


def fix_for(kernel: NotebookSession, failing: str) -> tuple[dict[str, Any], NotebookNode]:
    """Run ``failing`` (it must raise), ask why, run the suggested fix; return both."""
    failed = kernel.run(failing, allow_error=True)
    assert "error" in output_types(failed)
    reply = ask_in_kernel(kernel, "why did this fail?")
    [code] = reply["code"]
    return reply, kernel.run(code)


def test_a_misspelt_column_is_corrected_in_the_line_itself(planner_kernel: NotebookSession) -> None:
    reply, fixed = fix_for(planner_kernel, "titanic['agee'].mean()")
    assert "KeyError: 'agee'" in reply["text"]
    assert "`age`" in reply["text"]
    assert stdout_of(fixed) == "" and "text/plain" in output_types(fixed)
    assert "29.699" in fixed.outputs[0]["data"]["text/plain"]


def test_a_misspelt_dataframe_name_is_corrected(planner_kernel: NotebookSession) -> None:
    reply, fixed = fix_for(planner_kernel, "titanc.head()")
    assert "did you mean `titanic`" in reply["text"]
    assert "<table" in html_of(fixed)


def test_a_column_read_as_an_attribute_is_corrected(planner_kernel: NotebookSession) -> None:
    reply, fixed = fix_for(planner_kernel, "tips.totl_bill.mean()")
    assert "tips['total_bill'].mean()" in reply["code"][0]
    assert "19.785" in fixed.outputs[0]["data"]["text/plain"]


def test_a_missing_import_is_added(planner_kernel: NotebookSession) -> None:
    planner_kernel.run("globals().pop('np', None)")  # as after a kernel restart
    reply, fixed = fix_for(planner_kernel, "np.log(tips['tip']).max()")
    assert reply["code"][0].startswith("import numpy as np")
    assert "error" not in output_types(fixed)


def test_decimal_commas_are_converted_to_numbers(planner_kernel: NotebookSession) -> None:
    path = SHARED_DATA / "messy/superstore_semicolon_cp1252_decimalcomma.csv"
    planner_kernel.run(f"store = pd.read_csv({str(path)!r}, sep=';', encoding='cp1252')")
    reply, fixed = fix_for(planner_kernel, "store['Sales'].mean()")
    assert "is text, not numbers" in reply["text"]
    assert "<table" in html_of(fixed) or "text/plain" in output_types(fixed)
    assert stdout_of(fixed).startswith("0 values could not be read as numbers")
    check = planner_kernel.run(
        f"proper = pd.read_csv({str(path)!r}, sep=';', decimal=',', encoding='cp1252')\n"
        "print(store['Sales'].dtype, bool((store['Sales'] - proper['Sales']).abs().max() < 1e-9))"
    )
    assert stdout_of(check) == "float64 True\n"


def test_non_finite_integers_become_nullable(planner_kernel: NotebookSession) -> None:
    planner_kernel.run("ages = titanic[['age']].copy()")
    reply, _ = fix_for(planner_kernel, "ages['age'].astype(int)")
    assert "Int64" in reply["code"][0]
    check = planner_kernel.run("print(ages['age'].dtype, int(ages['age'].isna().sum()))")
    assert stdout_of(check) == "Int64 177\n"


def test_a_missing_file_is_found_among_the_uploads(planner_kernel: NotebookSession) -> None:
    planner_kernel.run(f"_uploaded = dsa.load({str(SHARED_DATA / 'seaborn/penguins.csv')!r})")
    reply, fixed = fix_for(planner_kernel, "pd.read_csv('data/penguins.csv')")
    assert "there is an upload called `penguins.csv`" in reply["text"]
    assert "dsa.load(" in reply["code"][0]
    assert "<table" in html_of(fixed)
    shape = planner_kernel.run("print(df_penguins.shape)")
    assert stdout_of(shape) == "(344, 7)\n"


def test_an_unknown_file_lists_the_uploads(planner_kernel: NotebookSession) -> None:
    reply, fixed = fix_for(planner_kernel, "pd.read_csv('sales_2024.csv')")
    assert "There is no file `sales_2024.csv`" in reply["text"]
    assert "penguins.csv" in html_of(fixed)


def test_an_upload_is_loaded_by_name(planner_kernel: NotebookSession) -> None:
    reply = ask_in_kernel(planner_kernel, "load the upload penguins.csv")
    [code] = reply["code"]
    assert "dsa.load(" in code and "df_penguins" in code
    cell = planner_kernel.run(code)
    assert "<table" in html_of(cell)
    listing = ask_in_kernel(planner_kernel, "list my uploads")
    cell = planner_kernel.run(listing["code"][0])
    assert "penguins.csv" in html_of(cell)
    assert listing["steps"] == ["Load the upload `penguins.csv`"]


def test_automl_on_a_real_dataset_returns_a_fitted_run(
    workspace: Workspace, kernel: NotebookSession
) -> None:
    answer = plan("train a model to predict tip in tips in 20 seconds", workspace)
    [suggestion] = answer.suggestions
    assert "time_limit=20" in suggestion.code
    cell = kernel.run(suggestion.code)
    assert "error" not in output_types(cell)
    metrics = stdout_of(cell)
    assert "'rmse'" in metrics and "'r2'" in metrics  # held-out regression scores
    assert "score_holdout" in html_of(cell)  # the leaderboard
