"""Who reaches the model gateway, what kernels inherit, and that keys never show.

Kernels started by the server get the gateway's URL and a token that opens the
gateway and nothing else; the provider keys stay in the server. No key text appears
in a log line, an audit record or an error body, even when a provider echoes it.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_dsagent.llm import GATEWAY_TOKEN_VARIABLE, GATEWAY_URL_VARIABLE
from tests.llm.support import PLAIN_KEY, SHAPED_KEY, ask
from tests.scripted_llm import ScriptedLLM

from .conftest import Fetch
from .wire import error_code

GATEWAY_ROUTES = [
    ("POST", "llm/v1/chat/completions"),
    ("GET", "llm/v1/models"),
    ("GET", "llm/usage"),
]


@pytest.fixture
def provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider's key and the primary model's own key, before the server starts."""
    monkeypatch.setenv("OPENAI_API_KEY", SHAPED_KEY)
    monkeypatch.setenv("DSAGENT_API_KEY", PLAIN_KEY)


@pytest.fixture
def jp_server_config(
    jp_server_config: Config, scripted_llm: ScriptedLLM, provider_keys: None
) -> Config:
    dsagent = jp_server_config["DSAgent"]
    dsagent.setdefault("model", "openai/gpt-4o-mini")
    dsagent.setdefault("fallback_models", ["openai/backup"])
    dsagent["api_base"] = scripted_llm.url
    dsagent["model_api_bases"] = [f"openai/backup={scripted_llm.url}"]
    dsagent["retry_max_wait_seconds"] = 0.01
    return jp_server_config


@pytest.fixture
def gateway_token(jp_serverapp: Any) -> str:
    return str(os.environ[GATEWAY_TOKEN_VARIABLE])


async def fetch(client: Any, base_url: str, method: str, path: str, headers: dict[str, str]) -> Any:
    return await client.fetch(
        f"{base_url}dsagent/api/{path}" if path.startswith("llm") else f"{base_url}{path}",
        method=method,
        body=json.dumps(ask()) if method == "POST" else None,
        headers=headers,
        raise_error=False,
        follow_redirects=False,
    )


# -- credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "token not-the-token"}],
    ids=["anonymous", "wrong-bearer", "wrong-token"],
)
async def test_gateway_refuses_requests_without_a_valid_credential(
    http_server_client: Any,
    jp_base_url: str,
    jp_serverapp: Any,
    scripted_llm: ScriptedLLM,
    credentials: dict[str, str],
) -> None:
    for method, path in GATEWAY_ROUTES:
        response = await fetch(http_server_client, jp_base_url, method, path, credentials)
        assert (response.code, error_code(response)) == (403, "unauthorized"), path
        assert SHAPED_KEY not in response.body.decode()
    assert scripted_llm.requests == []


async def test_the_gateway_token_opens_the_gateway_and_nothing_else(
    jp_serverapp: Any,
    http_server_client: Any,
    jp_base_url: str,
    gateway_token: str,
    scripted_llm: ScriptedLLM,
    runtime: Any,
) -> None:
    bearer = {"Authorization": f"Bearer {gateway_token}"}
    scripted_llm.reply("for the kernel")
    for method, path in GATEWAY_ROUTES:
        response = await fetch(http_server_client, jp_base_url, method, path, bearer)
        assert response.code == 200, (path, response.body)
    for method, path in [
        ("GET", "dsagent/api/uploads"),
        ("GET", "dsagent/api/audit"),
        ("GET", "dsagent/api/health"),
        ("GET", "api/kernels"),
        ("GET", "api/contents"),
        ("POST", "api/kernels"),
        ("GET", "dsagent/api/llm/v1/embeddings"),
    ]:
        response = await fetch(http_server_client, jp_base_url, method, path, bearer)
        assert response.code == 403, (method, path, response.code)
    # The gateway token's calls are the server's own user's, in the audit log too.
    await jp_serverapp.web_app.settings["dsagent_llm"].drain()
    [record] = runtime.audit.query(kind="llm.call")
    assert record.actor == runtime.audit.hash_actor(
        __import__("jupyter_dsagent.runtime", fromlist=["current_user"]).current_user()
    )


async def test_a_gateway_token_in_the_url_is_not_accepted(
    http_server_client: Any, jp_base_url: str, gateway_token: str
) -> None:
    response = await http_server_client.fetch(
        f"{jp_base_url}dsagent/api/llm/v1/models?token={gateway_token}", raise_error=False
    )
    assert response.code == 403


# -- the environment kernels inherit -------------------------------------------------------


