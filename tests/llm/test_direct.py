"""The library without a server (a kernel in plain IPython): the same rules, litellm's real
Router, the scripted model on 127.0.0.1 as the provider."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_dsagent.exceptions import (
    BudgetExhausted,
    ModelNotAllowed,
    ModelNotConfigured,
    RateLimited,
    TokenLimitExceeded,
    UpstreamFailed,
)
from jupyter_dsagent.llm import LLMService
from jupyter_dsagent.llm.transcripts import TRANSCRIPTS_FILE
from tests.llm.support import SHAPED_KEY, ask
from tests.scripted_llm import ScriptedLLM, call

Make = Callable[..., LLMService]


def calls(service: LLMService) -> list[Any]:
    return service.audit.query(kind="llm.call")


def test_complete_answers_in_openai_format_with_cost_and_route(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    service = make_service()
    scripted_llm.reply(
        "Hi", tool_calls=[call("f", {"x": 1}, call_id="c1")], prompt_tokens=5, completion_tokens=2
    )
    answer = service.complete(ask(), user="ada")
    assert answer["model"] == "openai/gpt-4o-mini"
    assert answer["choices"][0]["message"]["tool_calls"][0]["id"] == "c1"
    assert answer["usage"]["total_tokens"] == 7 and answer["usage"]["cost_usd"] > 0
    assert (answer.route.model, answer.route.fallbacks, answer.route.retries) == (
        "openai/gpt-4o-mini",
        0,
        0,
    )
    assert json.loads(json.dumps(answer)) == dict(answer)
    [record] = calls(service)
    assert record.actor == service.audit.hash_actor("ada")
    [row] = service.usage.rows()
    assert (row["actor"], row["tokens_in"], row["tokens_out"]) == (record.actor, 5, 2)


def test_stream_yields_chunks_then_usage_and_knows_its_route_first(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    service = make_service()
    scripted_llm.reply("a b c", prompt_tokens=4, completion_tokens=3)
    stream = service.stream(ask(), user="ada")
    assert stream.route.model == "openai/gpt-4o-mini"
    chunks = list(stream)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1] if c["choices"])
        == "a b c"
    )
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    [record] = calls(service)
    assert (record.outcome, record.details["stream"]) == ("ok", True)


def test_a_stream_stopped_early_is_charged_for_what_it_sent_and_audited_as_cancelled(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    service = make_service()
    scripted_llm.reply("one two three four five six")
    stream = service.stream(ask(), user="ada")
    next(stream), next(stream)  # the role chunk, then "one"
    stream.close()
    [record] = calls(service)
    assert record.outcome == "cancelled"
    assert record.details["tokens_out"] >= 1
    [row] = service.usage.rows()
    assert row["tokens_out"] == record.details["tokens_out"]


def test_the_async_path_answers_streams_and_closes_cleanly(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    service = make_service()
    scripted_llm.reply("async answer").reply("async stream")

    async def run() -> tuple[Any, list[Any]]:
        answer = await service.acomplete(ask(), user="ada")
        stream = await service.astream(ask(), user="ada")
        chunks = [chunk async for chunk in stream]
        await service.aclose()
        return answer, chunks

    answer, chunks = asyncio.run(run())
    assert answer["choices"][0]["message"]["content"] == "async answer"
    assert chunks[-1]["usage"]["cost_usd"] > 0
    assert [r.outcome for r in calls(service)] == ["ok", "ok"]


def test_the_same_rules_apply_without_a_server(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    service = make_service(
        denied_models="openai/gpt-4o",
        allowed_models="openai/gpt-4o",
        max_tokens_per_request=256,
        user_token_budget=30,
        rate_limit_per_minute=3,
    )
    with pytest.raises(ModelNotAllowed):
        service.complete(ask(model="openai/gpt-4o"), user="ada")
    with pytest.raises(TokenLimitExceeded):
        service.complete(ask("word " * 500), user="ada")
    scripted_llm.reply("spent", prompt_tokens=20, completion_tokens=10)
    service.complete(ask(), user="ada")
    with pytest.raises(RateLimited) as limited:
        service.complete(ask(), user="ada")  # 4th call in a minute
    assert limited.value.retry_after > 0
    assert scripted_llm.pending() == 0 and len(scripted_llm.requests) == 1
    service = make_service(user_token_budget=30)
    with pytest.raises(BudgetExhausted) as refused:
        service.complete(ask(), user="ada")  # the same usage.sqlite: ada spent 30 above
    assert refused.value.retry_after is None
    kinds = [r.kind for r in service.audit.query(limit=20)]
    assert kinds.count("llm.denied") == 2 and kinds.count("budget.exhausted") == 1


def test_failures_are_ours_and_release_the_reservation(
    make_service: Make, scripted_llm: ScriptedLLM
) -> None:
    service = make_service(model="openai/down-only", user_token_budget=1000, model_retries=0)
    with pytest.raises(UpstreamFailed, match="openai/down-only"):
        service.complete(ask(), user="ada")
    assert service.usage.spent(service.audit.hash_actor("ada"))[("user", "total")].tokens == 0
    [record] = calls(service)
    assert (record.outcome, record.details["code"]) == ("error", "upstream_failed")


def test_no_model_or_an_unknown_provider_means_not_configured(make_service: Make) -> None:
    with pytest.raises(ModelNotConfigured, match="DSAGENT_MODEL"):
        make_service(model="").complete(ask(), user="ada")
    with pytest.raises(ModelNotConfigured, match="no provider litellm knows"):
        make_service(model="nosuchprovider/model-x").complete(ask(), user="ada")


def test_transcripts_are_kept_apart_redacted_and_private_when_asked_for(
    make_service: Make, scripted_llm: ScriptedLLM, data_dir: Path
) -> None:
    service = make_service(store_transcripts=True)
    scripted_llm.reply("noted")
    service.complete(ask(f"my key is {SHAPED_KEY}, keep it"), user="ada")
    path = data_dir / TRANSCRIPTS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    [line] = path.read_text().splitlines()
    transcript = json.loads(line)
    assert transcript["answer"]["content"] == "noted"
    assert "keep it" in transcript["messages"][0]["content"]
    assert SHAPED_KEY not in line
    audit = json.dumps([r.to_dict() for r in calls(service)])
    assert "keep it" not in audit and transcript["prompt_sha256"] in audit


def test_without_the_flag_no_transcript_is_written(
    make_service: Make, scripted_llm: ScriptedLLM, data_dir: Path
) -> None:
    scripted_llm.reply("quiet")
    make_service().complete(ask(), user="ada")
    assert not (data_dir / TRANSCRIPTS_FILE).exists()
