"""The model gateway end to end: a real Jupyter server, litellm's real Router, and the
scripted OpenAI-compatible server on 127.0.0.1 standing in for the provider."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from typing import Any, ClassVar

import pytest
from jupyter_server.auth import IdentityProvider, User
from prometheus_client.parser import text_string_to_metric_families
from traitlets.config import Config

from tests.llm.support import SHAPED_KEY, ask, events, streamed_text
from tests.scripted_llm import ScriptedLLM, call

from .conftest import Fetch
from .wire import error_code

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "describe_dataframe",
            "description": "Summarise a DataFrame.",
            "parameters": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
]


@pytest.fixture
def provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider key is in the environment the server starts with."""
    monkeypatch.setenv("OPENAI_API_KEY", SHAPED_KEY)


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, scripted_llm: ScriptedLLM, provider_key: None
) -> Config:
    """The gateway in front of the scripted model; ``dsagent`` marks still win."""
    dsagent = jp_server_config["DSAgent"]
    for name, value in {
        "model": "openai/gpt-4o-mini",
        "retry_max_wait_seconds": 0.01,
        "model_timeout_seconds": 10.0,
        "api_base": scripted_llm.url,
    }.items():
        if name not in dsagent:
            dsagent[name] = value
    others = [*dsagent.get("fallback_models", []), *dsagent.get("allowed_models", [])]
    dsagent["model_api_bases"] = [f"{name}={scripted_llm.url}" for name in others]
    return jp_server_config


async def chat(api: Fetch, body: Any, **kwargs: Any) -> Any:
    return await api(
        "llm",
        "v1",
        "chat",
        "completions",
        method="POST",
        body=body if isinstance(body, str) else json.dumps(body),
        **kwargs,
    )


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def header(received: Any, name: str) -> str | None:
    """A header the scripted model received (the client may send any case)."""
    return {k.lower(): v for k, v in received.headers.items()}.get(name.lower())


@pytest.fixture
def records(jp_serverapp: Any, runtime: Any) -> Any:
    """``await records(kind)``: audit records, once the gateway wrote what it queued."""

    async def query(kind: str) -> list[Any]:
        await jp_serverapp.web_app.settings["dsagent_llm"].drain()
        return runtime.audit.query(kind=kind)

    return query


# -- the OpenAI-compatible endpoint ------------------------------------------------------


async def test_models_lists_the_configured_model_first_then_its_fallbacks(api: Fetch) -> None:
    response = await api("llm", "v1", "models")
    assert response.code == 200
    listed = body_of(response)
    assert listed["object"] == "list"
    assert [m["id"] for m in listed["data"]] == ["openai/gpt-4o-mini"]


@pytest.mark.dsagent(fallback_models=["openai/backup"], allowed_models=["openai/extra"])
async def test_models_add_fallbacks_and_allowed_models(api: Fetch) -> None:
    listed = body_of(await api("llm", "v1", "models"))
    assert [m["id"] for m in listed["data"]] == [
        "openai/gpt-4o-mini",
        "openai/backup",
        "openai/extra",
    ]


