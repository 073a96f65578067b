"""What a streamed answer carried: chunks re-labelled, text and tool calls tallied.

Each litellm chunk becomes a plain OpenAI ``chat.completion.chunk`` naming the model
that answers. The tally keeps what is needed once the stream ends (or is cut off):
the provider's usage if it sent one, otherwise the streamed text to count, and the
answer itself for a transcript.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .responses import Route, clean, route_of
from .tokens import count_tokens

__all__ = ["AsyncStream", "Stream", "StreamTally", "achain", "aread_opening", "read_opening"]

# The plain fields of a streamed delta that are passed on (tool calls are handled apart).
_DELTA_FIELDS = ("role", "content", "refusal", "reasoning_content")
# The fields that are part of the answer itself (a role alone is not).
_ANSWER_FIELDS = ("content", "refusal", "reasoning_content", "tool_calls")


def _answers(chunk: Any) -> bool:
    """Whether a litellm chunk carries part of the answer, or says it is finished."""
    for choice in getattr(chunk, "choices", None) or []:
        delta = getattr(choice, "delta", None)
        if getattr(choice, "finish_reason", None):
            return True
        if any(getattr(delta, name, None) for name in _ANSWER_FIELDS):
            return True
    return False


def read_opening(upstream: Iterator[Any]) -> list[Any]:
    """The chunks up to the first one that answers (or all, for a stream without one).

    Until then litellm may still hand a broken stream to a fallback model, so only then
    is it known which model answers: the route the response headers report.
    """
    opening = []
    for chunk in upstream:
        opening.append(chunk)
        if _answers(chunk):
            break
    return opening


async def achain(opening: list[Any], upstream: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The chunks already read, then the rest of the stream."""
    for chunk in opening:
        yield chunk
    async for chunk in upstream:
        yield chunk


async def aread_opening(upstream: AsyncIterator[Any]) -> list[Any]:
    """:func:`read_opening` for an asynchronous stream."""
    opening = []
    async for chunk in upstream:
        opening.append(chunk)
        if _answers(chunk):
            break
    return opening


class StreamTally:
    """Chunks seen so far of one stream."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.chunk_id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.upstream_usage: dict[str, Any] | None = None
        self._text: list[str] = []
        self._tool_calls: dict[int, dict[str, Any]] = {}

    def convert(self, chunk: Any) -> dict[str, Any] | None:
        """The OpenAI chunk to send for a litellm chunk, or None when it carries nothing.

        Read by attribute rather than ``model_dump()``: a stream has hundreds of chunks
        and dumping each pydantic object costs more than the rest of the gateway's work.
        """
        usage: Any = getattr(chunk, "usage", None)
        if getattr(usage, "prompt_tokens", None) is not None:
            self.upstream_usage = {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
            }
        choices = []
        for choice in getattr(chunk, "choices", None) or []:
            delta = self._delta(getattr(choice, "delta", None))
            finish = getattr(choice, "finish_reason", None)
            if delta or finish:
                index = getattr(choice, "index", 0)
                choices.append({"index": index, "delta": delta, "finish_reason": finish})
        if not choices:
            return None
        return {
            "id": self.chunk_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.route.model,
            "choices": choices,
        }

    def _delta(self, delta: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _DELTA_FIELDS:
            value = getattr(delta, name, None)
            if value is not None:
                out[name] = value
        if isinstance(out.get("content"), str):
            self._text.append(out["content"])
        calls = getattr(delta, "tool_calls", None)
        if calls:
            out["tool_calls"] = [
                clean(call.model_dump() if hasattr(call, "model_dump") else dict(call))
                for call in calls
            ]
            for call in out["tool_calls"]:
                self._tally_tool_call(call)
        return out

    def _tally_tool_call(self, call: dict[str, Any]) -> None:
        entry = self._tool_calls.setdefault(
            int(call.get("index", 0)), {"id": None, "name": "", "arguments": ""}
        )
        function = call.get("function") or {}
        entry["id"] = call.get("id") or entry["id"]
        entry["name"] += function.get("name") or ""
        entry["arguments"] += function.get("arguments") or ""

    @property
    def has_content(self) -> bool:
        """Whether any text or tool call has been streamed (a role chunk is not content)."""
        return any(self._text) or bool(self._tool_calls)

    def follow(self, upstream: Any) -> None:
        """Take the route litellm reports now: before any content, a stream that breaks
        is handed to a fallback model, which then finishes the answer."""
        self.route = route_of(upstream, self.route.requested)

    def tokens(self, counted_prompt: int) -> tuple[int, int]:
        """``(tokens in, tokens out)``: the provider's figures, else our own count."""
        usage = self.upstream_usage or {}
        tokens_in = usage.get("prompt_tokens")
        tokens_out = usage.get("completion_tokens")
        if tokens_out is None:
            streamed = "".join(self._text) + "".join(
                c["name"] + c["arguments"] for c in self._tool_calls.values()
            )
            tokens_out = count_tokens(streamed, self.route.model) if streamed else 0
        return int(tokens_in if tokens_in is not None else counted_prompt), int(tokens_out)

    def answer(self) -> dict[str, Any]:
        """The streamed answer, assembled (for transcripts)."""
        return {
            "content": "".join(self._text),
            "tool_calls": [self._tool_calls[i] for i in sorted(self._tool_calls)],
        }


class Stream(Iterator[dict[str, Any]]):
    """A streamed answer, chunk by chunk; ``route`` is known before the first chunk."""

    def __init__(self, chunks: Iterator[dict[str, Any]], route: Route) -> None:
        self._chunks = chunks
        self.route = route

    def __next__(self) -> dict[str, Any]:
        return next(self._chunks)

    def close(self) -> None:
        """Stop early: the upstream call is closed and charged for what it sent."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


class AsyncStream(AsyncIterator[dict[str, Any]]):
    """The asynchronous :class:`Stream`."""

    def __init__(self, chunks: AsyncIterator[dict[str, Any]], route: Route) -> None:
        self._chunks = chunks
        self.route = route

    async def __anext__(self) -> dict[str, Any]:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        """Stop early: the upstream call is closed and charged for what it sent."""
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()
