"""The offline planner says what it is and why, writes cells for the real names, and ends
with numbered next steps that each produce themselves when asked again."""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd
import pytest

from jupyter_dsagent.agent.intents import asks_for_action, detect
from jupyter_dsagent.agent.offline import plan
from jupyter_dsagent.agent.suggest import code_flags
from jupyter_dsagent.agent.types import Answer
from jupyter_dsagent.agent.workspace import Workspace
from jupyter_dsagent.config import DSAgent
from tests.ingest.manifest import PROPER_READS
from tests.paths import SHARED_DATA

# A made-up key of a provider's shape, built here so no key-like text is stored.
FAKE_KEY = "sk-" + string.ascii_lowercase


@cache
def read(name: str) -> pd.DataFrame:
    return pd.read_csv(SHARED_DATA / name, **PROPER_READS[name])


@dataclass
class Record:
    id: str
    name: str
    kind: str = "csv"
    children: list[Any] = field(default_factory=list)
    parent: str | None = None


def workspace_with_data(**extra: Any) -> Workspace:
    namespace = {
        "titanic": read("seaborn/titanic.csv"),
        "tips": read("seaborn/tips.csv"),
        "taxis": read("seaborn/taxis.csv"),
        "hr": read("messy/HR_attrition_utf8_bom.csv"),
        "crime": read("messy/crimedata_latin1_wide.csv"),
    }
    return Workspace(namespace=namespace, **extra)


QUESTIONS = [
    "overview of titanic",
    "what's missing in crime",
    "describe fare in titanic",
    "describe pickup in taxis",
    "histogram of age in titanic",
    "plot histograms of hr",
    "scatter total bill vs tip",
    "plot day against tip in tips",
    "correlations in crime",
    "what is correlated with MonthlyIncome",
    "train a model to predict Attrition",
    "help",
]

STEP_KINDS = {
    "Give an overview of": "overview",
    "Show missing values in": "missing",
    "Describe column": "describe_column",
    "Plot the distribution of": "plot_distribution",
    "Plot `": "plot_relationship",
    "Show correlations": "correlations",
    "Train a model to predict": "automl",
    "Load the upload": "load_upload",
    "List my uploads": "load_upload",
    "Explain the last error": "explain_error",
    "What can the offline planner do?": "help",
}


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return workspace_with_data()


def test_the_answer_says_it_is_offline_and_how_to_configure_a_model(
    workspace: Workspace,
) -> None:
    answer = plan("overview of titanic", workspace)
    assert answer.offline and answer.model is None
    assert answer.text.startswith("**Offline planner.** No language model is configured")
    assert "model" in DSAgent.class_trait_names()
    assert f"`{DSAgent.env_var('model')}`" in answer.text
    assert "`OPENAI_API_KEY`" in answer.text
    assert "c.DSAgent.model" in answer.text and "jupyter_server_config.py" in answer.text
    assert answer.notice == "Offline planner: no model is configured."


def test_a_gateway_failure_is_named_and_other_reasons_are_redacted(
    workspace: Workspace,
) -> None:
    failed = plan("overview of titanic", workspace, reason="upstream_failed")
    assert "Every configured model failed just now" in failed.text
    assert "Try again" in failed.text
    other = plan(
        "overview of titanic",
        workspace,
        reason=f"budget refused for key {FAKE_KEY} " + "x" * 400,
    )
    assert "The model could not answer (budget refused for key sk-***" in other.text
    assert "abcdefghijklmnop" not in other.text
    assert len(other.text.split("(", 1)[1].split(")", 1)[0]) <= 200


@pytest.mark.parametrize("question", QUESTIONS)
def test_next_steps_are_numbered_and_each_produces_itself(
    question: str, workspace: Workspace
) -> None:
    answer = plan(question, workspace)
    assert 2 <= len(answer.next_steps) <= 4
    numbered = re.findall(r"^(\d+)\. (.+)$", answer.text, flags=re.M)
    assert numbered == [(str(i), s) for i, s in enumerate(answer.next_steps, 1)]
    assert answer.text.rstrip().endswith(answer.next_steps[-1])
    for step in answer.next_steps:
        expected = next(kind for prefix, kind in STEP_KINDS.items() if step.startswith(prefix))
        intent = detect(step, workspace)
        assert intent.kind == expected, step
        quoted = re.findall(r"`([^`]+)`", step)
        if quoted and expected not in ("load_upload",):
            assert intent.dataframe == quoted[-1], step
            assert intent.columns == quoted[:-1], step
        if expected == "automl":
            assert intent.target == quoted[0]
            assert asks_for_action(step, "automl")  # "do 3" passes the lead's action gate
        again = plan(step, workspace)
        if expected != "explain_error":
            assert again.suggestions, step


