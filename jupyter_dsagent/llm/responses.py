"""litellm's responses turned into plain OpenAI-format dicts, with route and cost.

The body a client gets names the model that actually answered (a fallback, perhaps)
and adds ``usage.cost_usd``. Which model answered, and after how many fallbacks and
retries, comes from the headers litellm's Router attaches to each response.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from .seam import litellm

__all__ = [
    "Completion",
    "Route",
    "clean",
    "completion_body",
    "cost_of",
    "route_of",
    "usage_chunk",
    "usage_member",
]

# litellm-only fields that are no part of the OpenAI wire format.
_DROPPED_KEYS = frozenset({"provider_specific_fields", "function_call"})


@dataclass(frozen=True)
class Route:
    """Which model answered a request, and what it took to get there."""

    requested: str
    model: str
    fallbacks: int = 0
    retries: int = 0

    def headers(self) -> dict[str, str]:
        """The response headers that report the route."""
        return {
            "X-DSAgent-Model": self.model,
            "X-DSAgent-Fallbacks": str(self.fallbacks),
            "X-DSAgent-Retries": str(self.retries),
        }


class Completion(dict[str, Any]):
    """A non-streamed answer: the OpenAI-format body, plus the route it took."""

    def __init__(self, body: dict[str, Any], route: Route) -> None:
        super().__init__(body)
        self.route = route


def route_of(response: Any, requested: str) -> Route:
    """Read the Router's headers (model group, attempted fallbacks and retries)."""
    hidden = getattr(response, "_hidden_params", None) or {}
    headers = hidden.get("additional_headers") or {}
    model = headers.get("x-litellm-model-group") or hidden.get("litellm_model_name") or requested
    return Route(
        requested=requested,
        model=str(model),
        fallbacks=_count(headers.get("x-litellm-attempted-fallbacks")),
        retries=_count(headers.get("x-litellm-attempted-retries")),
    )


def _count(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def cost_of(model: str, tokens_in: int, tokens_out: int) -> float | None:
    """Dollars for these tokens from litellm's local cost map; None for unpriced models."""
    try:
        prompt, completion = litellm().cost_per_token(
            model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
    except Exception:  # litellm raises for models its cost map does not price
        return None
    return float(prompt) + float(completion)


def clean(value: Any) -> Any:
    """Drop None values and litellm-only keys, recursively."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None and k not in _DROPPED_KEYS}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def usage_member(tokens_in: int, tokens_out: int, cost: float | None) -> dict[str, Any]:
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
        "cost_usd": cost or 0.0,
    }


def completion_body(
    response: Any, route: Route, tokens_in: int, tokens_out: int, cost: float | None
) -> dict[str, Any]:
    """The OpenAI ``chat.completion`` body of a litellm ModelResponse."""
    data = clean(response.model_dump())
    choices = []
    for choice in data.get("choices") or []:
        message = choice.get("message") or {}
        message.setdefault("role", "assistant")
        message.setdefault("content", None)
        choices.append(
            {
                "index": choice.get("index", 0),
                "message": message,
                "finish_reason": choice.get("finish_reason", "stop"),
            }
        )
    return {
        "id": data.get("id") or f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": data.get("created") or int(time.time()),
        "model": route.model,
        "choices": choices,
        "usage": usage_member(tokens_in, tokens_out, cost),
    }


def usage_chunk(
    chunk_id: str, created: int, model: str, tokens_in: int, tokens_out: int, cost: float | None
) -> dict[str, Any]:
    """The last chunk of every stream: no choices, the usage and its cost."""
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage_member(tokens_in, tokens_out, cost),
    }