async def test_plain_completion_reaches_the_model_with_the_servers_key(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    scripted_llm.reply("Hello from the model", prompt_tokens=12, completion_tokens=4)
    response = await chat(api, ask("Say hello"))
    assert response.code == 200, response.body
    answer = body_of(response)
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "openai/gpt-4o-mini"
    assert answer["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello from the model",
    }
    assert answer["usage"]["prompt_tokens"] == 12 and answer["usage"]["completion_tokens"] == 4
    assert answer["usage"]["cost_usd"] > 0  # gpt-4o-mini is priced in litellm's local map
    assert response.headers["X-DSAgent-Model"] == "openai/gpt-4o-mini"
    assert response.headers["X-DSAgent-Fallbacks"] == "0"

    [sent] = scripted_llm.requests
    assert header(sent, "Authorization") == f"Bearer {SHAPED_KEY}"
    assert sent.body["temperature"] == 0.2
    assert sent.body["max_tokens"] == runtime.settings.max_output_tokens
    assert sent.body["messages"] == ask("Say hello")["messages"]

    [record] = await records("llm.call")
    assert record.outcome == "ok"
    assert record.details["model_requested"] == record.details["model_used"] == "openai/gpt-4o-mini"
    assert (record.details["tokens_in"], record.details["tokens_out"]) == (12, 4)
    assert record.details["cost_usd"] == answer["usage"]["cost_usd"]
    expected = json.dumps(
        {"messages": ask("Say hello")["messages"], "tools": []},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert record.details["prompt_sha256"] == hashlib.sha256(expected.encode()).hexdigest()
    assert "Say hello" not in json.dumps(record.to_dict())
    assert record.actor.startswith("u_")


async def test_temperature_of_the_request_wins(api: Fetch, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.reply("ok")
    assert (await chat(api, ask(temperature=0.9, max_tokens=50))).code == 200
    sent = scripted_llm.requests[-1].body
    assert (sent["temperature"], sent["max_tokens"]) == (0.9, 50)


async def test_streamed_completion_ends_with_usage_and_done(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    scripted_llm.reply("one two three four", prompt_tokens=9, completion_tokens=4)
    response = await chat(api, ask(stream=True))
    assert response.code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["X-DSAgent-Model"] == "openai/gpt-4o-mini"
    chunks = events(response.body)
    assert chunks[-1] == "[DONE]"
    assert streamed_text(chunks) == "one two three four"
    usage_chunk = chunks[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["prompt_tokens"] == 9
    assert usage_chunk["usage"]["completion_tokens"] == 4
    assert usage_chunk["usage"]["cost_usd"] > 0
    assert {c["model"] for c in chunks[:-1]} == {"openai/gpt-4o-mini"}
    assert scripted_llm.requests[-1].body["stream_options"] == {"include_usage": True}
    [record] = await records("llm.call")
    assert record.details["stream"] is True and record.details["tokens_out"] == 4


async def test_tool_calls_pass_through_plain_and_streamed(
    api: Fetch, scripted_llm: ScriptedLLM
) -> None:
    tool_call = call("describe_dataframe", {"name": "sales"}, call_id="call_1")
    scripted_llm.reply(tool_calls=[tool_call]).reply(tool_calls=[tool_call])

    plain = body_of(await chat(api, ask(tools=TOOLS, tool_choice="auto")))
    assert plain["choices"][0]["finish_reason"] == "tool_calls"
    assert plain["choices"][0]["message"]["tool_calls"] == [tool_call]
    assert scripted_llm.requests[0].body["tools"] == TOOLS
    assert scripted_llm.requests[0].body["tool_choice"] == "auto"

    chunks = events((await chat(api, ask(tools=TOOLS, stream=True))).body)
    deltas = [
        d
        for c in chunks
        if isinstance(c, dict)
        for ch in c["choices"]
        for d in ch["delta"].get("tool_calls", [])
    ]
    assert deltas[0]["id"] == "call_1"
    assert deltas[0]["function"]["name"] == "describe_dataframe"
    assert json.loads("".join(d["function"].get("arguments", "") for d in deltas)) == {
        "name": "sales"
    }
    finish = [ch["finish_reason"] for c in chunks if isinstance(c, dict) for ch in c["choices"]]
    assert "tool_calls" in finish


async def test_a_429_is_retried_then_answered(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    scripted_llm.fail(429, retry_after=0).reply("after the retry")
    response = await chat(api, ask())
    assert response.code == 200, response.body
    assert body_of(response)["choices"][0]["message"]["content"] == "after the retry"
    assert response.headers["X-DSAgent-Retries"] == "1"
    assert len(scripted_llm.requests) == 2
    [record] = await records("llm.call")
    assert record.details["retries"] == 1


@pytest.mark.dsagent(
    model="openai/down-primary",
    fallback_models=["openai/backup"],
    model_retries=1,
    cooldown_after_failures=1,
)
async def test_primary_down_falls_back_is_audited_and_then_cooled_down(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    scripted_llm.reply("from the backup").reply("from the backup again")
    response = await chat(api, ask())
    assert response.code == 200, response.body
    assert body_of(response)["model"] == "openai/backup"
    assert response.headers["X-DSAgent-Model"] == "openai/backup"
    assert response.headers["X-DSAgent-Fallbacks"] == "1"
    [record] = await records("llm.call")
    assert record.details["model_requested"] == "openai/down-primary"
    assert record.details["model_used"] == "openai/backup"
    assert record.details["fallbacks"] == 1
    asked_primary = Counter(r.model for r in scripted_llm.requests)["down-primary"]
    assert asked_primary >= 1

    # The primary is cooling down now: the next call goes to the backup directly.
    assert (await chat(api, ask())).code == 200
    assert Counter(r.model for r in scripted_llm.requests)["down-primary"] == asked_primary


@pytest.mark.dsagent(model="openai/down-a", fallback_models=["openai/down-b"], model_retries=1)
async def test_every_model_down_is_a_clear_502_plain_or_streamed(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    for body in (ask(), ask(stream=True)):
        response = await chat(api, body)
        assert (response.code, error_code(response)) == (502, "upstream_failed")
        message = body_of(response)["error"]["message"]
        assert "openai/down-a" in message and "openai/down-b" in message
    failed = await records("llm.call")
    assert [r.outcome for r in failed] == ["error", "error"]
    assert {r.details["code"] for r in failed} == {"upstream_failed"}
    assert {r.model for r in scripted_llm.requests} == {"down-a", "down-b"}


@pytest.mark.dsagent(model_timeout_seconds=0.3, model_retries=0)
async def test_a_model_slower_than_the_timeout_is_abandoned(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    scripted_llm.reply("too late", delay=2.0)
    response = await chat(api, ask())
    assert (response.code, error_code(response)) == (502, "upstream_failed")
    assert "within 0.3 seconds" in body_of(response)["error"]["message"]
    [record] = await records("llm.call")
    assert record.outcome == "timeout"


# -- policy: tokens, models, budgets, rate ----------------------------------------------


@pytest.mark.dsagent(max_tokens_per_request=256, max_output_tokens=100)
async def test_requests_over_the_token_limits_are_refused_before_sending(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    long = await chat(api, ask("word " * 600))
    assert (long.code, error_code(long)) == (400, "token_limit")
    assert "at most 256" in body_of(long)["error"]["message"]
    greedy = await chat(api, ask(max_tokens=500))
    assert (greedy.code, error_code(greedy)) == (400, "token_limit")
    assert scripted_llm.requests == []
    denied = await records("llm.denied")
    assert [d.details["code"] for d in denied] == ["token_limit", "token_limit"]
    assert await records("llm.call") == []


@pytest.mark.dsagent(
    fallback_models=["openai/backup"],
    allowed_models=["openai/gpt-4.1"],
    denied_models=["openai/gpt-4.*"],
)
async def test_models_outside_the_allow_list_or_on_the_deny_list_get_403(
    records: Any, api: Fetch, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    denied = await chat(api, ask(model="openai/gpt-4.1"))
    assert (denied.code, error_code(denied)) == (403, "model_not_allowed")
    assert "deny-list" in body_of(denied)["error"]["message"]
    unknown = await chat(api, ask(model="anthropic/claude-3-opus"))
    assert (unknown.code, error_code(unknown)) == (403, "model_not_allowed")
    assert "openai/gpt-4o-mini, openai/backup" in body_of(unknown)["error"]["message"]
    assert scripted_llm.requests == []
    assert [r.subject for r in await records("llm.denied")] == [
        "anthropic/claude-3-opus",
        "openai/gpt-4.1",
    ]
    assert await records("auth.denied") == []  # a policy refusal, not an authorizer's
    listed = body_of(await api("llm", "v1", "models"))
    assert "openai/gpt-4.1" not in [m["id"] for m in listed["data"]]
    scripted_llm.reply("the backup may be named")
    assert (await chat(api, ask(model="openai/backup"))).code == 200


@pytest.mark.dsagent(model="")
async def test_without_a_model_the_gateway_says_how_to_configure_one(
    api: Fetch, scripted_llm: ScriptedLLM
) -> None:
    assert body_of(await api("llm", "v1", "models")) == {"object": "list", "data": []}
    response = await chat(api, ask())
    assert (response.code, error_code(response)) == (503, "model_not_configured")
    assert "DSAGENT_MODEL" in body_of(response)["error"]["message"]
    assert scripted_llm.requests == []


class TwoLearners(IdentityProvider):
    """Two people, each with a token of their own (as a hub gives each user)."""

    TOKENS: ClassVar[dict[str, str]] = {
        "alice-token-0123456789": "alice",
        "bob-token-0123456789": "bob",
    }

    def get_user(self, handler: Any) -> User | None:
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        name = self.TOKENS.get(token.strip())
        if scheme.lower() != "token" or name is None:
            return None
        handler._token_authenticated = True
        return User(username=name)


def as_user(name: str) -> dict[str, str]:
    token = next(t for t, user in TwoLearners.TOKENS.items() if user == name)
    return {"Authorization": f"token {token}"}


@pytest.mark.serverapp(identity_provider_class=TwoLearners)
@pytest.mark.dsagent(user_daily_token_budget=60)
async def test_a_spent_budget_stops_one_user_while_another_goes_on(
    records: Any, http_server_client: Any, jp_base_url: str, scripted_llm: ScriptedLLM, runtime: Any
) -> None:
    async def chat_as(name: str) -> Any:
        return await http_server_client.fetch(
            f"{jp_base_url}dsagent/api/llm/v1/chat/completions",
            method="POST",
            body=json.dumps(ask()),
            headers=as_user(name),
            raise_error=False,
        )

    scripted_llm.reply("first", prompt_tokens=30, completion_tokens=30).reply("for bob")
    assert (await chat_as("alice")).code == 200
    refused = await chat_as("alice")
    assert (refused.code, error_code(refused)) == (402, "budget_exhausted")
    assert "daily token budget" in json.loads(refused.body)["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 86_400  # until 00:00 UTC
    assert (await chat_as("bob")).code == 200
    assert len(scripted_llm.requests) == 2

    [exhausted] = await records("budget.exhausted")
    assert exhausted.actor == runtime.audit.hash_actor("alice")
    usage = json.loads(
        (
            await http_server_client.fetch(
                f"{jp_base_url}dsagent/api/llm/usage", headers=as_user("bob")
            )
        ).body
    )
    alice, bob = runtime.audit.hash_actor("alice"), runtime.audit.hash_actor("bob")
    assert usage["user"] == bob
    assert usage["by_user"][alice]["today"]["tokens"] == 60
    assert set(usage["by_user"][bob]["by_model"]) == {"openai/gpt-4o-mini"}
    assert usage["by_model"]["openai/gpt-4o-mini"]["total"]["calls"] == 2
    [budget] = usage["budgets"]
    assert (budget["setting"], budget["limit"]) == ("user_daily_token_budget", 60)
    assert "alice" not in json.dumps(usage) and "bob" not in json.dumps(usage)


@pytest.mark.dsagent(rate_limit_per_minute=2)
async def test_the_per_user_rate_limit_answers_429_with_retry_after(
    api: Fetch, scripted_llm: ScriptedLLM
) -> None:
    scripted_llm.reply("one").reply("two")
    assert (await chat(api, ask())).code == 200
    assert (await chat(api, ask())).code == 200
    limited = await chat(api, ask())
    assert (limited.code, error_code(limited)) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(scripted_llm.requests) == 2


async def test_fields_that_could_redirect_the_call_are_refused(
    api: Fetch, scripted_llm: ScriptedLLM
) -> None:
    for field in ("api_base", "api_key", "base_url", "custom_llm_provider", "mock_response"):
        response = await chat(api, ask(**{field: "http://evil.example/v1"}))
        assert (response.code, error_code(response)) == (400, "bad_request"), field
        assert repr(field) in body_of(response)["error"]["message"]
    for broken in ("not json", json.dumps({"messages": []}), json.dumps([1, 2])):
        response = await chat(api, broken)
        assert (response.code, error_code(response)) == (400, "bad_request")
    assert scripted_llm.requests == []


@pytest.mark.dsagent(max_gateway_body_bytes=2048)
async def test_a_body_over_the_limit_is_refused_with_413(
    api: Fetch, scripted_llm: ScriptedLLM
) -> None:
    response = await chat(api, ask("x" * 5000))
    assert (response.code, error_code(response)) == (413, "too_large")
    assert scripted_llm.requests == []


# -- metrics --------------------------------------------------------------------------------


def sample(metrics_text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def test_calls_tokens_cost_errors_and_latency_are_on_the_servers_registry(
    records: Any, api: Fetch, jp_fetch: Fetch, scripted_llm: ScriptedLLM
) -> None:
    model = "openai/gpt-4o-mini"
    before = (await jp_fetch("metrics")).body.decode()
    scripted_llm.reply("counted", prompt_tokens=7, completion_tokens=3)
    assert (await chat(api, ask())).code == 200
    assert (await chat(api, ask(model="openai/not-allowed"))).code == 403
    await records("llm.call")  # the gateway updates metrics with its records
    after = (await jp_fetch("metrics")).body.decode()

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("dsagent_llm_calls_total", model=model, outcome="ok") == 1
    assert grew("dsagent_llm_tokens_total", model=model, direction="in") == 7
    assert grew("dsagent_llm_tokens_total", model=model, direction="out") == 3
    assert grew("dsagent_llm_cost_usd_total", model=model) > 0
    assert grew("dsagent_llm_latency_seconds_count", model=model) == 1
    assert grew("dsagent_llm_errors_total", model="other", code="model_not_allowed") == 1


async def test_a_client_leaving_mid_stream_is_charged_for_what_was_sent(
    records: Any,
    port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    scripted_llm: ScriptedLLM,
) -> None:
    words = 20_000
    scripted_llm.reply(" ".join(f"w{i}" for i in range(words)))
    body = json.dumps(ask(stream=True)).encode()
    head = (
        f"POST {jp_base_url}dsagent/api/llm/v1/chat/completions HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: {jp_auth_header['Authorization']}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + body)
    await writer.drain()
    assert b"200 OK" in await reader.readuntil(b"data: ")  # the stream has begun
    writer.close()
    await writer.wait_closed()
    found: list[Any] = []
    for _ in range(600):  # bounded: the gateway notices at its next write
        found = await records("llm.call")
        if found:
            break
        await asyncio.sleep(0.05)
    [record] = found
    assert record.outcome == "cancelled"
    assert 0 < record.details["tokens_out"] < words
