"""The gateway when the provider's stream breaks after it began, end to end.

A real Jupyter server, litellm's real Router, the scripted model cutting its answer
short. The client gets the chunks that came, then one error event, then the end of
the response; the call is charged for what was sent, audited once and counted as an
error. The kernel's GatewayClient turns the error event into a ModelError with the
gateway's code and keeps the text that arrived.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_dsagent.agent.client import GatewayClient, ModelError
from jupyter_dsagent.llm import (
    GATEWAY_TOKEN_VARIABLE,
    GATEWAY_URL_VARIABLE,
    count_prompt_tokens,
    count_tokens,
)
from tests.llm.support import SHAPED_KEY, ask, events, streamed_text
from tests.scripted_llm import ScriptedLLM

from .conftest import Fetch
from .test_llm_gateway import body_of, chat, sample

MODEL = "openai/gpt-4o-mini"
ANSWER = "one two three four five six"
SENT = "one two three"
TOKEN_BUDGET = 100_000


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, scripted_llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> Config:
    """The gateway in front of the scripted model, with a fallback, retries and a budget
    that would each have a say if the broken stream were treated as a failed attempt."""
    monkeypatch.setenv("OPENAI_API_KEY", SHAPED_KEY)
    jp_server_config["DSAgent"].update(
        model=MODEL,
        api_base=scripted_llm.url,
        fallback_models=["openai/backup"],
        model_api_bases=[f"openai/backup={scripted_llm.url}"],
        model_retries=2,
        retry_max_wait_seconds=0.01,
        model_timeout_seconds=10.0,
        user_token_budget=TOKEN_BUDGET,
    )
    return jp_server_config


@pytest.fixture
def service(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["dsagent_llm"]


def script_break(llm: ScriptedLLM, how: str) -> None:
    if how == "cut":
        llm.reply(ANSWER, cut_after=3)
    else:
        llm.reply(ANSWER, error_after=3, message="The server had an error", code="server_error")
    llm.reply("a second answer that must not be fetched")


def expected_tokens() -> tuple[int, int]:
    return count_prompt_tokens(ask()["messages"], MODEL), count_tokens(SENT, MODEL)


async def assert_recorded_once(api: Fetch, service: Any, runtime: Any) -> None:
    """One llm.call record (an error) and one charge of the tokens sent, nothing held."""
    await service.drain()
    tokens_in, tokens_out = expected_tokens()
    [record] = runtime.audit.query(kind="llm.call")
    assert (record.outcome, record.details["code"]) == ("error", "upstream_failed")
    assert (record.details["tokens_in"], record.details["tokens_out"]) == (tokens_in, tokens_out)
    assert record.details["stream"] is True and record.details["fallbacks"] == 0
    usage = body_of(await api("llm", "usage"))
    mine = usage["by_user"][usage["user"]]["by_model"][MODEL]
    assert (mine["calls"], mine["tokens_in"], mine["tokens_out"]) == (1, tokens_in, tokens_out)
    assert mine["cost_usd"] == pytest.approx(record.details["cost_usd"])
    [budget] = usage["budgets"]  # the reservation was replaced by the charge
    assert budget["remaining"] == TOKEN_BUDGET - tokens_in - tokens_out


@pytest.mark.parametrize("how", ["cut", "error_event"])
async def test_a_stream_broken_by_the_provider_ends_with_one_error_event(
    api: Fetch,
    jp_fetch: Fetch,
    scripted_llm: ScriptedLLM,
    service: Any,
    runtime: Any,
    how: str,
) -> None:
    before = (await jp_fetch("metrics")).body.decode()
    script_break(scripted_llm, how)
    response = await chat(api, ask(stream=True))

    assert response.code == 200  # the status went out with the first chunk
    assert response.headers["Content-Type"].startswith("text/event-stream")
    *chunks, last = events(response.body)
    assert streamed_text(chunks) == SENT
    assert all(c["object"] == "chat.completion.chunk" and "usage" not in c for c in chunks)
    assert last["error"]["code"] == "upstream_failed"
    message = last["error"]["message"]
    assert MODEL in message and "broke off" in message and "incomplete" in message
    text = response.body.decode()
    assert "[DONE]" not in text and "Traceback" not in text
    assert SHAPED_KEY not in text and scripted_llm.url not in text and "127.0.0.1" not in text
    # Neither a retry nor the fallback was asked: the client has part of this answer.
    assert [r.model for r in scripted_llm.requests] == ["gpt-4o-mini"]

    await assert_recorded_once(api, service, runtime)
    after = (await jp_fetch("metrics")).body.decode()

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("dsagent_llm_errors_total", model=MODEL, code="upstream_failed") == 1
    assert grew("dsagent_llm_calls_total", model=MODEL, outcome="error") == 1
    assert grew("dsagent_llm_calls_total", model=MODEL, outcome="ok") == 0
    assert grew("dsagent_llm_tokens_total", model=MODEL, direction="out") == expected_tokens()[1]


async def test_a_stream_broken_before_any_content_is_answered_by_the_fallback(
    api: Fetch, scripted_llm: ScriptedLLM, service: Any, runtime: Any
) -> None:
    """Only the role chunk had come when the first model broke off: the fallback answers,
    the response headers and every chunk name it, and the call is charged and audited as
    its own."""
    scripted_llm.reply(ANSWER, cut_after=0).reply("from the backup", completion_tokens=3)
    response = await chat(api, ask(stream=True))
    assert response.code == 200
    assert response.headers["X-DSAgent-Model"] == "openai/backup"
    assert response.headers["X-DSAgent-Fallbacks"] == "1"
    *chunks, done = events(response.body)
    assert done == "[DONE]"
    assert streamed_text(chunks) == "from the backup"
    assert {chunk["model"] for chunk in chunks} == {"openai/backup"}
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    await service.drain()
    [record] = runtime.audit.query(kind="llm.call")
    assert (record.outcome, record.details["model_used"]) == ("ok", "openai/backup")
    assert record.details["fallbacks"] == 1
    assert {row["model"] for row in service.usage.rows()} == {"openai/backup"}


@pytest.mark.parametrize("how", ["cut", "error_event"])
async def test_the_kernels_gateway_client_raises_the_code_and_keeps_the_partial_text(
    api: Fetch, scripted_llm: ScriptedLLM, service: Any, runtime: Any, how: str
) -> None:
    client = GatewayClient(
        os.environ[GATEWAY_URL_VARIABLE], os.environ[GATEWAY_TOKEN_VARIABLE], model=MODEL
    )
    script_break(scripted_llm, how)
    deltas: list[str] = []

    def ask_the_gateway() -> ModelError:
        with pytest.raises(ModelError) as failed:
            client.chat(ask()["messages"], [], on_delta=deltas.append)
        return failed.value

    error = await asyncio.to_thread(ask_the_gateway)  # the server runs on this loop
    assert error.code == "upstream_failed"
    assert "broke off" in error.message and SHAPED_KEY not in error.message
    assert error.partial is not None and error.partial.text == SENT
    assert "".join(deltas) == SENT
    await assert_recorded_once(api, service, runtime)
