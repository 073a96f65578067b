"""The conversation loop: model turns, tool calls, budgets, trace and fallbacks.

``Agent.ask`` sends the question with the trimmed history and the tool list, runs
the tools the model calls (at most ``agent_max_tool_rounds`` rounds), and returns an
``Answer`` with its trace and usage. With no model, or when every model failed, the
offline planner answers instead.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import DSAgentError
from .client import OFFLINE_CODES, ModelClient, ModelError, ModelReply
from .markdown import neutralise_markdown
from .privacy import PrivacyPolicy, clip
from .prompts import DATA_NOTICE, SYSTEM_PROMPT
from .registry import ToolError, ToolRegistry
from .tools import ToolContext, default_registry
from .types import Answer, ToolTrace, TurnUsage
from .workspace import Workspace

__all__ = ["Agent"]

EventSink = Callable[[dict[str, Any]], None]

_STEP_REFERENCE = re.compile(
    r"^\s*(?:please\s+)?(?:do|run|try|go\s+with|option|step|yes,?\s+do)?\s*#?(\d{1,2})\s*[.!]?\s*$",
    re.IGNORECASE,
)
_NUMBERED_LINE = re.compile(r"^\s*(\d{1,2})[.)]\s+(.+?)\s*$")
_CHARS_PER_TOKEN = 3  # conservative, for clipping tool results without a tokenizer call


@dataclass
class _HistoryEntry:
    message: dict[str, Any]
    tokens: int


class Agent:
    """One conversation with the person, over their workspace.

    Parameters
    ----------
    workspace
        What the tools may see and touch.
    settings
        The ``DSAgent`` settings (agent and privacy limits).
    client
        The model client, or None for the offline planner only.
    audit, actor
        Where tool runs and budget hits are recorded, and as whom.
    count_tokens
        Token counter for history trimming; litellm's by default.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        settings: Any,
        client: ModelClient | None = None,
        audit: Any = None,
        actor: str = "unknown",
        registry: ToolRegistry | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self.workspace = workspace
        self.settings = settings
        self.client = client
        self.audit = audit
        self.actor = actor
        self.registry = registry or default_registry()
        self.policy = PrivacyPolicy.from_settings(settings)
        self._count = count_tokens or _litellm_counter(client)
        self._history: list[_HistoryEntry] = []
        self.last_request: dict[str, Any] | None = None
        self.last_answer: Answer | None = None

    # -- public -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """Answer ``question``; streams ``delta``/``suggestion``/``tool`` events to ``on_event``."""
        emit = on_event or (lambda event: None)
        question = self._resolve_step_reference(question)
        if self.client is None:
            answer = self._offline(question, "no_model", emit)
        else:
            try:
                answer = self._converse(question, emit, cancel or threading.Event())
            except ModelError as exc:
                if exc.code not in OFFLINE_CODES:
                    if exc.code == "budget_exhausted":
                        self._audit("budget.exhausted", "llm", "denied", {"code": exc.code})
                    raise
                reason = "no_model" if exc.code == "model_not_configured" else "upstream_failed"
                if exc.partial is not None and (exc.partial.text or exc.partial.tool_calls):
                    reason = exc.message  # one model broke off mid-answer; none other tried
                answer = self._offline(question, reason, emit)
        self.last_answer = answer
        self._remember(question, answer.text)
        return answer

    def show_context(self) -> str:
        """Exactly what the last model request contained (messages and tool names)."""
        if self.last_request is None:
            return "Nothing has been sent to a model yet."
        return json.dumps(self.last_request, indent=2, ensure_ascii=False)

    def reset(self) -> None:
        """Forget the conversation."""
        self._history.clear()
        self.last_request = None
        self.last_answer = None

    # -- model path ---------------------------------------------------------------------
    def _converse(self, question: str, emit: EventSink, cancel: threading.Event) -> Answer:
        assert self.client is not None
        context = ToolContext(
            workspace=self.workspace,
            policy=self.policy,
            question=question,
            result_tokens=self.settings.agent_tool_result_tokens,
            allowed_actions=_allowed_actions(question),
        )
        messages = self._messages(question)
        usage, trace = TurnUsage(), list[ToolTrace]()
        text, model, notice = "", None, None
        max_rounds = self.settings.agent_max_tool_rounds
        capped = False
        for round_number in range(max_rounds + 1):
            # The last round offers no tools, so the model has to answer in words.
            capped = round_number == max_rounds
            tools = [] if capped else self.registry.specs()
            self.last_request = {
                "messages": messages,
                "tools": [tool["function"]["name"] for tool in tools],
            }
            reply = self.client.chat(
                messages,
                tools,
                on_delta=lambda piece: emit({"type": "delta", "text": piece}),
                cancel=cancel,
            )
            usage.add(reply.prompt_tokens, reply.completion_tokens, reply.cost_usd)
            model = reply.model or model
            text = reply.text
            if reply.cancelled or cancel.is_set():
                notice = "Stopped at your request."
                capped = False
                break
            if not reply.tool_calls or capped:
                break
            messages.append(_assistant_message(reply))
            for call in reply.tool_calls:
                messages.append(self._run_tool(call, context, trace, emit))
        if capped:
            self._audit("budget.exhausted", "agent.tool_rounds", "denied", {"rounds": max_rounds})
            notice = f"Stopped calling tools after {max_rounds} rounds."
        text = neutralise_markdown(text)
        return Answer(
            text=text,
            suggestions=list(context.suggestions),
            trace=trace,
            usage=usage,
            model=model,
            next_steps=_next_steps(text),
            notice=notice,
        )

    def _run_tool(
        self, call: dict[str, str], context: ToolContext, trace: list[ToolTrace], emit: EventSink
    ) -> dict[str, Any]:
        started = time.perf_counter()
        name, error = call.get("name", ""), None
        arguments: dict[str, Any] = {}
        before = len(context.suggestions)
        try:
            arguments = self.registry.parse_arguments(name, call.get("arguments", ""))
            tool = self.registry.get(name)
            assert tool is not None
            result = str(tool.function(context, **arguments))
        except ToolError as exc:
            error = str(exc)
        except DSAgentError as exc:
            error = exc.message
        except Exception as exc:  # a tool bug must reach the model as text, not crash
            error = f"The tool failed: {type(exc).__name__}: {clip(str(exc), 300)}"
        if error is not None:
            result = f"Error: {error}"
        result = clip(result, self.settings.agent_tool_result_tokens * _CHARS_PER_TOKEN)
        duration = (time.perf_counter() - started) * 1000
        step = ToolTrace(name, _loggable(arguments), round(duration, 2), len(result), error)
        trace.append(step)
        emit({"type": "tool", **step.to_dict()})
        for suggestion in context.suggestions[before:]:
            emit({"type": "suggestion", "suggestion": suggestion})
        self._audit(
            "tool.run",
            name or "unknown",
            "ok" if error is None else "error",
            {
                "arguments": sorted(arguments),
                "duration_ms": step.duration_ms,
                "result_chars": step.result_chars,
                **(
                    {"suggestion": context.suggestions[-1].sha256}
                    if len(context.suggestions) > before
                    else {}
                ),
            },
        )
        return {"role": "tool", "tool_call_id": call.get("id", ""), "content": DATA_NOTICE + result}

    # -- offline path -------------------------------------------------------------------
    def _offline(self, question: str, reason: str, emit: EventSink) -> Answer:
        from .offline import plan

        answer = plan(question, self.workspace, reason=reason)
        emit({"type": "delta", "text": answer.text})
        for suggestion in answer.suggestions:
            emit({"type": "suggestion", "suggestion": suggestion})
            self._audit("tool.run", "offline.suggest_cell", "ok", {"suggestion": suggestion.sha256})
        return answer

    # -- history ------------------------------------------------------------------------
    def _messages(self, question: str) -> list[dict[str, Any]]:
        """System prompt, as much recent history as the budget allows, the question."""
        budget = self.settings.agent_history_tokens
        kept: list[dict[str, Any]] = []
        for entry in reversed(self._history):
            if entry.tokens > budget:
                break
            budget -= entry.tokens
            kept.append(entry.message)
        kept.reverse()
        while kept and kept[0]["role"] != "user":  # never start with an orphan answer
            kept.pop(0)
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            *kept,
            {"role": "user", "content": question},
        ]

    def _remember(self, question: str, text: str) -> None:
        # With no model nothing is ever sent, so there is nothing to count (and counting
        # would import litellm for the offline planner's first answer).
        for message in (
            {"role": "user", "content": question},
            {"role": "assistant", "content": text or "(no text)"},
        ):
            tokens = self._count(message["content"]) + 4 if self.client is not None else 0
            self._history.append(_HistoryEntry(message, tokens))

    def _resolve_step_reference(self, question: str) -> str:
        match = _STEP_REFERENCE.match(question)
        steps = self.last_answer.next_steps if self.last_answer else []
        if match and 1 <= int(match.group(1)) <= len(steps):
            return steps[int(match.group(1)) - 1]
        return question

    def _audit(self, kind: str, subject: str, outcome: str, details: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append(
                kind=kind, actor=self.actor, subject=subject, outcome=outcome, details=details
            )


def _allowed_actions(question: str) -> frozenset[str]:
    from .intents import asks_for_action

    return frozenset(a for a in ("automl", "load_upload") if asks_for_action(question, a))


def _assistant_message(reply: ModelReply) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": reply.text or None,
        "tool_calls": [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for call in reply.tool_calls
        ],
    }


def _loggable(arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments for the trace: code and long strings clipped."""
    return {k: clip(v, 200) if isinstance(v, str) else v for k, v in arguments.items()}


def _next_steps(text: str) -> list[str]:
    """The last numbered list in ``text`` (1., 2., 3. …)."""
    steps: list[str] = []
    for line in text.splitlines():
        match = _NUMBERED_LINE.match(line)
        if not match:
            continue
        number = int(match.group(1))
        if number == 1:
            steps = [match.group(2)]
        elif number == len(steps) + 1:
            steps.append(match.group(2))
    return steps


def _litellm_counter(client: ModelClient | None) -> Callable[[str], int]:
    def count(text: str) -> int:
        from ..llm.tokens import count_tokens

        model = getattr(client, "_model", None) or "gpt-4o-mini"
        return count_tokens(text, model=model)

    return count
