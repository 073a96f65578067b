"""How results look in a notebook, with text fallbacks for plain IPython.

In a kernel with a frontend, answers stream into one updating Markdown display and
runs get a live widget; in a terminal IPython, the same calls print text.
"""

from __future__ import annotations

import time
from typing import Any

from IPython import get_ipython
from IPython.display import Markdown, display, update_display

from ..agent import Answer
from ..agent.suggest import FLAG_DESCRIPTIONS
from .session import KernelSession, progress_value

__all__ = [
    "answer_markdown",
    "ask_with_stream",
    "has_frontend",
    "show",
    "show_audit",
    "show_chat",
    "show_run",
    "show_runs",
    "show_uploads",
    "show_usage",
]

_REFRESH_SECONDS = 0.15


def has_frontend() -> bool:
    """True in a Jupyter kernel (rich output and widgets), False in terminal IPython."""
    return getattr(get_ipython(), "kernel", None) is not None


def show(value: Any) -> None:
    display(value)


def answer_markdown(answer: Answer) -> str:
    """The full answer as Markdown: text, suggestions with their flags, and a trace line."""
    parts = [answer.text]
    for number, suggestion in enumerate(answer.suggestions, 1):
        flags = "".join(
            f"\n\n> ⚠ This cell {FLAG_DESCRIPTIONS[flag]}." for flag in suggestion.flags
        )
        parts.append(
            f"**Suggested cell {number}** — {suggestion.explanation}{flags}\n\n"
            f"```python\n{suggestion.code}\n```"
        )
    if answer.notice:
        parts.append(f"*{answer.notice}*")
    parts.append(f"<sub>{_trace_line(answer)}</sub>")
    return "\n\n".join(part for part in parts if part)


def _trace_line(answer: Answer) -> str:
    if answer.offline:
        source = "offline planner"
    else:
        usage = answer.usage
        source = (
            f"{answer.model or 'model'} · {usage.prompt_tokens + usage.completion_tokens} "
            f"tokens · ${usage.cost_usd:.4f}"
        )
    tools = ", ".join(step.tool for step in answer.trace)
    return source + (f" · tools: {tools}" if tools else "")


def ask_with_stream(session: KernelSession, question: str) -> Answer:
    """Ask in the foreground, streaming into one display that ends as the full answer."""
    if not has_frontend():
        answer = session.ask(question, on_event=_print_delta)
        print()
        for suggestion in answer.suggestions:
            print(f"\n# {suggestion.explanation}\n{suggestion.code}")
        return answer
    handle = display(Markdown("*Thinking…*"), display_id=True)
    display_id = handle.display_id if handle is not None else None
    streamed: list[str] = []
    last = 0.0

    def on_event(event: dict[str, Any]) -> None:
        nonlocal last
        if event["type"] != "delta" or display_id is None:
            return
        streamed.append(event["text"])
        now = time.monotonic()
        if now - last >= _REFRESH_SECONDS:
            last = now
            update_display(Markdown("".join(streamed)), display_id=display_id)

    answer = session.ask(question, on_event=on_event)
    if display_id is not None:
        update_display(Markdown(answer_markdown(answer)), display_id=display_id)
    return answer


def _print_delta(event: dict[str, Any]) -> None:
    if event["type"] == "delta":
        print(event["text"], end="", flush=True)


def show_run(run: Any, session: KernelSession, *, bound_to: str) -> None:
    if has_frontend():
        from .widgets import RunProgress

        display(RunProgress(run, session))
    print(
        f"AutoML run {run.run_id} started in the background; it is bound to `{bound_to}` "
        f"(`{bound_to}.wait()` blocks until it ends; `%dsagent runs` lists runs)."
    )


def show_runs(session: KernelSession, stored: list[Any]) -> None:
    """This kernel's runs (live), then the other runs kept in the data dir (``stored``)."""
    rows = []
    for run in session.runs:
        progress = run.progress
        rows.append(
            {
                "run": run.run_id,
                "status": run.status,
                "target": getattr(getattr(run, "request", None), "target", None),
                "elapsed_s": round(float(progress_value(progress, "elapsed", 0.0)), 1),
                "budget_s": progress_value(progress, "budget", None),
                "models": progress_value(progress, "models_done", 0),
                "best_score": progress_value(progress, "best_score", None),
            }
        )
    shown = {row["run"] for row in rows}
    for summary in stored:
        if summary.run_id not in shown:
            seconds = summary.seconds
            rows.append(
                {
                    "run": summary.run_id,
                    "status": summary.status,
                    "target": summary.target,
                    "elapsed_s": None if seconds is None else round(float(seconds), 1),
                    "budget_s": None,
                    "models": None,
                    "best_score": summary.score,
                }
            )
    _show_table(rows, "run", "No AutoML runs yet: %dsagent automl DF --target COL")


def show_uploads(records: list[Any]) -> None:

    rows = [
        {
            "id": record.id,
            "name": record.name,
            "kind": record.kind,
            "size": record.size,
            "created": record.created,
            "warnings": ", ".join(w.code for w in record.warnings),
        }
        for record in records
    ]
    _show_table(
        rows, "id", "No uploads yet. Drop files on the DS Agent sidebar, or use dsa.load(path)."
    )


def show_audit(records: list[Any]) -> None:

    rows = [
        {
            "seq": record.seq,
            "time": record.time,
            "kind": record.kind,
            "subject": record.subject,
            "outcome": record.outcome,
            "actor": record.actor[:12],
        }
        for record in records
    ]
    _show_table(rows, "seq", "The audit log has no matching records.")


def _show_table(rows: list[dict[str, Any]], index: str, empty: str) -> None:
    """Rows as a DataFrame (HTML in a notebook, text in a terminal), or ``empty``."""
    import pandas as pd

    if not rows:
        print(empty)
        return
    display(pd.DataFrame(rows).set_index(index))


def show_usage(session: KernelSession) -> None:
    import pandas as pd

    usage = session.usage()
    if not usage.get("rows"):
        print(usage.get("message", "No model calls yet."))
        return
    display(pd.DataFrame(usage["rows"]))
    if usage.get("message"):
        print(usage["message"])


def show_chat(session: KernelSession) -> None:
    if not has_frontend():
        print('The chat widget needs a notebook; here, use %dsagent ask "…".')
        return
    from .widgets import ChatWidget

    display(ChatWidget(session))
