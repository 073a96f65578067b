"""A chat request, checked: OpenAI fields only, and none that could redirect the call.

litellm accepts keyword arguments that choose where a call goes and with which key
(``api_base``, ``api_key``, ``base_url``, ``custom_llm_provider``, ``mock_response``,
…). A request that could set them could send the server's key to any host, so only
the OpenAI chat parameters below pass; any other field is refused by name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import BadRequest

__all__ = ["FORWARDED_FIELDS", "ChatRequest", "parse_request", "prompt_sha256"]

#: Fields passed on to the model as they are.
FORWARDED_FIELDS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
    }
)
# Read by the gateway itself. ``user`` is accepted for OpenAI clients that send it, but
# identity comes from authentication, and it is not forwarded.
_OWN_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "n", "user"})


@dataclass(frozen=True)
class ChatRequest:
    """What a client asked for, checked."""

    messages: list[dict[str, Any]]
    model: str = ""
    stream: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def tools(self) -> list[dict[str, Any]]:
        tools = self.params.get("tools")
        return list(tools) if isinstance(tools, list) else []

    @property
    def max_output_tokens(self) -> int | None:
        """The answer length the client asked for, if any."""
        for name in ("max_completion_tokens", "max_tokens"):
            if self.params.get(name) is not None:
                return int(self.params[name])
        return None


def parse_request(request: Any) -> ChatRequest:
    """Check a decoded JSON body; BadRequest says what is wrong in one sentence."""
    if not isinstance(request, Mapping):
        raise BadRequest("The request body must be a JSON object.")
    unknown = sorted(set(request) - FORWARDED_FIELDS - _OWN_FIELDS)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise BadRequest(
            f"Unsupported field(s) {shown}: the gateway accepts the OpenAI chat parameters "
            f"({', '.join(sorted(FORWARDED_FIELDS | _OWN_FIELDS))})."
        )
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list of chat messages.")
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise BadRequest(f"messages[{index}] must be an object with a 'role'.")
    model = request.get("model") or ""
    if not isinstance(model, str):
        raise BadRequest("'model' must be a string.")
    stream = request.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("'stream' must be true or false.")
    if request.get("n") not in (None, 1):
        raise BadRequest("'n' must be 1: the gateway returns one answer per request.")
    params = {name: request[name] for name in FORWARDED_FIELDS if request.get(name) is not None}
    if "tools" in params and not (
        isinstance(params["tools"], list) and all(isinstance(t, Mapping) for t in params["tools"])
    ):
        raise BadRequest("'tools' must be a list of tool definitions (objects).")
    for name in ("max_tokens", "max_completion_tokens"):
        value = params.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise BadRequest(f"'{name}' must be a positive whole number.")
    temperature = params.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
    ):
        raise BadRequest("'temperature' must be a number.")
    return ChatRequest(
        messages=[dict(m) for m in messages], model=model, stream=stream, params=params
    )


def prompt_sha256(request: ChatRequest) -> str:
    """SHA-256 of the messages and tools as sent: identifies a prompt without keeping it."""
    canonical = json.dumps(
        {"messages": request.messages, "tools": request.tools},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
