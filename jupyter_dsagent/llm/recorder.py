"""After a call: the charge in the usage store, the audit record, the transcript, metrics.

On the synchronous path (a kernel) everything is written before the call returns. On
the server's event loop, the answer goes out first: the audit record (an fsync'ed
SQLite append), the transcript and the metrics are written right after by one
background thread, in order, so they never add to a call's latency. The charge is the
exception when a budget is set: it is written before the answer leaves, so the next
call of the same user is checked against it. :meth:`Recorder.drain` waits for
everything pending (the usage endpoint, tests, and the server at stop call it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from ..audit import AuditLog
from ..exceptions import DSAgentError
from .calls import AdmittedCall, CallResult
from .catalog import ModelCatalog
from .metrics import LLMMetrics
from .transcripts import TranscriptLog
from .usage import UsageStore

__all__ = ["Recorder"]

# Refusals that are security or spending decisions, and the audit kind each becomes.
_AUDITED_REFUSALS = {
    "model_not_allowed": "llm.denied",
    "token_limit": "llm.denied",
    "budget_exhausted": "budget.exhausted",
}

log = logging.getLogger(__name__)

Step = Callable[[], None]


class Recorder:
    """Writes what calls used and did, now or in order on one background thread."""

    def __init__(
        self,
        *,
        catalog: ModelCatalog,
        audit: AuditLog,
        usage: UsageStore,
        transcripts: TranscriptLog | None,
        metrics: LLMMetrics | None,
    ) -> None:
        self.catalog = catalog
        self.audit = audit
        self.usage = usage
        self.transcripts = transcripts
        self.metrics = metrics
        self._writer: ThreadPoolExecutor | None = None
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    # -- when ------------------------------------------------------------------------------
    def later(self, *steps: Step) -> None:
        """Run ``steps`` in order on the background thread, after what is already queued."""
        with self._lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="dsagent-llm-records")
            future = self._writer.submit(_run_all, steps)
            self._pending = {f for f in self._pending if not f.done()} | {future}
        future.add_done_callback(_log_failure)

    async def drain(self) -> None:
        """Wait until everything queued so far is written."""
        with self._lock:
            pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)

    def close(self) -> None:
        """Write what is queued, then stop the background thread."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    # -- what ------------------------------------------------------------------------------
    def settle(self, call: AdmittedCall, result: CallResult) -> None:
        """Charge (or release) and record, before returning."""
        self._account(call, result)
        self._record(call, result)

    async def asettle(self, call: AdmittedCall, result: CallResult) -> None:
        """Charge (or release) and record without holding up the answer (see module doc)."""
        if call.reservation.held and result.charged:
            await asyncio.to_thread(self._account, call, result)
            self.later(lambda: self._record(call, result))
        else:
            self.later(lambda: self._account(call, result), lambda: self._record(call, result))

    def refused(
        self, exc: DSAgentError, *, user: str, asked: str, sha: str, deferred: bool
    ) -> None:
        """Count a refusal, and audit it when it is a policy or spending decision."""
        label = self.catalog.label(asked or self.catalog.primary)
        if self.metrics is not None:
            self.metrics.error(label, exc.code)
            self.metrics.call(label, "denied")
        kind = _AUDITED_REFUSALS.get(exc.code)
        if kind is None:
            return

        def audit() -> None:
            self.audit.append(
                kind,
                actor=user,
                subject=(asked or self.catalog.primary)[:120],
                outcome="denied",
                details={"code": exc.code, "reason": exc.message, "prompt_sha256": sha},
            )

        if deferred:
            self.later(audit)
        else:
            audit()

    def _account(self, call: AdmittedCall, result: CallResult) -> None:
        if result.charged:
            self.usage.charge(
                call.reservation,
                model=result.route.model,
                tokens_in=result.tokens_in,
                tokens_out=result.tokens_out,
                cost=result.cost or 0.0,
            )
        else:
            self.usage.release(call.reservation)

    def _record(self, call: AdmittedCall, result: CallResult) -> None:
        seconds = time.perf_counter() - call.started
        route = result.route
        details: dict[str, Any] = {
            "model_requested": call.model,
            "model_used": route.model,
            "fallbacks": route.fallbacks,
            "retries": route.retries,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "cost_usd": result.cost or 0.0,
            "cost_known": result.cost is not None,
            "latency_ms": round(seconds * 1000, 1),
            "stream": call.streamed,
            "messages": len(call.request.messages),
            "tools": len(call.request.tools),
            "prompt_sha256": call.prompt_sha256,
        }
        if result.code is not None:
            details["code"] = result.code
        self.audit.append(
            "llm.call", actor=call.user, subject=call.model, outcome=result.outcome, details=details
        )
        if self.transcripts is not None and result.answer is not None:
            self.transcripts.append(_transcript(call, result))
        if self.metrics is not None:
            label = self.catalog.label(route.model)
            if result.code is not None:
                self.metrics.error(label, result.code)
            self.metrics.call(
                label,
                result.outcome,
                tokens_in=result.tokens_in,
                tokens_out=result.tokens_out,
                cost=result.cost or 0.0,
                seconds=seconds,
            )


def _transcript(call: AdmittedCall, result: CallResult) -> Mapping[str, Any]:
    return {
        "time": datetime.now(timezone.utc).isoformat(),
        "actor": call.actor,
        "model_requested": call.model,
        "model_used": result.route.model,
        "outcome": result.outcome,
        "prompt_sha256": call.prompt_sha256,
        "messages": call.request.messages,
        "tools": [(tool.get("function") or {}).get("name") for tool in call.request.tools],
        "answer": dict(result.answer or {}),
    }


def _run_all(steps: tuple[Step, ...]) -> None:
    for step in steps:
        step()


def _log_failure(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("A model call could not be recorded: %s", exc, exc_info=exc)