@pytest.mark.parametrize("question", QUESTIONS)
def test_cells_are_valid_unflagged_python_using_only_known_names(
    question: str, workspace: Workspace
) -> None:
    answer = plan(question, workspace)
    [suggestion] = answer.suggestions
    tree = ast.parse(suggestion.code)
    assert code_flags(suggestion.code) == set()
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name)]
    made = {node.id for node in names if isinstance(node.ctx, ast.Store)}
    lambdas = {
        a.arg for node in ast.walk(tree) if isinstance(node, ast.Lambda) for a in node.args.args
    }
    comprehension = {"name", "value"}  # the DataFrame inventory's loop variables
    imported = {"pd", "np", "plt", "dsa"}
    builtins = {"print", "max", "len", "int", "abs", "list", "globals", "isinstance"}
    known = set(workspace.dataframes()) | made | lambdas | comprehension | imported | builtins
    assert {node.id for node in names} <= known


def test_hostile_column_names_stay_strings() -> None:
    evil = "x'); __import__('os').system('echo pwned') #"
    frame = pd.DataFrame({evil: [1.0, 2.0, None], "`weird` name": ["a", "b", "a"]})
    workspace = Workspace(namespace={"df": frame})
    for question in (
        f"describe column {evil!r}",
        'describe column "`weird` name"',
        f'histogram of "{evil}"',
        f"missing values in {evil!r}",
    ):
        answer = plan(question, workspace)
        [suggestion] = answer.suggestions
        assert code_flags(suggestion.code) == set()
        assert "__import__" not in {
            node.id for node in ast.walk(ast.parse(suggestion.code)) if isinstance(node, ast.Name)
        }
        assert "``" not in answer.text.replace("```", "")
    namespace: dict[str, Any] = {"df": frame, "pd": pd}
    exec(plan(f"describe column {evil!r}", workspace).suggestions[0].code, namespace)


def test_with_no_dataframe_and_no_uploads_it_explains_how_to_get_data() -> None:
    answer = plan("plot the distribution of age", Workspace())
    assert "There is no DataFrame in this notebook yet" in answer.text
    assert "pd.read_csv(" in answer.text and "sidebar" in answer.text
    [suggestion] = answer.suggestions
    assert "dsa.uploads()" in suggestion.code


def test_with_no_dataframe_the_newest_upload_is_loaded() -> None:
    uploads = [Record("n1", "sales 2024.csv"), Record("n0", "old.csv"), Record("z", "a.zip", "zip")]
    answer = plan("overview", Workspace(list_uploads=lambda: uploads))
    [suggestion] = answer.suggestions
    assert suggestion.code.splitlines()[2] == "df_sales_2024 = dsa.load('n1')"
    assert answer.next_steps == ["Load the upload `old.csv`", "List my uploads"]


def test_loading_uploads_archives_and_unknown_names() -> None:
    member = Record("m1", "day.csv", parent="z")
    uploads = [Record("z", "bikes.zip", "zip", [member]), Record("i1", "photo.jpg", "image")]
    workspace = Workspace(list_uploads=lambda: uploads)
    archive = plan("load the upload bikes.zip", workspace)
    assert "is a ZIP archive" in archive.text
    assert "df_day = dsa.load('m1')" in archive.suggestions[0].code
    image = plan("load the upload photo.jpg", workspace)
    assert image.suggestions[0].code.endswith("img_photo = dsa.load('i1')\nimg_photo")
    unknown = plan("load the upload nothing.csv", workspace)
    assert "There is no upload called `nothing.csv`" in unknown.text
    assert unknown.next_steps[0] == "List my uploads"
    listing = plan("list my uploads", workspace)
    assert listing.next_steps == ["Load the upload `day.csv`", "Load the upload `photo.jpg`"]


def test_help_lists_what_it_can_do_with_the_real_names(workspace: Workspace) -> None:
    answer = plan("what can you do?", workspace)
    assert "`crime`" in answer.text
    assert "train a model to predict" in answer.text
    assert "explain the last error" in answer.text
    empty = plan("help", Workspace())
    assert "once you have data" in empty.text


def test_explaining_without_an_error_or_with_an_unknown_one(workspace: Workspace) -> None:
    nothing = plan("why did this fail?", workspace)
    assert "No error has been raised" in nothing.text and not nothing.suggestions
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError as exc:
        error = exc
    unknown = plan("explain the error", Workspace(namespace={}, last_error=lambda: error))
    assert "ZeroDivisionError: division by zero" in unknown.text
    assert "not one of the patterns" in unknown.text and not unknown.suggestions


def test_automl_guesses_a_target_when_none_is_named(workspace: Workspace) -> None:
    answer = plan("train a model on titanic in 20 seconds", workspace)
    assert "I guessed `survived`" in answer.text
    assert "target='survived', time_limit=20" in answer.suggestions[0].code
    missing_targets = plan("train a model to predict ViolentCrimesPerPop", workspace)
    assert "rows with no `ViolentCrimesPerPop` are left out" in missing_targets.text


def test_a_broken_catalog_does_not_break_the_planner() -> None:
    def broken() -> list[Any]:
        raise OSError("catalog unavailable")

    answer = plan("list my uploads", Workspace(list_uploads=broken))
    assert isinstance(answer, Answer) and answer.suggestions
