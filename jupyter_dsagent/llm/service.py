"""The model gateway itself: policy, token limits, budgets, rate limit, the call, audit.

:class:`LLMService` knows nothing of HTTP. The server's handlers call its asynchronous
methods; a kernel with no server calls the synchronous ones (see
:func:`jupyter_dsagent.llm.direct.direct_service`). Either way, every call goes through
the same steps, in this order:

1. a model must be configured (``model_not_configured``, 503);
2. the user's rate limit (``rate_limited``, 429 with a retry-after);
3. the request's fields (``bad_request``) and model (``model_not_allowed``, 403);
4. its tokens, counted with litellm before sending (``token_limit``, 400);
5. the budgets, checked and reserved in the usage store (``budget_exhausted``, 402);
6. the call, through litellm's Router (retries, fallbacks, cooldown, timeouts);
7. the charge, the audit record, the transcript (if enabled) and the metrics
   (see :mod:`.recorder` for when each is written).

Refusals at 3 to 5 are audited (``llm.denied``, ``budget.exhausted``); every call that
reaches a provider is audited as ``llm.call``, with a SHA-256 of the prompt and never
its text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from ..audit import AuditLog
from ..config import DSAgent
from ..exceptions import DSAgentError, ModelNotConfigured, TokenLimitExceeded
from ..throttle import RateLimiter
from .budgets import Budgets
from .calls import AdmittedCall, CallResult
from .catalog import NOT_CONFIGURED_MESSAGE, ModelCatalog
from .keys import KeyRing
from .metrics import LLMMetrics
from .recorder import Recorder
from .report import usage_report
from .request import ChatRequest, parse_request, prompt_sha256
from .responses import Completion, Route, completion_body, cost_of, route_of, usage_chunk
from .router import build_router
from .seam import close_async_resources, close_sync_clients
from .streaming import AsyncStream, Stream, StreamTally, achain, aread_opening, read_opening
from .tokens import count_prompt_tokens
from .transcripts import TranscriptLog
from .upstream import broken_stream_error, upstream_error
from .usage import UsageStore

__all__ = ["LLMService"]

# Counting a prompt's tokens takes about 70 ms per MB of text: past this, off the loop.
_INLINE_COUNT_CHARS = 64 * 1024


def _text_size(raw: Any) -> int:
    """Characters of message contents in a request, as a cheap measure of its size."""
    messages = raw.get("messages") if isinstance(raw, Mapping) else None
    if not isinstance(messages, list):
        return 0
    return sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, Mapping))


class LLMService:
    """Every model call of this installation, under one policy.

    Parameters
    ----------
    settings : DSAgent
        Validated settings (models, limits, budgets, reliability).
    keys : KeyRing
        Provider keys, held here and handed to litellm per deployment.
    audit : AuditLog
        Where calls and refusals are recorded.
    usage : UsageStore
        Tokens and cost per user, model and day; budgets are checked against it.
    transcripts : TranscriptLog, optional
        Redacted full transcripts, when ``store_transcripts`` is on.
    metrics : LLMMetrics, optional
        Prometheus collectors (the server passes them; a kernel need not).
    """

    def __init__(
        self,
        settings: DSAgent,
        *,
        keys: KeyRing,
        audit: AuditLog,
        usage: UsageStore,
        transcripts: TranscriptLog | None = None,
        metrics: LLMMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.audit = audit
        self.usage = usage
        self.catalog = ModelCatalog.from_settings(settings)
        self.budgets = Budgets.from_settings(settings)
        self.recorder = Recorder(
            catalog=self.catalog,
            audit=audit,
            usage=usage,
            transcripts=transcripts,
            metrics=metrics,
        )
        self._limiter = RateLimiter(settings.rate_limit_per_minute)
        self._router: Any = None
        self._router_lock = threading.Lock()

    # -- what is offered -------------------------------------------------------------------
    def models(self) -> dict[str, Any]:
        """The models a request may name, as OpenAI's ``GET /v1/models`` lists them."""
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": name.split("/")[0]}
                for name in self.catalog.names()
            ],
        }

    def usage_report(self, *, user: str) -> dict[str, Any]:
        """Tokens and cost by user and model, and the budgets left for ``user``."""
        return usage_report(self.usage, self.budgets, actor=self.audit.hash_actor(user))

    def router(self) -> Any:
        """litellm's Router for the catalog, built (and litellm imported) on first use."""
        if not self.catalog.configured:
            raise ModelNotConfigured(NOT_CONFIGURED_MESSAGE)
        with self._router_lock:
            if self._router is None:
                self._router = build_router(self.catalog, self.keys, self.settings)
            return self._router

    def warm_up(self) -> None:
        """Import litellm and build the Router now, so the first call does not wait."""
        if self.catalog.configured:
            self.router()

    # -- synchronous calls (a kernel without a server) -------------------------------------
    def complete(self, request: Mapping[str, Any], *, user: str) -> Completion:
        """One answer in OpenAI's ``chat.completion`` format (``usage.cost_usd`` added)."""
        call = self._admit(request, user=user, stream=False, deferred=False)
        try:
            response = self.router().completion(**call.kwargs)
        except BaseException as exc:
            error, result = self._failed(call, exc)
            self.recorder.settle(call, result)
            raise error from None
        completion, result = self._completed(call, response)
        self.recorder.settle(call, result)
        return completion

    def stream(self, request: Mapping[str, Any], *, user: str) -> Stream:
        """The answer as OpenAI chunks; the last one carries ``usage`` with ``cost_usd``.

        Errors before the first part of the answer (refusals, every model down) are
        raised here, and the stream's route names the model that gives the answer."""
        call = self._admit(request, user=user, stream=True, deferred=False)
        try:
            upstream = self.router().completion(**call.kwargs)
            opening = read_opening(upstream)
        except BaseException as exc:
            error, result = self._failed(call, exc)
            self.recorder.settle(call, result)
            raise error from None
        tally = StreamTally(route_of(upstream, call.model))
        return Stream(self._chunks(call, upstream, opening, tally), tally.route)

    def _chunks(
        self, call: AdmittedCall, upstream: Any, opening: list[Any], tally: StreamTally
    ) -> Iterator[dict[str, Any]]:
        settled = False
        try:
            for chunk in itertools.chain(opening, upstream):
                converted = tally.convert(chunk)
                if converted is not None:
                    yield converted
            tally.follow(upstream)
            final, result = self._streamed(call, tally, "ok")
            settled = True
            self.recorder.settle(call, result)
            yield final
        except Exception as exc:
            settled = True
            tally.follow(upstream)
            error, result = self._failed(call, exc, tally)
            self.recorder.settle(call, result)
            raise error from None
        finally:
            if not settled:  # the consumer stopped early
                tally.follow(upstream)
                self.recorder.settle(call, self._streamed(call, tally, "cancelled")[1])
                with contextlib.suppress(Exception):
                    upstream.close()

    # -- asynchronous calls (the server) ---------------------------------------------------
    async def acomplete(self, request: Mapping[str, Any], *, user: str) -> Completion:
        """:meth:`complete` for an event loop; nothing blocking runs on the loop."""
        call = await self._aadmit(request, user=user, stream=False)
        try:
            response = await self.router().acompletion(**call.kwargs)
        except BaseException as exc:
            error, result = self._failed(call, exc)
            await self.recorder.asettle(call, result)
            raise error from None
        completion, result = self._completed(call, response)
        await self.recorder.asettle(call, result)
        return completion

    async def astream(self, request: Mapping[str, Any], *, user: str) -> AsyncStream:
        """:meth:`stream` for an event loop."""
        call = await self._aadmit(request, user=user, stream=True)
        try:
            upstream = await self.router().acompletion(**call.kwargs)
            opening = await aread_opening(upstream)
        except BaseException as exc:
            error, result = self._failed(call, exc)
            await self.recorder.asettle(call, result)
            raise error from None
        tally = StreamTally(route_of(upstream, call.model))
        return AsyncStream(self._achunks(call, upstream, opening, tally), tally.route)

    async def _achunks(
        self, call: AdmittedCall, upstream: Any, opening: list[Any], tally: StreamTally
    ) -> AsyncIterator[dict[str, Any]]:
        settled = False
        try:
            async for chunk in achain(opening, upstream):
                converted = tally.convert(chunk)
                if converted is not None:
                    yield converted
            tally.follow(upstream)
            final, result = self._streamed(call, tally, "ok")
            settled = True
            await self.recorder.asettle(call, result)
            yield final
        except Exception as exc:
            settled = True
            tally.follow(upstream)
            error, result = self._failed(call, exc, tally)
            await self.recorder.asettle(call, result)
            raise error from None
        finally:
            if not settled:  # the client went away: queue the charge, await nothing more
                tally.follow(upstream)
                self.recorder.later(
                    lambda: self.recorder.settle(call, self._streamed(call, tally, "cancelled")[1])
                )
                aclose = getattr(upstream, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()

    async def drain(self) -> None:
        """Wait until the charges and records of every finished call are written."""
        await self.recorder.drain()

    async def aclose(self) -> None:
        """Write what is pending, close litellm's clients (at server stop) and the store."""
        await self.recorder.drain()
        self.recorder.close()
        if self._router is not None:
            await close_async_resources()
        self.usage.close()

    def close(self) -> None:
        """Write what is pending, close litellm's synchronous clients and the store."""
        self.recorder.close()
        if self._router is not None:
            close_sync_clients()
        self.usage.close()

    # -- admission -------------------------------------------------------------------------
    async def _aadmit(self, raw: Mapping[str, Any], *, user: str, stream: bool) -> AdmittedCall:
        """Admission on the loop when it is quick; in a worker thread when it must build
        the Router (importing litellm), reserve budget in SQLite or count a long prompt."""
        if self._router is None or self.budgets or _text_size(raw) > _INLINE_COUNT_CHARS:
            return await asyncio.to_thread(
                self._admit, raw, user=user, stream=stream, deferred=True
            )
        return self._admit(raw, user=user, stream=stream, deferred=True)

    def _admit(
        self, raw: Mapping[str, Any], *, user: str, stream: bool, deferred: bool
    ) -> AdmittedCall:
        """Steps 1 to 5; a refusal is counted, audited when it is a decision, and raised."""
        started = time.perf_counter()
        asked = raw.get("model") if isinstance(raw, Mapping) else None
        asked = asked if isinstance(asked, str) else ""
        sha = ""
        try:
            if not self.catalog.configured:
                raise ModelNotConfigured(NOT_CONFIGURED_MESSAGE)
            self._limiter.acquire(user)
            request = parse_request(raw)
            sha = prompt_sha256(request)
            model = self.catalog.resolve(request.model)
            self.router()  # an unknown provider is reported before anything is counted
            tokens = self._check_tokens(request, model)
            estimate = (cost_of(model, tokens, 0) or 0.0) if self.budgets.cost_limited else 0.0
            reservation = self.usage.reserve(
                self.audit.hash_actor(user), tokens=tokens, cost=estimate, budgets=self.budgets
            )
        except DSAgentError as exc:
            self.recorder.refused(exc, user=user, asked=asked, sha=sha, deferred=deferred)
            raise
        return AdmittedCall(
            user=user,
            actor=reservation.actor,
            request=request,
            model=model,
            prompt_tokens=tokens,
            prompt_sha256=sha,
            reservation=reservation,
            started=started,
            kwargs=self._call_arguments(request, model, stream=stream),
        )

    def _check_tokens(self, request: ChatRequest, model: str) -> int:
        limit = self.settings.max_tokens_per_request
        tokens = count_prompt_tokens(request.messages, model, request.tools)
        if tokens > limit:
            raise TokenLimitExceeded(
                f"The request has {tokens:,} tokens; at most {limit:,} may be sent in one "
                "request (DSAgent.max_tokens_per_request). Send a shorter conversation or "
                "smaller tool results."
            )
        asked = request.max_output_tokens
        most = self.settings.max_output_tokens
        if asked is not None and asked > most:
            raise TokenLimitExceeded(
                f"The request asks for answers of up to {asked:,} tokens; at most {most:,} "
                "are allowed (DSAgent.max_output_tokens)."
            )
        return tokens

    def _call_arguments(self, request: ChatRequest, model: str, *, stream: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model, "messages": request.messages, **request.params}
        kwargs.setdefault("temperature", self.settings.temperature)
        if request.max_output_tokens is None:
            kwargs["max_tokens"] = self.settings.max_output_tokens
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        return kwargs

    # -- how a call ended ------------------------------------------------------------------
    def _completed(self, call: AdmittedCall, response: Any) -> tuple[Completion, CallResult]:
        route = route_of(response, call.model)
        usage = getattr(response, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", None) or call.prompt_tokens)
        tokens_out = int(getattr(usage, "completion_tokens", None) or 0)
        cost = cost_of(route.model, tokens_in, tokens_out)
        body = completion_body(response, route, tokens_in, tokens_out, cost)
        answer = body["choices"][0]["message"] if body["choices"] else {}
        result = CallResult(route, "ok", tokens_in, tokens_out, cost, answer=answer)
        return Completion(body, route), result

    def _streamed(
        self, call: AdmittedCall, tally: StreamTally, outcome: str
    ) -> tuple[dict[str, Any], CallResult]:
        tokens_in, tokens_out = tally.tokens(call.prompt_tokens)
        cost = cost_of(tally.route.model, tokens_in, tokens_out)
        final = usage_chunk(
            tally.chunk_id, tally.created, tally.route.model, tokens_in, tokens_out, cost
        )
        result = CallResult(
            tally.route, outcome, tokens_in, tokens_out, cost, answer=tally.answer()
        )
        return final, result

    def _failed(
        self, call: AdmittedCall, exc: BaseException, tally: StreamTally | None = None
    ) -> tuple[BaseException, CallResult]:
        """Our error for a failed call, and its result (what a broken stream had sent)."""
        if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
            error: BaseException = exc
            code, outcome = "cancelled", "cancelled"
        else:
            timeout = self.settings.model_timeout_seconds
            if tally is not None and tally.has_content:  # no fallback follows sent content
                error = broken_stream_error(exc, model=tally.route.model, timeout=timeout)
            else:
                tried = [call.model, *self.catalog.fallbacks_of(call.model)]
                error = upstream_error(exc, tried=tried, timeout=timeout)
            code = getattr(error, "code", "internal_error")
            outcome = "timeout" if getattr(error, "timed_out", False) else "error"
        route = tally.route if tally is not None else Route(call.model, call.model)
        tokens_in, tokens_out = tally.tokens(call.prompt_tokens) if tally else (0, 0)
        cost = cost_of(route.model, tokens_in, tokens_out) if tokens_out else None
        return error, CallResult(
            route, outcome, tokens_in if tokens_out else 0, tokens_out, cost, code=code
        )
