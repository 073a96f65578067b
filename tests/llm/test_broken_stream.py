"""A provider whose stream breaks after it began, through litellm's real Router.

Once part of an answer has been streamed, the Router tries no other model (the
client would get two answers spliced together): the call ends as ``upstream_failed``,
is charged for the tokens that were sent and audited once. A stream that breaks
before any content is handed to the fallback, which then answers in full.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_dsagent.exceptions import UpstreamFailed
from jupyter_dsagent.llm import LLMService, count_prompt_tokens, count_tokens
from tests.llm.support import ask
from tests.scripted_llm import ScriptedLLM

MODEL = "openai/gpt-4o-mini"
ANSWER = "one two three four five six"
SENT = "one two three"  # what the provider streams before it breaks (3 chunks)
BUDGET = 100_000

Make = Callable[..., LLMService]


@pytest.fixture
def make_service(make_service: Make, scripted_llm: ScriptedLLM) -> Make:
    """The direct service with a fallback, retries and a token budget set."""

    def make(**settings: Any) -> LLMService:
        return make_service(
            **{
                "fallback_models": "openai/backup",
                "model_api_bases": f"openai/backup={scripted_llm.url}",
                "model_retries": 2,
                "user_token_budget": BUDGET,
                **settings,
            }
        )

    return make


def script_break(llm: ScriptedLLM, how: str) -> None:
    """The first answer breaks after three words; a second one is there for a retry or
    a fallback to take (neither should)."""
    if how == "cut":
        llm.reply(ANSWER, cut_after=3)
    else:
        llm.reply(ANSWER, error_after=3, message="The server had an error", code="server_error")
    llm.reply("a second answer that must not be fetched")


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"]
    )


def stream_sync(service: LLMService, chunks: list[dict[str, Any]]) -> None:
    for chunk in service.stream(ask(), user="ada"):
        chunks.append(chunk)


def stream_async(service: LLMService, chunks: list[dict[str, Any]]) -> None:
    async def run() -> None:
        stream = await service.astream(ask(), user="ada")
        try:
            async for chunk in stream:
                chunks.append(chunk)
        finally:
            await stream.aclose()
            await service.aclose()

    asyncio.run(run())


@pytest.mark.parametrize("how", ["cut", "error_event"])
@pytest.mark.parametrize("consume", [stream_sync, stream_async], ids=["sync", "async"])
def test_a_stream_broken_after_it_began_fails_once_and_is_charged_for_what_was_sent(
    make_service: Make,
    scripted_llm: ScriptedLLM,
    how: str,
    consume: Callable[[LLMService, list[dict[str, Any]]], None],
) -> None:
    service = make_service()
    script_break(scripted_llm, how)
    chunks: list[dict[str, Any]] = []
    with pytest.raises(UpstreamFailed) as failed:
        consume(service, chunks)

    assert text_of(chunks) == SENT
    assert all("usage" not in chunk for chunk in chunks)  # the call did not end well
    assert failed.value.code == "upstream_failed"
    message = failed.value.message
    assert MODEL in message and "broke off" in message and "incomplete" in message
    assert "openai/backup" not in message  # it was not tried, so it is not named
    # Neither a retry nor the fallback: the client already has part of this answer.
    assert [r.model for r in scripted_llm.requests] == ["gpt-4o-mini"]
    assert scripted_llm.pending() == 1

    tokens_in = count_prompt_tokens(ask()["messages"], MODEL)
    tokens_out = count_tokens(SENT, MODEL)
    [record] = service.audit.query(kind="llm.call")
    assert (record.outcome, record.details["code"]) == ("error", "upstream_failed")
    assert (record.details["tokens_in"], record.details["tokens_out"]) == (tokens_in, tokens_out)
    assert record.details["model_used"] == MODEL and record.details["fallbacks"] == 0
    [row] = service.usage.rows()
    assert (row["model"], row["calls"]) == (MODEL, 1)
    assert (row["tokens_in"], row["tokens_out"]) == (tokens_in, tokens_out)
    assert row["cost"] == pytest.approx(record.details["cost_usd"]) and row["cost"] > 0
    # The reservation was replaced by the charge: nothing else is held against the budget.
    spent = service.usage.spent(service.audit.hash_actor("ada"))[("user", "total")]
    assert spent.tokens == tokens_in + tokens_out


def test_a_stream_that_breaks_before_any_content_is_answered_by_the_fallback(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    """Only the role chunk was sent, so litellm's Router hands the call to the fallback;
    the call is recorded as the fallback's, the model that produced the answer."""
    service = make_service()
    scripted_llm.reply(ANSWER, cut_after=0).reply("from the backup", completion_tokens=3)
    stream = service.stream(ask(), user="ada")
    assert stream.route.model == "openai/backup"  # known before the first chunk is sent
    chunks = list(stream)

    assert text_of(chunks) == "from the backup"  # nothing of the first model repeated
    assert {chunk["model"] for chunk in chunks} == {"openai/backup"}
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    assert [r.model for r in scripted_llm.requests] == ["gpt-4o-mini", "backup"]
    [record] = service.audit.query(kind="llm.call")
    assert record.outcome == "ok"
    assert (record.details["model_used"], record.details["fallbacks"]) == ("openai/backup", 1)
    [row] = service.usage.rows()
    assert (row["model"], row["tokens_out"]) == ("openai/backup", 3)


def test_a_plain_answer_cut_short_is_retried(make_service: Make, scripted_llm: ScriptedLLM) -> None:
    """Nothing of a non-streamed answer reaches the client until it is whole, so a body
    cut short is one more failed attempt."""
    service = make_service()
    scripted_llm.reply(ANSWER, cut_after=3).reply("whole")
    answer = service.complete(ask(), user="ada")
    assert answer["choices"][0]["message"]["content"] == "whole"
    assert answer.route.retries == 1
    assert len(scripted_llm.requests) == 2


def test_a_stream_that_breaks_before_any_content_without_a_fallback_is_refused_whole(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    """No model could answer: the error comes before any chunk (a plain HTTP error for
    the gateway's client), the call is audited once and nothing is charged."""
    service = make_service(fallback_models="", model_api_bases="", model_retries=0)
    scripted_llm.reply(ANSWER, cut_after=0)
    with pytest.raises(UpstreamFailed) as failed:
        service.stream(ask(), user="ada")
    assert failed.value.code == "upstream_failed"
    assert len(scripted_llm.requests) == 1
    [record] = service.audit.query(kind="llm.call")
    assert (record.outcome, record.details["tokens_out"]) == ("error", 0)
    assert sum(row["tokens_out"] for row in service.usage.rows()) == 0
