"""The workshop notebooks: stored clean, and each runs end to end in a real kernel.

Offline, every notebook runs with no model configured (the agent's offline planner
answers) in its own data directory and a copy of ``notebooks/``. Then the quickstart
and the agent notebook run in a kernel started by a real Jupyter server whose gateway
calls the scripted model, so their answers come from a model through the gateway.
Each notebook's wall time is printed at the end of the session and written to
``tests/artifacts/notebook_times.txt`` (never asserted: the machine decides it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode

from jupyter_dsagent.audit import AuditLog
from tests.scripted_llm import Reply, ScriptedLLM, call
from tests.server.live import LiveServer, live_server

from .paths import REPO, VENV_BIN

NOTEBOOK_DIR = REPO / "notebooks"
COURSE = [
    "01_quickstart.ipynb",
    "02_upload_and_clean.ipynb",
    "03_automl.ipynb",
    "04_agent_and_budgets.ipynb",
    "05_instructor.ipynb",
]
TIMES_FILE = REPO / "tests" / "artifacts" / "notebook_times.txt"
CELL_TIMEOUT = 600
# The only thing a notebook may print on stderr: jupyter_dsagent's own INFO log lines
# (start-up, refused uploads), which its kernel logger writes to the process's stderr.
OUR_INFO_LINE = re.compile(r"^\[I \d\d:\d\d:\d\d jupyter_dsagent\.[\w.]+\] ")

# What each notebook must show when it runs offline: proof that it reached its point.
OFFLINE_EVIDENCE = {
    "01_quickstart.ipynb": ["answered by: the offline planner", "'accuracy':", "RandomForest"],
    "02_upload_and_clean.ipynb": [
        "'encoding': 'cp1252'",
        "formula_cells",
        "members_skipped",
        "refused (zip_path_traversal)",
        "refused (content_mismatch)",
        "EXIF after validation: {}",
        "gps_removed",
    ],
    "03_automl.ipynb": [
        "multiclass accuracy=",
        "automl_schema_mismatch: ",
        'missing columns: "flowers"',
        "regression rmse=",
    ],
    "04_agent_and_budgets.ipynb": [
        "answered by: the offline planner",
        'Values of these columns are private and not shown: "email"',
        "VerifyResult(ok=True",
    ],
    "05_instructor.ipynb": [
        "DSAgent.denied_models refuses 'openai/gpt-4o-mini'",
        "refused (type_not_allowed)",
        "chain intact",
        "does not match its hash (it was edited)",
        "is no longer in the chain",
    ],
}


# -- stored form ---------------------------------------------------------------------------


def test_the_course_is_the_five_workshop_notebooks() -> None:
    assert sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb")) == COURSE


@pytest.mark.parametrize("name", COURSE)
def test_notebook_is_stored_valid_and_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOK_DIR / name, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata.kernelspec.name == "python3"
    assert "widgets" not in notebook.metadata
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and notebook.cells[0].cell_type == "markdown"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert all("execution" not in cell.metadata for cell in notebook.cells)


@pytest.mark.parametrize("name", COURSE)
def test_notebook_downloads_nothing_and_reads_no_shared_data(name: str) -> None:
    source = "\n".join(
        cell.source
        for cell in nbformat.read(NOTEBOOK_DIR / name, as_version=4).cells
        if cell.cell_type == "code"
    )
    assert not re.search(r"read_(csv|parquet|json|excel)\(\s*['\"]https?:", source)
    assert "urlopen" not in source and "requests." not in source and "/shared/" not in source


# -- execution -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def notebook_times(request: pytest.FixtureRequest) -> Iterator[dict[str, float]]:
    """Collects each run's wall time; prints and writes them when the session ends."""
    times: dict[str, float] = {}
    yield times
    if not times:
        return
    lines = [f"{name:<55} {seconds:6.1f} s" for name, seconds in times.items()]
    TIMES_FILE.parent.mkdir(exist_ok=True)
    TIMES_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write("\n")
            reporter.write_sep("-", "workshop notebook times")
            for line in lines:
                reporter.write_line(line)


def _workspace(tmp_path: Path) -> Path:
    """A copy of notebooks/, so runs write their files (CSVs, ZIPs) away from the repo."""
    workspace = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, workspace)
    return workspace


def _outputs(notebook: NotebookNode) -> list[dict[str, Any]]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(notebook: NotebookNode) -> str:
    """Everything the notebook showed as text: streams, plain text and Markdown."""
    parts = []
    for out in _outputs(notebook):
        if out.output_type == "stream":
            parts.append(out.text)
        for mime in ("text/plain", "text/markdown"):
            parts.append(out.get("data", {}).get(mime, ""))
    return "\n".join(parts)


def _assert_clean_run(notebook: NotebookNode) -> None:
    errors = [f"{o.ename}: {o.evalue}" for o in _outputs(notebook) if o.output_type == "error"]
    assert not errors
    stderr = [
        line
        for out in _outputs(notebook)
        if out.get("name") == "stderr"
        for line in out.text.splitlines()
        if line.strip() and not OUR_INFO_LINE.match(line)
    ]
    assert not stderr, "unexpected stderr output (warnings?):\n" + "\n".join(stderr)


def _finished_runs(data_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(result.read_text())
        for result in sorted((data_dir / "runs").glob("*/result.json"))
    ]


