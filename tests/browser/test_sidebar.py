"""The DS Agent panel in a real JupyterLab and Chromium: opening it, following the
notebook's kernel, and uploads (progress, record, refusal, load into notebook, delete).

These need only the server extension and a kernel; the chat, suggestion and AutoML
tests, which need the kernel side of the comm, are in test_chat.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..paths import SHARED_DATA, VENV_BIN
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

SEABORN = SHARED_DATA / "seaborn"
# Every change of the first transfer row, as "state:progress value", in window.__states.
RECORD_TRANSFER_STATES = """() => {
  window.__states = [];
  const panel = document.querySelector('#jupyter-dsagent-sidebar');
  new MutationObserver(() => {
    const row = panel.querySelector('.jp-DSAgent-transfer');
    if (!row) return;
    const bar = row.querySelector('progress');
    window.__states.push(`${row.dataset.state}:${bar ? bar.value : '-'}`);
  }).observe(panel, {subtree: true, childList: true, attributes: true, characterData: true});
}"""
OUTPUT_ERRORS = (
    '[data-mime-type="application/vnd.jupyter.stderr"], '
    '[data-mime-type="application/vnd.jupyter.error"]'
)
MALICIOUS = SHARED_DATA / "malicious"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = start_lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_kernels(lab: Lab) -> Iterator[None]:
    yield
    lab.shutdown_kernels()


def test_labextension_is_listed_enabled_and_ok() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [str(VENV_BIN / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "NO_COLOR": "1"},
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert re.search(r"^\s*jupyter-dsagent v\S+ enabled OK", output, flags=re.M), output


def test_panel_opens_and_follows_the_notebooks_kernel(page: Any, lab: Lab, shot: Any) -> None:
    open_notebook(page, lab, "follow.ipynb")
    panel = open_panel(page)
    assert "jp-DSAgent" in (panel.get_attribute("class") or "")
    tab = page.locator('.jp-SideBar.jp-mod-left li[data-id="jupyter-dsagent-sidebar"]')
    assert tab.get_attribute("title") == "DS Agent"
    assert tab.locator("svg").count() == 1
    assert panel.locator(".jp-DSAgent-notebookName").inner_text() == "follow.ipynb"
    assert panel.locator(".jp-DSAgent-kernelName").inner_text() == "Python 3 (ipykernel)"
    # A fresh kernel has not run %load_ext jupyter_dsagent: the comm is refused and
    # the panel offers to load the extension.
    wait_for_agent_state(page, "not-loaded")
    load = panel.locator(".jp-DSAgent-loadExt")
    assert "%load_ext jupyter_dsagent" in load.inner_text()
    assert panel.locator(".jp-DSAgent-input").is_disabled()
    shot("not-loaded")

    # Another notebook becomes active: the panel follows it, and back.
    lab.notebook("second.ipynb")
    name = f"{PANEL} .jp-DSAgent-notebookName"
    for path in ("second.ipynb", "follow.ipynb"):
        page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', {path})", path)
        page.locator(name, has_text=path).wait_for()
        wait_for_agent_state(page, "not-loaded")
    shot("followed")


def test_panel_is_keyboard_reachable_and_themed(page: Any, lab: Lab, shot: Any) -> None:
    open_notebook(page, lab, "keys.ipynb")
    panel = open_panel(page)
    for label in ("Uploads", "AutoML", "Usage", "Chat"):
        tab = panel.locator(f'.jp-DSAgent-tab:text-is("{label}")')
        tab.focus()
        page.keyboard.press("Enter")
        assert tab.get_attribute("aria-selected") == "true"
    light = panel.evaluate("node => getComputedStyle(node).backgroundColor")
    change = "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})"
    page.evaluate(change, "JupyterLab Dark")
    try:
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        page.wait_for_function(
            f"light => getComputedStyle(document.querySelector('{PANEL}')).backgroundColor"
            " !== light",
            arg=light,
        )
        page.wait_for_selector("#jupyterlab-splash", state="detached")
        shot("dark")
    finally:  # the theme is a server-side setting: later tests expect the light one
        page.evaluate(change, "JupyterLab Light")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")


def upload(page: Any, path: Path) -> Any:
    """Choose ``path`` in the Uploads tab's file picker; return its transfer row."""
    show_tab(page, "Uploads")
    page.locator(f"{PANEL} .jp-DSAgent-fileInput").set_input_files(str(path))
    row = page.locator(f"{PANEL} .jp-DSAgent-transfer", has_text=path.name).first
    row.wait_for()
    return row


