"""Requests are OpenAI chat requests and nothing more: no field may steer the call."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_dsagent.exceptions import BadRequest
from jupyter_dsagent.llm.request import parse_request, prompt_sha256

MESSAGES = [{"role": "user", "content": "hi"}]


def test_a_full_openai_request_is_accepted_and_its_parameters_kept() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    request = parse_request(
        {
            "model": "openai/a",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": False},
            "n": 1,
            "user": "whoever",
            "tools": tools,
            "tool_choice": "auto",
            "temperature": 0,
            "max_completion_tokens": 10,
            "seed": 3,
        }
    )
    assert (request.model, request.stream, request.tools) == ("openai/a", True, tools)
    assert request.params == {
        "tools": tools,
        "tool_choice": "auto",
        "temperature": 0,
        "max_completion_tokens": 10,
        "seed": 3,
    }
    assert request.max_output_tokens == 10


@pytest.mark.parametrize(
    "field",
    [
        "api_base",
        "api_key",
        "base_url",
        "custom_llm_provider",
        "mock_response",
        "metadata",
        "extra_headers",
        "fallbacks",
        "num_retries",
        "timeout",
    ],
)
def test_fields_that_steer_litellm_are_refused_by_name(field: str) -> None:
    with pytest.raises(BadRequest, match=repr(field)):
        parse_request({"messages": MESSAGES, field: "x"})


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([1, 2], "JSON object"),
        ({}, "'messages'"),
        ({"messages": []}, "'messages'"),
        ({"messages": ["hi"]}, "messages[0]"),
        ({"messages": MESSAGES, "model": 3}, "'model'"),
        ({"messages": MESSAGES, "stream": "yes"}, "'stream'"),
        ({"messages": MESSAGES, "n": 2}, "'n' must be 1"),
        ({"messages": MESSAGES, "tools": "all"}, "'tools'"),
        ({"messages": MESSAGES, "max_tokens": 0}, "'max_tokens'"),
        ({"messages": MESSAGES, "max_tokens": True}, "'max_tokens'"),
        ({"messages": MESSAGES, "temperature": "hot"}, "'temperature'"),
    ],
)
def test_malformed_requests_get_one_sentence(body: Any, fragment: str) -> None:
    with pytest.raises(BadRequest, match=__import__("re").escape(fragment)):
        parse_request(body)


def test_the_prompt_hash_covers_messages_and_tools_only() -> None:
    plain = parse_request({"messages": MESSAGES})
    assert prompt_sha256(plain) == prompt_sha256(parse_request({"messages": MESSAGES, "seed": 1}))
    other = parse_request({"messages": [{"role": "user", "content": "hi!"}]})
    assert prompt_sha256(plain) != prompt_sha256(other)
    assert len(prompt_sha256(plain)) == 64
