"""The sidebar protocol over a real comm: ask → delta… → suggestion → done, and the rest.

The kernel finds its "gateway" through DSAGENT_GATEWAY_URL, here the scripted model
server, exactly as a kernel started by the Jupyter server finds the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.models import KernelMessage
from tests.kernel.harness import Kernel
from tests.paths import SHARED_DATA
from tests.scripted_llm import ScriptedLLM, call

pytestmark = pytest.mark.slow
KERNEL_MESSAGE: TypeAdapter[Any] = TypeAdapter(KernelMessage)


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("comm") / "dsagent"


@pytest.fixture(scope="module")
def kernel(llm: ScriptedLLM, data_dir: Path) -> Iterator[Kernel]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSAGENT_DATA_DIR", str(data_dir))
        patch.setenv("DSAGENT_GATEWAY_URL", llm.url)
        patch.setenv("DSAGENT_GATEWAY_TOKEN", "gateway-only-token")
        started = Kernel()
    started.run("%load_ext jupyter_dsagent")
    started.run(
        f"import pandas as pd\ndf = pd.read_csv({str(SHARED_DATA / 'seaborn' / 'tips.csv')!r})"
    )
    yield started
    started.close()


@pytest.fixture(scope="module")
def comm(kernel: Kernel) -> str:
    return kernel.comm_open("jupyter_dsagent")


def test_hello_names_the_model(kernel: Kernel, comm: str) -> None:
    kernel.comm_send(comm, {"type": "hello"})
    [reply] = kernel.comm_wait(lambda d: d.get("type") == "hello")
    assert reply == {
        "type": "hello",
        "version": 1,
        "kernel_ready": True,
        "model": "scripted",
        "offline": False,
    }


def test_ask_streams_deltas_then_a_suggestion_then_done(
    kernel: Kernel, comm: str, llm: ScriptedLLM, data_dir: Path
) -> None:
    llm.reply(tool_calls=[call("profile_dataframe", {"name": "df", "target": "tip"})])
    llm.reply(
        tool_calls=[
            call(
                "suggest_cell",
                {
                    "code": "df.plot.scatter(x='total_bill', y='tip')",
                    "explanation": "Tip against bill.",
                },
            )
        ]
    )
    llm.reply("Tips grow with the bill.\n\n1. Fit a model")
    kernel.comm_send(comm, {"type": "ask", "id": "q1", "text": "profile df for tip"})
    seen = kernel.comm_wait(lambda d: d.get("type") == "done")

    messages = [KERNEL_MESSAGE.validate_python(data) for data in seen]
    kinds = [m.type for m in messages]
    assert kinds[-1] == "done" and "suggestion" in kinds and "delta" in kinds
    assert kinds.index("suggestion") < len(kinds) - 1
    text = "".join(m.text for m in messages if m.type == "delta")
    assert text == "Tips grow with the bill.\n\n1. Fit a model"
    [suggestion] = [m for m in messages if m.type == "suggestion"]
    assert suggestion.id == "q1" and suggestion.code.startswith("df.plot.scatter")
    done = messages[-1]
    assert [step.tool for step in done.trace] == ["profile_dataframe", "suggest_cell"]
    assert done.usage.prompt_tokens > 0 and done.model == "scripted"
    # the sidebar inserts and runs it: audited, bound to the hash
    kernel.comm_send(
        comm,
        {
            "type": "inserted",
            "suggestion_id": suggestion.suggestion_id,
            "sha256": suggestion.sha256,
            "run": True,
        },
    )
    kernel.comm_send(
        comm,
        {
            "type": "inserted",
            "suggestion_id": suggestion.suggestion_id,
            "sha256": "0" * 64,
            "run": True,
        },
    )
    kernel.comm_wait(lambda d: d.get("type") == "error")
    records = AuditLog(data_dir / "audit.sqlite").query(kind="suggestion.inserted")
    assert [(r.outcome, r.details["run"]) for r in records[:2]] == [("denied", True), ("ok", True)]


def test_the_kernel_stays_free_while_the_agent_answers(
    kernel: Kernel, comm: str, llm: ScriptedLLM
) -> None:
    llm.reply("slow answer", delay=3)
    kernel.comm_send(comm, {"type": "ask", "id": "q2", "text": "take your time"})
    assert kernel.run("print(1 + 1)").text == "2\n"
    kernel.comm_wait(lambda d: d.get("type") == "done" and d.get("id") == "q2")


def test_cancel_stops_an_answer(kernel: Kernel, comm: str, llm: ScriptedLLM) -> None:
    llm.reply("never mind", delay=2)
    kernel.comm_send(comm, {"type": "ask", "id": "q3", "text": "long one"})
    kernel.comm_send(comm, {"type": "cancel", "id": "q3"})
    [*_, done] = kernel.comm_wait(lambda d: d.get("type") == "done" and d.get("id") == "q3")
    assert done["type"] == "done"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "ask", "id": "x"},
        {"type": "launch_missiles"},
        {"no": "type"},
        {"type": "ask", "id": "x", "text": "hi", "extra": 1},
    ],
)
def test_bad_messages_get_an_error_not_a_crash(kernel: Kernel, comm: str, bad: dict) -> None:
    kernel.comm_send(comm, bad)
    [*_, error] = kernel.comm_wait(lambda d: d.get("type") == "error")
    assert error["code"] == "bad_request" and error["message"].startswith("Bad sidebar message")


def test_model_errors_reach_the_sidebar_as_one_line(
    kernel: Kernel, comm: str, llm: ScriptedLLM
) -> None:
    llm.fail(429, message="Slow down: 20 requests a minute.", code="rate_limited")
    kernel.comm_send(comm, {"type": "ask", "id": "q4", "text": "hi"})
    [*_, error] = kernel.comm_wait(lambda d: d.get("type") in ("error", "done"))
    assert error == {
        "type": "error",
        "id": "q4",
        "code": "rate_limited",
        "message": "Slow down: 20 requests a minute.",
    }


def test_runs_lists_nothing_yet(kernel: Kernel, comm: str) -> None:
    kernel.comm_send(comm, {"type": "runs"})
    [*_, reply] = kernel.comm_wait(lambda d: d.get("type") == "runs")
    assert reply == {"type": "runs", "runs": []}


def test_automl_progress_reaches_the_sidebar_and_runs_can_be_cancelled(
    kernel: Kernel, comm: str
) -> None:
    kernel.run("%dsagent automl df --target tip --time 20 --engine sklearn")
    seen = kernel.comm_wait(
        lambda d: d.get("type") == "progress" and d["status"] == "done", timeout=90
    )
    progress = [KERNEL_MESSAGE.validate_python(d) for d in seen if d.get("type") == "progress"]
    assert progress[-1].budget == 20 and progress[-1].message and "rmse" in progress[-1].message
    assert progress[-1].target == "tip"
    assert {p.status for p in progress} >= {"running", "done"}
    kernel.comm_send(comm, {"type": "runs"})
    [*_, reply] = kernel.comm_wait(lambda d: d.get("type") == "runs")
    assert [run["status"] for run in reply["runs"]] == ["done"]

    kernel.run("%dsagent automl df --target tip --time 60 --as slow")
    run_id = kernel.run("print(slow.run_id)").text.strip()
    kernel.comm_send(comm, {"type": "cancel_run", "run": run_id})
    kernel.comm_wait(
        lambda d: d.get("type") == "progress" and d["run"] == run_id and d["status"] == "cancelled"
    )
    kernel.comm_send(comm, {"type": "cancel_run", "run": "no-such-run"})
    [*_, error] = kernel.comm_wait(lambda d: d.get("type") == "error")
    assert error["code"] == "not_found"