@pytest.mark.slow
@pytest.mark.timeout(CELL_TIMEOUT)
@pytest.mark.parametrize("name", COURSE)
def test_notebook_runs_offline_in_a_real_kernel(
    name: str, tmp_path: Path, data_dir: Path, notebook_times: dict[str, float]
) -> None:
    workspace = _workspace(tmp_path)
    notebook = nbformat.read(workspace / name, as_version=4)
    # A participant's kernel: no model, no key, the environment's commands on PATH.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DSAGENT_") and not key.endswith("_API_KEY")
    }
    env.update(DSAGENT_DATA_DIR=str(data_dir), PATH=f"{VENV_BIN}:{env.get('PATH', '')}")
    started = time.monotonic()
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workspace)}},
    ).execute(env=env)
    notebook_times[f"{name} (offline)"] = time.monotonic() - started

    _assert_clean_run(notebook)
    shown = _text(notebook)
    missing = [text for text in OFFLINE_EVIDENCE[name] if text not in shown]
    assert not missing, f"{name} did not show: {missing}"
    assert AuditLog(data_dir / "audit.sqlite").verify().ok
    if name in ("01_quickstart.ipynb", "03_automl.ipynb"):
        runs = _finished_runs(data_dir)
        assert runs and all(run["status"] == "done" for run in runs)
        assert {run["engine"] for run in runs} == (
            {"sklearn"} if name == "01_quickstart.ipynb" else {"sklearn", "autogluon"}
        )


# -- through the gateway -------------------------------------------------------------------


class ServerKernel(AsyncKernelManager):
    """A kernel that a Jupyter server started, reached through its connection file.

    nbclient drives it like its own, but never starts, restarts or stops it: the
    server owns it (``owns_kernel=False``), so it has the environment the server gives
    kernels (the gateway's address and token, no provider key).
    """

    def __init__(self, connection_file: Path) -> None:
        super().__init__(connection_file=str(connection_file), owns_kernel=False)
        self.load_connection_file()

    @property
    def has_kernel(self) -> bool:
        return True


SCRIPTED_CODE = "summary = 'a cell the scripted model suggested'"
SCRIPTED_TEXT = "The scripted model looked at your data and suggests one cell."


def _suggest_then_answer(body: dict[str, Any]) -> Reply:
    """The scripted model: first a suggest_cell tool call, then, after its result, text."""
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return Reply(text=SCRIPTED_TEXT)
    return Reply(
        tool_calls=[call("suggest_cell", {"code": SCRIPTED_CODE, "explanation": "An example."})]
    )


def _start_kernel(server: LiveServer) -> str:
    connection = server.connection(timeout=60.0)
    try:
        connection.request(
            "POST",
            "/api/kernels",
            body=json.dumps({"name": "python3", "path": ""}),
            headers={**server.auth, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 201, body
    return str(body["id"])


def _stop_kernel(server: LiveServer, kernel_id: str) -> None:
    connection = server.connection(timeout=60.0)
    try:
        connection.request("DELETE", f"/api/kernels/{kernel_id}", headers=server.auth)
        connection.getresponse().read()
    finally:
        connection.close()


PROBE = """
import json, os
print("PROBE " + json.dumps({
    "answer": answer.to_dict(),
    "keys_in_kernel": sorted(k for k in os.environ if k.endswith("_API_KEY")),
    "gateway": bool(os.environ.get("DSAGENT_GATEWAY_URL")),
}))
"""


@pytest.mark.slow
@pytest.mark.timeout(CELL_TIMEOUT)
@pytest.mark.parametrize("name", ["01_quickstart.ipynb", "04_agent_and_budgets.ipynb"])
def test_notebook_answers_from_the_scripted_model_through_a_real_gateway(
    name: str,
    tmp_path: Path,
    data_dir: Path,
    scripted_llm: ScriptedLLM,
    notebook_times: dict[str, float],
) -> None:
    scripted_llm.respond_with(_suggest_then_answer)
    home = tmp_path / "home"
    shutil.copytree(NOTEBOOK_DIR, home / "notebooks")
    settings = {
        "DSAGENT_MODEL": "openai/scripted",
        "DSAGENT_API_BASE": scripted_llm.url,
        "OPENAI_API_KEY": "sk-test-notebook-key-0000",
    }
    with live_server(home, data_dir, settings) as server:
        kernel_id = _start_kernel(server)
        try:
            manager = ServerKernel(home / "runtime" / f"kernel-{kernel_id}.json")
            notebook = nbformat.read(home / "notebooks" / name, as_version=4)
            notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
            client = NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT)
            started = time.monotonic()
            try:
                client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
            notebook_times[f"{name} (scripted model, gateway)"] = time.monotonic() - started
        finally:
            _stop_kernel(server, kernel_id)

    _assert_clean_run(notebook)
    probe_line = next(line for line in _text(notebook).splitlines() if line.startswith("PROBE "))
    probe = json.loads(probe_line.removeprefix("PROBE "))
    answer = probe["answer"]
    assert probe["gateway"] and probe["keys_in_kernel"] == []
    assert answer["offline"] is False and "scripted" in answer["model"]
    assert [step["tool"] for step in answer["trace"]] == ["suggest_cell"]
    assert answer["suggestions"][0]["code"] == SCRIPTED_CODE
    # The scripted server heard the gateway, with the key only the server holds.
    chats = [r for r in scripted_llm.requests if r.path.endswith("/chat/completions")]
    assert chats and all(r.model == "scripted" for r in chats)
    sent_keys = {
        value
        for r in chats
        for header, value in r.headers.items()
        if header.lower() == "authorization"
    }
    assert sent_keys == {f"Bearer {settings['OPENAI_API_KEY']}"}
    calls = AuditLog(data_dir / "audit.sqlite").query(kind="llm.call", limit=1000)
    assert len(calls) == len(chats)
