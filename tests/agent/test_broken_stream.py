"""The agent's model clients when the provider's stream breaks part-way (no server).

``DirectClient`` runs the gateway's own service in the kernel; a stream that breaks
after some text must come out as a ModelError with the service's code and the text
that arrived, with the call charged and audited together, and the agent must answer
with something readable instead of raising.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from jupyter_dsagent.agent import Agent, Workspace
from jupyter_dsagent.agent.client import ModelError
from jupyter_dsagent.agent.direct import DirectClient
from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.config import DSAgent
from tests.agent.clients import MODEL, model_client
from tests.scripted_llm import ScriptedLLM, call

ANSWER = "The table has six rows and no missing values at all"
SENT = "The table has"


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "llm-audit.sqlite")


def direct(llm: ScriptedLLM, tmp_path: Path, audit: AuditLog) -> DirectClient:
    client = model_client(llm, tmp_path=tmp_path, audit=audit, user_token_budget="100000")
    assert isinstance(client, DirectClient)
    return client


def assert_charged_and_audited_together(client: DirectClient, audit: AuditLog) -> None:
    """One usage row and one llm.call record of the same tokens, and no hold left."""
    [record] = audit.query(kind="llm.call")
    assert (record.outcome, record.details["code"]) == ("error", "upstream_failed")
    [row] = client.service.usage.rows()
    assert row["calls"] == 1 and row["tokens_out"] == record.details["tokens_out"] > 0
    assert row["tokens_in"] == record.details["tokens_in"]
    spent = client.service.usage.spent(audit.hash_actor("tester"))[("user", "total")]
    assert spent.tokens == row["tokens_in"] + row["tokens_out"]


@pytest.mark.parametrize("how", ["cut", "error_event"])
def test_direct_client_raises_the_code_and_keeps_the_partial_text(
    scripted_llm: ScriptedLLM, tmp_path: Path, audit: AuditLog, how: str
) -> None:
    client = direct(scripted_llm, tmp_path, audit)
    if how == "cut":
        scripted_llm.reply(ANSWER, cut_after=3)
    else:
        scripted_llm.reply(ANSWER, error_after=3, message="overloaded", code="server_error")
    deltas: list[str] = []
    with pytest.raises(ModelError) as failed:
        client.chat([{"role": "user", "content": "describe df"}], [], on_delta=deltas.append)
    assert failed.value.code == "upstream_failed"
    assert MODEL in failed.value.message and "broke off" in failed.value.message
    assert failed.value.partial is not None and failed.value.partial.text == SENT
    assert "".join(deltas) == SENT
    assert len(scripted_llm.requests) == 1
    assert_charged_and_audited_together(client, audit)


def test_partial_tool_calls_are_kept_too(
    scripted_llm: ScriptedLLM, tmp_path: Path, audit: AuditLog
) -> None:
    client = direct(scripted_llm, tmp_path, audit)
    tool_call = call("describe_dataframe", {"name": "df"}, call_id="call_1")
    scripted_llm.reply(tool_calls=[tool_call], cut_after=1)  # the call's name, no arguments
    with pytest.raises(ModelError) as failed:
        client.chat([{"role": "user", "content": "describe df"}], [])
    assert failed.value.partial is not None
    assert failed.value.partial.tool_calls == [
        {"id": "call_1", "name": "describe_dataframe", "arguments": ""}
    ]
    assert_charged_and_audited_together(client, audit)


def test_the_agent_answers_readably_when_the_stream_breaks(
    scripted_llm: ScriptedLLM, tmp_path: Path, audit: AuditLog
) -> None:
    """``upstream_failed`` hands the question to the offline planner: the person gets an
    answer that says the model failed, not a traceback."""
    client = direct(scripted_llm, tmp_path, audit)
    scripted_llm.reply(ANSWER, cut_after=3)
    frame = pd.DataFrame({"age": [22.0, None, 35.0], "fare": [7.25, 71.3, 8.05]})
    agent = Agent(
        Workspace(namespace={"df": frame}),
        settings=DSAgent(environ={}),
        client=client,
        audit=audit,
        actor="tester",
        count_tokens=lambda text: len(text) // 4 + 1,
    )
    streamed: list[str] = []
    answer = agent.ask(
        "what is missing in df?",
        on_event=lambda event: streamed.append(event.get("text", "")),
    )
    assert answer.offline is True
    assert answer.notice == "Offline planner: the model could not answer."
    assert "Offline planner" in answer.text and "Traceback" not in answer.text
    # says what happened: this model broke off (no other was tried), not "every model failed"
    assert "broke off" in answer.text and "Every configured model failed" not in answer.text
    assert "".join(streamed).startswith(SENT)  # the partial text had been shown as it came
    assert len(scripted_llm.requests) == 1
    assert_charged_and_audited_together(client, audit)