def test_csv_upload_shows_progress_then_the_record(page: Any, lab: Lab, shot: Any) -> None:
    open_notebook(page, lab, "upload.ipynb")
    open_panel(page)
    # Slow the upload down so the progress bar is on screen long enough to be seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 600_000},
    )
    page.evaluate(RECORD_TRANSFER_STATES)
    row = upload(page, SEABORN / "diamonds.csv")
    row.locator("progress").wait_for()
    shot("progress")
    page.wait_for_selector(f'{PANEL} .jp-DSAgent-transfer[data-state="done"]', timeout=120_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    states: list[str] = page.evaluate("() => window.__states")
    sending = [s for s in states if s.startswith("sending:")]
    assert sending, states
    assert any(float(s.split(":")[1]) > 0 for s in sending if s.split(":")[1] != "-"), states
    assert states[-1].startswith("done"), states
    facts = row.locator(".jp-DSAgent-recordFacts").inner_text()
    assert facts.startswith("csv · ")
    assert "53,940 rows \u00d7 10 columns" in facts
    shot("record")
    # The server's list has it too.
    listed = page.locator(f"{PANEL} .jp-DSAgent-recordItem", has_text="diamonds.csv")
    listed.first.wait_for()


def test_dropping_a_file_on_the_panel_uploads_it(page: Any, lab: Lab, shot: Any) -> None:
    open_notebook(page, lab, "drop.ipynb")
    open_panel(page)
    show_tab(page, "Chat")
    text = (SEABORN / "penguins.csv").read_text(encoding="utf-8")
    page.locator(PANEL).evaluate(
        """(panel, text) => {
          const files = new DataTransfer();
          files.items.add(new File([text], 'penguins.csv', {type: 'text/csv'}));
          for (const type of ['dragenter', 'dragover', 'drop']) {
            panel.dispatchEvent(new DragEvent(type, {dataTransfer: files, bubbles: true}));
          }
        }""",
        text,
    )
    # The drop switches to the Uploads tab and sends the file.
    row = page.locator(f"{PANEL} .jp-DSAgent-transfer", has_text="penguins.csv")
    row.wait_for()
    page.wait_for_selector(f'{PANEL} .jp-DSAgent-transfer[data-state="done"]')
    assert "344 rows" in row.locator(".jp-DSAgent-recordFacts").inner_text()
    assert "jp-mod-dropTarget" not in (page.locator(PANEL).get_attribute("class") or "")
    shot("dropped")


@pytest.mark.parametrize(
    ("name", "code_prefix"),
    [("zip-slip.zip", "zip_"), ("pillow_decompression_bomb.gif", "image_")],
)
def test_hostile_upload_shows_the_servers_refusal(
    page: Any, lab: Lab, shot: Any, name: str, code_prefix: str
) -> None:
    open_notebook(page, lab, "hostile.ipynb")
    open_panel(page)
    row = upload(page, MALICIOUS / name)
    page.wait_for_selector(f'{PANEL} .jp-DSAgent-transfer[data-state="failed"]', timeout=120_000)
    error = row.locator(".jp-DSAgent-error")
    assert error.get_attribute("data-code").startswith(code_prefix)
    message = error.inner_text()
    assert len(message) > 20
    assert "\n" not in message.strip()
    assert row.locator(".jp-DSAgent-record").count() == 0
    shot("refused")
    assert page.locator(f"{PANEL} .jp-DSAgent-recordItem", has_text=name).count() == 0


def test_load_into_notebook_inserts_a_cell_that_loads_it_and_delete_removes_it(
    page: Any, lab: Lab, shot: Any
) -> None:
    open_notebook(page, lab, "load.ipynb", cells=["x = 1"])
    open_panel(page)
    upload(page, SEABORN / "tips.csv")
    page.wait_for_selector(f'{PANEL} .jp-DSAgent-transfer[data-state="done"]', timeout=120_000)
    item = page.locator(f"{PANEL} .jp-DSAgent-recordItem", has_text="tips.csv").first
    before = cell_count(page)
    item.locator(".jp-DSAgent-load").click()
    wait_for_cell_count(page, before + 1)
    source = cell_source(page, before)
    assert source.startswith("import jupyter_dsagent as dsa\n")
    assert re.search(r'^df = dsa\.load\("(tips\.csv|[0-9a-f]{32})"\)$', source, flags=re.M), source
    # Run it: the kernel loads the validated upload into a DataFrame.
    cell = page.locator(CELLS).nth(before)
    cell.click()
    page.keyboard.press("Shift+Enter")
    cell.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")).wait_for(timeout=90_000)
    assert cell.locator(OUTPUT_ERRORS).count() == 0, cell.inner_text()
    shot("loaded")

    item.locator(".jp-DSAgent-delete").click()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('#jupyter-dsagent-sidebar .jp-DSAgent-recordItem')]"
        ".some(li => li.textContent.includes('tips.csv'))"
    )
    assert not any(record["name"] == "tips.csv" for record in lab.api("GET", "dsagent/api/uploads"))


def test_panel_works_in_notebook_7s_side_panel(
    page: Any, tmp_path_factory: pytest.TempPathFactory, shot: Any
) -> None:
    notebook7 = start_lab(tmp_path_factory.mktemp("notebook7"), app="notebook")
    try:
        open_notebook(page, notebook7, "nb7.ipynb")
        page.evaluate("() => window.jupyterapp.commands.execute('jupyter-dsagent:open')")
        panel = page.locator(PANEL)
        panel.wait_for(state="visible")
        assert page.locator(f"#jp-left-stack {PANEL}").count() == 1
        assert panel.locator(".jp-DSAgent-notebookName").inner_text() == "nb7.ipynb"
        wait_for_agent_state(page, "not-loaded")
        show_tab(page, "Uploads")
        upload(page, SEABORN / "iris.csv")
        page.wait_for_selector(f'{PANEL} .jp-DSAgent-transfer[data-state="done"]')
        shot("notebook7")
    finally:
        notebook7.shutdown_kernels()
        notebook7.stop()
