"""How the agent reaches a model: the server's gateway, or litellm in-process.

In a kernel started by Jupyter the gateway URL and a gateway-only token are in the
environment; provider keys are not. In plain IPython there is no gateway and the
same service the gateway runs is used directly. Both paths stream OpenAI-format
chunks, which ``collect`` folds into one ``ModelReply``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..exceptions import ERROR_STATUS, DSAgentError

__all__ = [
    "GATEWAY_TOKEN_VAR",
    "GATEWAY_URL_VAR",
    "OFFLINE_CODES",
    "GatewayClient",
    "ModelClient",
    "ModelError",
    "ModelReply",
    "collect",
]

GATEWAY_URL_VAR = "DSAGENT_GATEWAY_URL"
GATEWAY_TOKEN_VAR = "DSAGENT_GATEWAY_TOKEN"
#: Gateway answers after which the offline planner takes over.
OFFLINE_CODES = frozenset({"model_not_configured", "upstream_failed"})


class ModelError(DSAgentError):
    """A model call failed; ``code`` is the gateway's (or service's) error code.

    ``partial`` is what had arrived when a streamed answer broke off, else None.
    """

    code = "upstream_failed"
    partial: ModelReply | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code if code in ERROR_STATUS else None)


@dataclass
class ModelReply:
    """One model response: text, tool calls (arguments as raw JSON text) and usage."""

    text: str = ""
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cancelled: bool = False


class ModelClient(Protocol):
    """Anything that can answer a chat request, streaming text through ``on_delta``."""

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ModelReply: ...

    @property
    def model(self) -> str | None: ...

    def usage(self) -> dict[str, Any]: ...


def collect(
    chunks: Iterable[dict[str, Any]],
    *,
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> ModelReply:
    """Fold streamed OpenAI chunks into a reply, passing text pieces to ``on_delta``.

    A stream that fails part-way raises :class:`ModelError` carrying what had arrived
    as its ``partial`` reply.
    """
    reply = ModelReply()
    calls: dict[int, dict[str, str]] = {}
    try:
        for chunk in chunks:
            if cancel is not None and cancel.is_set():
                reply.cancelled = True
                break
            _fold(chunk, reply, calls, on_delta)
    except DSAgentError as exc:
        error = exc if isinstance(exc, ModelError) else ModelError(exc.message, code=exc.code)
        reply.tool_calls = [calls[index] for index in sorted(calls)]
        error.partial = reply
        raise error from None
    reply.tool_calls = [calls[index] for index in sorted(calls)]
    return reply


def _fold(
    chunk: dict[str, Any],
    reply: ModelReply,
    calls: dict[int, dict[str, str]],
    on_delta: Callable[[str], None] | None,
) -> None:
    reply.model = chunk.get("model") or reply.model
    usage = chunk.get("usage") or {}
    if usage:
        reply.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        reply.completion_tokens = int(usage.get("completion_tokens") or 0)
        reply.cost_usd = float(usage.get("cost_usd") or 0.0)
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        piece = delta.get("content")
        if piece:
            reply.text += piece
            if on_delta is not None:
                on_delta(piece)
        for call in delta.get("tool_calls") or []:
            slot = calls.setdefault(
                int(call.get("index", 0)), {"id": "", "name": "", "arguments": ""}
            )
            slot["id"] = call.get("id") or slot["id"]
            function = call.get("function") or {}
            slot["name"] += function.get("name") or ""
            slot["arguments"] += function.get("arguments") or ""


class GatewayClient:
    """Calls the server's OpenAI-compatible gateway with the gateway-only token."""

    def __init__(
        self, url: str, token: str, *, model: str | None = None, timeout: float = 120.0
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._model = model or None
        self._timeout = timeout

    @classmethod
    def from_environment(cls, settings: Any) -> GatewayClient | None:
        """A client when the server left its gateway's address in this process's environment."""
        url = os.environ.get(GATEWAY_URL_VAR)
        token = os.environ.get(GATEWAY_TOKEN_VAR)
        if not url or not token:
            return None
        return cls(url, token, model=settings.model or None, timeout=settings.model_timeout_seconds)

    @property
    def model(self) -> str | None:
        if self._model is None:
            self._model = self._first_model()
        return self._model

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ModelReply:
        body = streaming_request(self.model, messages, tools)
        return collect(self._stream(body), on_delta=on_delta, cancel=cancel)

    def _stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        import httpx

        try:
            with (
                httpx.Client(timeout=self._timeout) as http,
                http.stream(
                    "POST", f"{self.url}/chat/completions", json=body, headers=self._headers()
                ) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    raise _error_from(response.status_code, response.text)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if "error" in chunk:  # the gateway's last event when an answer broke off
                        raise _error_from(response.status_code, data)
                    yield chunk
            raise ModelError(
                "The model gateway's answer ended before it was complete.", code="upstream_failed"
            )
        except httpx.HTTPError as exc:
            raise ModelError(
                f"The model gateway could not be reached ({type(exc).__name__}).",
                code="upstream_failed",
            ) from None

    def usage(self) -> dict[str, Any]:
        """The gateway's usage report for this user: ``{"rows": [...], "message": str}``."""
        import httpx

        base = self.url[: -len("/v1")] if self.url.endswith("/v1") else self.url
        try:
            response = httpx.get(f"{base}/usage", headers=self._headers(), timeout=10.0)
        except httpx.HTTPError as exc:
            raise ModelError(
                f"The model gateway could not be reached ({type(exc).__name__})."
            ) from None
        if response.status_code != 200:
            raise _error_from(response.status_code, response.text)
        return usage_rows(response.json())

    def _first_model(self) -> str | None:
        import httpx

        try:
            response = httpx.get(
                f"{self.url}/models", headers=self._headers(), timeout=min(self._timeout, 10.0)
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        models = response.json().get("data") or []
        return str(models[0]["id"]) if models else None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


def streaming_request(
    model: str | None, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> dict[str, Any]:
    """The OpenAI chat request both clients send: streamed, with usage at the end."""
    if not model:
        raise ModelError("No model is configured.", code="model_not_configured")
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if tools:
        body["tools"] = tools
    return body


def usage_rows(report: dict[str, Any]) -> dict[str, Any]:
    """This user's usage by model as table rows, and the budgets left as one sentence."""
    mine = (report.get("by_user") or {}).get(report.get("user"), {})
    rows = [
        {
            "model": model,
            **{k: totals.get(k) for k in ("calls", "tokens_in", "tokens_out", "cost_usd")},
        }
        for model, totals in (mine.get("by_model") or {}).items()
    ]
    budgets = [
        f"{b['scope']} {b['period']} {b['unit']}: {b['remaining']:g} of {b['limit']:g} left"
        for b in report.get("budgets") or []
    ]
    message = ("Budgets: " + "; ".join(budgets) + ".") if budgets else "No budget is set."
    return {"rows": rows, "message": message}


def _error_from(status: int, text: str) -> ModelError:
    try:
        error = json.loads(text)["error"]
        code, message = str(error.get("code")), str(error.get("message"))
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message = "upstream_failed", f"The model gateway answered HTTP {status}."
    return ModelError(message, code=code)
