"""Every %dsagent command in a real kernel, its output and its one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_dsagent.audit import AuditLog
from tests.kernel.harness import Kernel
from tests.paths import SHARED_DATA

pytestmark = pytest.mark.slow
TITANIC = SHARED_DATA / "seaborn" / "titanic.csv"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kernel") / "dsagent"


def offline_kernel(data_dir: Path) -> Kernel:
    """A kernel with the extension loaded, no model, and its data in ``data_dir``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSAGENT_DATA_DIR", str(data_dir))
        for name in ("DSAGENT_GATEWAY_URL", "DSAGENT_GATEWAY_TOKEN", "DSAGENT_MODEL"):
            patch.delenv(name, raising=False)
        started = Kernel()
    started.run("%load_ext jupyter_dsagent")
    return started


@pytest.fixture(scope="module")
def kernel(data_dir: Path) -> Iterator[Kernel]:
    started = offline_kernel(data_dir)
    started.run(f"import pandas as pd\ndf = pd.read_csv({str(TITANIC)!r})")
    yield started
    started.close()


def usage_error(result_text: str) -> str:
    assert "Traceback" not in result_text, result_text
    [line] = [line for line in result_text.splitlines() if line.startswith("UsageError")]
    return line


def test_help_lists_every_command_and_each_takes_help(kernel: Kernel) -> None:
    shown = kernel.run("%dsagent help").text
    for command in (
        "profile",
        "ask",
        "automl",
        "runs",
        "uploads",
        "load",
        "chat",
        "usage",
        "config",
        "audit",
    ):
        assert f"%dsagent {command}" in shown
    assert "--target COL" in kernel.run("%dsagent profile --help").text
    assert "--time S" in kernel.run("%dsagent automl --help").text


def test_unknown_command_suggests_the_closest(kernel: Kernel) -> None:
    line = usage_error(kernel.run("%dsagent profil df").text)
    assert "Unknown %dsagent command 'profil'. Did you mean 'profile'?" in line


def test_profile_renders_html(kernel: Kernel) -> None:
    result = kernel.run("%dsagent profile df --target survived")
    assert result.error is None
    assert "text/html" in result.mimetypes()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%dsagent profile dff", "There is no DataFrame named 'dff'. Did you mean df?"),
        ("%dsagent profile df --target survivd", "df has no column 'survivd'. Closest: survived"),
        ("%dsagent profile", "%dsagent profile: the following arguments are required: DF"),
        ("%dsagent profile df --sample x", "argument --sample: invalid int value: 'x'"),
        ("%dsagent automl df", "the following arguments are required: --target"),
        ("%dsagent automl df --target nope", "df has no column 'nope'"),
        ("%dsagent load nothing-here.csv", "nothing-here.csv"),
        ('%dsagent ask "unclosed', "check the quotes"),
        ("%dsagent insert nope", "No suggestion 'nope' in this kernel."),
    ],
)
def test_mistakes_are_one_line(kernel: Kernel, line: str, expected: str) -> None:
    assert expected in usage_error(kernel.run(line).text)
    assert kernel.run("print(6 * 7)").text == "42\n"


def test_ask_offline_answers_and_offers_the_cell_below(kernel: Kernel, data_dir: Path) -> None:
    result = kernel.run('%dsagent ask "what is missing in df?"')
    assert result.error is None
    markdown = result.markdown()
    assert "offline planner" in markdown
    [payload] = [p for p in result.payload if p["source"] == "set_next_input"]
    assert payload["replace"] is False and "isna" in payload["text"]
    inserted = AuditLog(data_dir / "audit.sqlite").query(kind="suggestion.inserted")
    assert inserted[0].details["via"] == "set_next_input"


def test_cell_form_takes_the_question_from_the_cell(kernel: Kernel) -> None:
    result = kernel.run("%%dsagent\nplot the distribution of age in df")
    assert result.error is None
    [payload] = [p for p in result.payload if p["source"] == "set_next_input"]
    assert "age" in payload["text"]


def test_load_validates_a_workspace_file_and_binds_it(kernel: Kernel, tmp_path: Path) -> None:
    (tmp_path / "Sales 2024.csv").write_bytes("city;amount\nKöln;1,5\n".encode("cp1252"))
    kernel.run(f"import os; os.chdir({str(tmp_path)!r})")
    shown = kernel.run("%dsagent load 'Sales 2024.csv'").text
    assert shown == "Loaded 'Sales 2024.csv' as sales_2024 (1, 2).\n"
    assert kernel.run("print(sales_2024['amount'].iloc[0])").text == "1.5\n"
    assert "Sales 2024.csv" in kernel.run("%dsagent uploads").text


def test_uploads_runs_usage_config_audit_context(kernel: Kernel) -> None:
    assert "No AutoML runs" in kernel.run("%dsagent runs").text
    assert "offline planner" in kernel.run("%dsagent usage").text
    assert "agent_context = 'summary'  (default)" in kernel.run("%dsagent config").text
    audit = kernel.run("%dsagent audit --last 3 --kind config")
    assert "config.loaded" in audit.text
    assert "Nothing has been sent to a model yet." in kernel.run("%dsagent context").text


def test_chat_shows_a_widget(kernel: Kernel) -> None:
    result = kernel.run("%dsagent chat")
    assert "application/vnd.jupyter.widget-view+json" in result.mimetypes()


def test_automl_runs_in_the_background_with_live_progress(kernel: Kernel) -> None:
    started = kernel.run("%dsagent automl df --target survived --time 20 --engine sklearn")
    assert started.error is None, started.text
    assert "application/vnd.jupyter.widget-view+json" in started.mimetypes()
    assert "bound to `run`" in started.text
    # the kernel answers other cells while the run trains
    assert kernel.run("print(1 + 1)").text == "2\n"
    assert kernel.run("print(run.status)").text in ("queued\n", "running\n")
    shown = kernel.run("result = run.wait(60)\nprint(run.status, sorted(result.metrics))")
    assert shown.text.startswith("done ") and "accuracy" in shown.text
    runs = kernel.run("%dsagent runs")
    assert "done" in runs.text


def test_runs_also_lists_the_runs_kept_from_earlier_kernels(kernel: Kernel, data_dir: Path) -> None:
    finished = kernel.run("print(run.run_id, run.status)").text.split()
    assert finished[1] == "done"
    later = offline_kernel(data_dir)
    try:
        listed = later.run(
            "from jupyter_dsagent.automl import list_runs\n"
            "%dsagent runs\n"
            "print([(s.run_id, s.status, s.target) for s in list_runs()])"
        ).text
    finally:
        later.close()
    assert finished[0] in listed.split("\n[")[0]  # in the table %dsagent runs shows
    assert f"({finished[0]!r}, 'done', 'survived')" in listed


def test_automl_can_be_cancelled_from_python(kernel: Kernel) -> None:
    kernel.run("%dsagent automl df --target survived --time 60 --as slow")
    shown = kernel.run("slow.cancel()\nimport time; time.sleep(0.5)\nprint(slow.status)")
    assert shown.text == "cancelled\n"


def test_the_sidebar_hears_that_the_kernel_is_offline(kernel: Kernel) -> None:
    comm = kernel.comm_open("jupyter_dsagent")
    kernel.comm_send(comm, {"type": "hello"})
    [*_, reply] = kernel.comm_wait(lambda d: d.get("type") == "hello")
    assert reply["offline"] is True and reply["model"] is None