async def test_server_environment_offers_the_gateway_and_holds_no_key(
    jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    assert os.environ[GATEWAY_URL_VARIABLE] == (
        f"http://127.0.0.1:{jp_http_port}{jp_base_url}dsagent/api/llm/v1"
    )
    assert "OPENAI_API_KEY" not in os.environ and "DSAGENT_API_KEY" not in os.environ
    assert SHAPED_KEY not in json.dumps(dict(os.environ))


@pytest.mark.dsagent(keep_keys_from_kernels=False)
async def test_keys_stay_in_the_environment_when_the_administrator_says_so(
    jp_serverapp: Any,
) -> None:
    assert os.environ["OPENAI_API_KEY"] == SHAPED_KEY
    assert os.environ[GATEWAY_URL_VARIABLE].endswith("/dsagent/api/llm/v1")


KERNEL_CODE = """
import json, os, urllib.request
request = urllib.request.Request(
    os.environ["DSAGENT_GATEWAY_URL"] + "/chat/completions",
    data=json.dumps({"messages": [{"role": "user", "content": "hello from a kernel"}]}).encode(),
    headers={"Authorization": "Bearer " + os.environ["DSAGENT_GATEWAY_TOKEN"],
             "Content-Type": "application/json"},
)
answer = json.load(urllib.request.urlopen(request, timeout=60))
print(json.dumps({"environ": dict(os.environ), "answer": answer}))
"""


@pytest.mark.slow
async def test_a_kernel_started_by_the_server_sees_the_gateway_and_no_provider_key(
    jp_fetch: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str, scripted_llm: ScriptedLLM
) -> None:
    started = json.loads(
        (await jp_fetch("api", "kernels", method="POST", body=json.dumps({}))).body
    )
    kernel = jp_serverapp.kernel_manager.get_kernel(started["id"])
    client = kernel.client()
    client.start_channels()
    outputs: list[str] = []

    def keep_stdout(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            outputs.append(message["content"]["text"])

    scripted_llm.reply("the gateway answered the kernel")
    try:
        await client.wait_for_ready(timeout=120)
        reply = await client.execute_interactive(KERNEL_CODE, output_hook=keep_stdout, timeout=120)
    finally:
        client.stop_channels()
        await jp_serverapp.kernel_manager.shutdown_kernel(started["id"], now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    seen = json.loads("".join(outputs))
    environ = seen["environ"]
    assert environ[GATEWAY_URL_VARIABLE] == (
        f"http://127.0.0.1:{jp_http_port}{jp_base_url}dsagent/api/llm/v1"
    )
    assert environ[GATEWAY_TOKEN_VARIABLE]
    assert "OPENAI_API_KEY" not in environ and "DSAGENT_API_KEY" not in environ
    assert not [
        name for name, value in environ.items() if SHAPED_KEY in value or PLAIN_KEY in value
    ]
    # ... and the agent still works: the kernel's call went through the server's key.
    assert seen["answer"]["choices"][0]["message"]["content"] == "the gateway answered the kernel"
    [sent] = scripted_llm.requests
    assert {k.lower(): v for k, v in sent.headers.items()}["authorization"] == f"Bearer {PLAIN_KEY}"


# -- keys never show -------------------------------------------------------------------------


async def test_no_key_text_in_logs_audit_records_or_error_bodies(
    jp_serverapp: Any,
    api: Fetch,
    scripted_llm: ScriptedLLM,
    runtime: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("LiteLLM", "LiteLLM Router"):
        caplog.set_level(logging.DEBUG, logger=name)

    async def chat(**fields: Any) -> Any:
        return await api(
            "llm", "v1", "chat", "completions", method="POST", body=json.dumps(ask(**fields))
        )

    bodies = []
    scripted_llm.reply("fine")
    bodies.append((await chat()).body)
    # A provider that echoes the key it was given, in a bad request and in a refusal
    # (after which litellm cools both models down: the last calls find none).
    scripted_llm.fail(400, message=f"Invalid request for key {PLAIN_KEY}: 'tools' is malformed")
    malformed = await chat()
    assert (malformed.code, error_code(malformed)) == (400, "bad_request")
    assert "malformed" in json.loads(malformed.body)["error"]["message"]
    bodies.append(malformed.body)
    scripted_llm.fail(401, message=f"Incorrect API key provided: {PLAIN_KEY}")
    scripted_llm.fail(401, message=f"Incorrect API key provided: {SHAPED_KEY}")
    refused = await chat()
    assert (refused.code, error_code(refused)) == (502, "upstream_failed")
    assert "credentials" in json.loads(refused.body)["error"]["message"]
    bodies.append(refused.body)
    bodies.append((await chat(model="openai/not-allowed")).body)
    bodies.append((await chat(stream=True)).body)  # the script is empty now: a 5xx

    await jp_serverapp.web_app.settings["dsagent_llm"].drain()
    captured = capfd.readouterr()
    audit = json.dumps([r.to_dict() for r in runtime.audit.query(limit=1000)])
    texts = {
        "error bodies": b"".join(bodies).decode(),
        "audit records": audit,
        "log records": "\n".join(r.getMessage() for r in caplog.records),
        "captured stdout and stderr": captured.out + captured.err,
    }
    for where, text in texts.items():
        assert PLAIN_KEY not in text, where
        assert SHAPED_KEY not in text, where
        assert SHAPED_KEY[3:] not in text, where
    assert "Incorrect API key provided" in texts["log records"]  # litellm did log it, masked
