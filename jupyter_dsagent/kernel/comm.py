"""The sidebar's comm target ``jupyter_dsagent``: the protocol in models.py, spoken here.

Every incoming message is validated against the wire models; answers stream back as
``delta`` / ``suggestion`` / ``done`` (or ``error``) from a background thread, so the
kernel stays free while the agent works.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..exceptions import DSAgentError
from ..models import (
    BrowserMessage,
    DeltaMessage,
    DoneMessage,
    ErrorMessage,
    HelloReply,
    InsertMessage,
    ProgressMessage,
    RunsReply,
    SuggestionMessage,
    TraceStep,
    Usage,
)
from .session import KernelSession, progress_value

__all__ = ["TARGET", "SidebarLink", "progress_message", "register"]

TARGET = "jupyter_dsagent"
log = logging.getLogger(__name__)
_INCOMING: TypeAdapter[Any] = TypeAdapter(BrowserMessage)


def register(shell: Any, session: KernelSession) -> bool:
    """Register the comm target; False in plain IPython, which has no comms."""
    kernel = getattr(shell, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False
    manager.register_target(TARGET, lambda comm, msg: SidebarLink(session, comm))
    return True


class SidebarLink:
    """One open comm from a sidebar panel."""

    def __init__(self, session: KernelSession, comm: Any) -> None:
        self.session = session
        self.comm = comm
        self._answers: dict[str, threading.Event] = {}
        self._send_lock = threading.Lock()
        comm.on_msg(self._on_msg)
        comm.on_close(self._on_close)
        session.progress_listeners.append(self._send_progress)
        session.sidebars.append(self)

    # -- incoming ---------------------------------------------------------------------------
    def _on_msg(self, msg: dict[str, Any]) -> None:
        data = msg.get("content", {}).get("data", {})
        try:
            message = _INCOMING.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            self._send(
                ErrorMessage(
                    type="error",
                    id=_id_of(data),
                    code="bad_request",
                    message=f"Bad sidebar message ({where}: {first['msg']}).",
                )
            )
            return
        try:
            getattr(self, f"_on_{message.type}")(message)
        except Exception as exc:  # the panel must hear about it; the kernel must live on
            self._send(_error(getattr(message, "id", None), exc))

    def _on_hello(self, message: Any) -> None:
        agent = self.session.agent
        model = agent.client.model if agent.client is not None else None
        self._send(HelloReply(type="hello", model=model, offline=model is None))

    def _on_ask(self, message: Any) -> None:
        ask_id = message.id

        def on_event(event: dict[str, Any]) -> None:
            if event["type"] == "delta":
                self._send(DeltaMessage(type="delta", id=ask_id, text=event["text"]))
            elif event["type"] == "suggestion":
                self.send_suggestion(event["suggestion"], ask_id)

        def on_done(answer: Any) -> None:
            self._answers.pop(ask_id, None)
            self._send(
                DoneMessage(
                    type="done",
                    id=ask_id,
                    model=answer.model,
                    offline=answer.offline,
                    usage=Usage(
                        prompt_tokens=answer.usage.prompt_tokens,
                        completion_tokens=answer.usage.completion_tokens,
                        cost_usd=answer.usage.cost_usd,
                    ),
                    trace=[TraceStep(**step.to_dict()) for step in answer.trace],
                )
            )

        def on_error(exc: BaseException) -> None:
            self._answers.pop(ask_id, None)
            self._send(_error(ask_id, exc))

        self._answers[ask_id] = self.session.ask_in_background(
            message.text, on_event=on_event, on_done=on_done, on_error=on_error
        )

    def _on_cancel(self, message: Any) -> None:
        cancel = self._answers.get(message.id)
        if cancel is not None:
            cancel.set()

    def _on_inserted(self, message: Any) -> None:
        if not self.session.record_inserted(
            message.suggestion_id, message.sha256, run=message.run, via="sidebar"
        ):
            self._send(
                ErrorMessage(
                    type="error",
                    code="bad_request",
                    message="That cell is not a suggestion this kernel made.",
                )
            )

    def _on_runs(self, message: Any) -> None:
        self._send(RunsReply(type="runs", runs=[progress_message(r) for r in self.session.runs]))

    def _on_cancel_run(self, message: Any) -> None:
        run = self.session.find_run(message.run)
        if run is None:
            self._send(
                ErrorMessage(
                    type="error",
                    code="not_found",
                    message=f"No AutoML run {message.run} in this kernel.",
                )
            )
            return
        run.cancel()
        self._send_progress(run)

    def _on_close(self, msg: dict[str, Any]) -> None:
        for cancel in self._answers.values():
            cancel.set()
        if self._send_progress in self.session.progress_listeners:
            self.session.progress_listeners.remove(self._send_progress)
        if self in self.session.sidebars:
            self.session.sidebars.remove(self)

    # -- outgoing ---------------------------------------------------------------------------
    def _send_progress(self, run: Any) -> None:
        self._send(progress_message(run))

    def send_insert(self, suggestion: Any, run: bool) -> None:
        self._send(
            InsertMessage(
                type="insert",
                suggestion_id=suggestion.id,
                code=suggestion.code,
                sha256=suggestion.sha256,
                run=run,
            )
        )

    def send_suggestion(self, suggestion: Any, ask_id: str = "notebook") -> None:
        self._send(
            SuggestionMessage(
                type="suggestion",
                id=ask_id,
                suggestion_id=suggestion.id,
                code=suggestion.code,
                explanation=suggestion.explanation,
                sha256=suggestion.sha256,
                flags=list(suggestion.flags),
            )
        )

    def _send(self, message: Any) -> None:
        with self._send_lock:
            self.comm.send(message.model_dump(mode="json"))


def progress_message(run: Any) -> ProgressMessage:
    """A run's state as the sidebar shows it."""
    progress = run.progress
    status = run.status
    summary = None
    if status == "done":
        summary = ", ".join(
            f"{k} {v:.4g}"
            for k, v in list(run.result.metrics.items())[:4]
            if isinstance(v, int | float)
        )
    elif status == "failed":
        summary = str(getattr(run, "error", None) or "The run failed.")
    return ProgressMessage(
        type="progress",
        run=run.run_id,
        status=status,
        elapsed=float(progress_value(progress, "elapsed", 0.0)),
        budget=float(progress_value(progress, "budget", 0.0)),
        models_done=int(progress_value(progress, "models_done", 0) or 0),
        best_score=progress_value(progress, "best_score", None),
        metric=progress_value(progress, "metric", None),
        target=getattr(getattr(run, "request", None), "target", None),
        message=summary,
    )


def _id_of(data: Any) -> str | None:
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _error(ask_id: str | None, exc: BaseException) -> ErrorMessage:
    if isinstance(exc, DSAgentError):
        return ErrorMessage(type="error", id=ask_id, code=exc.code, message=exc.message)
    log.exception("the agent failed", exc_info=exc)
    return ErrorMessage(
        type="error",
        id=ask_id,
        code="internal_error",
        message=f"The agent failed unexpectedly ({type(exc).__name__}); "
        "the kernel log has the details.",
    )
