"""ipywidgets: the chat panel of ``%dsagent chat`` and the live AutoML progress bar.

Both are updated from background threads (the agent's, the run monitor's); widget
trait changes are sent as comm messages, so the kernel stays free for other cells.
Markdown is shown as a ``text/markdown`` output, which the frontend sanitises.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as widgets

from ..agent import Answer, Suggestion
from ..agent.suggest import FLAG_DESCRIPTIONS
from ..exceptions import DSAgentError
from .display import answer_markdown
from .session import KernelSession, progress_value

__all__ = ["ChatWidget", "RunProgress"]

_REFRESH_SECONDS = 0.15


def _markdown_output(text: str) -> dict[str, Any]:
    return {"output_type": "display_data", "data": {"text/markdown": text}, "metadata": {}}


class ChatWidget(widgets.VBox):
    """History, an input box, Send and Stop, and suggestion cards with Insert buttons."""

    def __init__(self, session: KernelSession) -> None:
        self.session = session
        agent = session.agent
        source = agent.client.model if agent.client else None
        self.header = widgets.HTML(f"<b>DS Agent</b> · {html.escape(source or 'offline planner')}")
        self.history = widgets.VBox()
        self.input = widgets.Textarea(
            placeholder="Ask about your data, e.g. 'what is missing in df?'",
            layout=widgets.Layout(width="100%", height="4em"),
        )
        self.send_button = widgets.Button(
            description="Send", button_style="primary", icon="paper-plane"
        )
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.status = widgets.HTML("")
        self.send_button.on_click(lambda _: self.send())
        self.stop_button.on_click(lambda _: self.stop())
        self._cancel: threading.Event | None = None
        super().__init__(
            [
                self.header,
                self.history,
                self.input,
                widgets.HBox([self.send_button, self.stop_button, self.status]),
            ],
            layout=widgets.Layout(width="100%"),
        )

    def send(self) -> None:
        question = self.input.value.strip()
        if not question or self._cancel is not None:
            return
        self.input.value = ""
        self._append_markdown(f"**You:** {_escape_markdown(question)}")
        answer_view = widgets.Output()
        self.history.children = (*self.history.children, answer_view)
        streamed: list[str] = []
        last = [0.0]

        def on_event(event: dict[str, Any]) -> None:
            if event["type"] != "delta":
                return
            streamed.append(event["text"])
            now = time.monotonic()
            if now - last[0] >= _REFRESH_SECONDS:
                last[0] = now
                answer_view.outputs = (_markdown_output("".join(streamed)),)

        def on_done(answer: Answer) -> None:
            answer_view.outputs = (_markdown_output(answer_markdown(answer)),)
            for suggestion in answer.suggestions:
                self.history.children = (
                    *self.history.children,
                    SuggestionCard(suggestion, self.session),
                )
            self._finish("")

        def on_error(exc: BaseException) -> None:
            message = (
                exc.message
                if isinstance(exc, DSAgentError)
                else (f"The agent failed ({type(exc).__name__}); see the kernel log.")
            )
            answer_view.outputs = (_markdown_output(f"**Error:** {_escape_markdown(message)}"),)
            self._finish("")

        self.send_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "<i>thinking…</i>"
        self._cancel = self.session.ask_in_background(
            question, on_event=on_event, on_done=on_done, on_error=on_error
        )

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.status.value = "<i>stopping…</i>"

    def _finish(self, status: str) -> None:
        self._cancel = None
        self.send_button.disabled, self.stop_button.disabled = False, True
        self.status.value = status

    def _append_markdown(self, text: str) -> None:
        view = widgets.Output()
        view.outputs = (_markdown_output(text),)
        self.history.children = (*self.history.children, view)


class SuggestionCard(widgets.VBox):
    """A suggested cell: the code, its flags, and Insert / Insert & Run."""

    def __init__(self, suggestion: Suggestion, session: KernelSession) -> None:
        self.suggestion = suggestion
        self.session = session
        flags = "".join(
            f"<div>⚠ This cell {html.escape(FLAG_DESCRIPTIONS[flag])}.</div>"
            for flag in suggestion.flags
        )
        code = widgets.Output()
        code.outputs = (_markdown_output(f"```python\n{suggestion.code}\n```"),)
        insert = widgets.Button(description="Insert", icon="plus")
        insert_run = widgets.Button(description="Insert & Run", icon="play")
        self.note = widgets.HTML("")
        insert.on_click(lambda _: self._insert(run=False))
        insert_run.on_click(lambda _: self._insert(run=True))
        super().__init__(
            [
                widgets.HTML(f"<div>{html.escape(suggestion.explanation)}</div>{flags}"),
                code,
                widgets.HBox([insert, insert_run, self.note]),
            ]
        )

    def _insert(self, *, run: bool) -> None:
        if self.session.offer_insert(self.suggestion, run=run):
            self.note.value = "<i>inserted below the active cell</i>"
        else:
            self.note.value = (
                "<i>Open the DS Agent sidebar to insert with a click, or run "
                f"<code>%dsagent insert {html.escape(self.suggestion.id)}</code>.</i>"
            )


class RunProgress(widgets.VBox):
    """Elapsed / budget, models finished and best score, then the result tables."""

    def __init__(self, run: Any, session: KernelSession) -> None:
        self.run = run
        self.bar = widgets.FloatProgress(
            min=0.0, max=1.0, value=0.0, layout=widgets.Layout(width="50%")
        )
        self.label = widgets.HTML("")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop")
        self.cancel_button.on_click(lambda _: run.cancel())
        self.result = widgets.Output()
        self._shown_result = False
        self._lock = threading.Lock()
        super().__init__([widgets.HBox([self.bar, self.label, self.cancel_button]), self.result])
        session.progress_listeners.append(self._on_progress)
        self._on_progress(run)

    def _on_progress(self, run: Any) -> None:
        if run is not self.run:
            return
        with self._lock:
            progress = run.progress
            elapsed = float(progress_value(progress, "elapsed", 0.0))
            budget = float(progress_value(progress, "budget", 0.0) or 1.0)
            self.bar.max = budget
            self.bar.value = min(elapsed, budget)
            best = progress_value(progress, "best_score", None)
            metric = progress_value(progress, "metric", None) or "score"
            text = (
                f"{html.escape(run.status)} · {elapsed:.0f} s / {budget:.0f} s · "
                f"{progress_value(progress, 'models_done', 0)} models"
            )
            if best is not None:
                text += f" · best {html.escape(str(metric))} {float(best):.4g}"
            self.label.value = text
            if run.status in ("done", "failed", "cancelled"):
                self.cancel_button.disabled = True
                self.bar.bar_style = {"done": "success", "failed": "danger"}.get(
                    run.status, "warning"
                )
                if not self._shown_result:
                    self._shown_result = True
                    self._show_result(run)

    def _show_result(self, run: Any) -> None:
        if run.status != "done":
            error = getattr(run, "error", None)
            if error is not None:
                self.result.append_stdout(f"{getattr(error, 'message', error)}\n")
            return
        import pandas as pd

        result = run.result
        for note in result.notes:  # sampling, cut-offs, suspected leakage: read before scores
            self.result.append_stdout(f"Note: {note}\n")
        metrics = {k: v for k, v in result.metrics.items() if isinstance(v, int | float)}
        self.result.append_display_data(pd.DataFrame([metrics], index=["holdout"]))
        self.result.append_display_data(result.leaderboard)
        figure = _result_figure(result)
        if figure is not None:
            self.result.append_display_data(figure)


def _result_figure(result: Any) -> Any:
    """Confusion matrix for classification, residuals for regression (no pyplot: thread-safe)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3.2), layout="constrained")
    axes = figure.add_subplot()
    matrix = getattr(result, "confusion_matrix", None)
    if matrix is not None:
        import pandas as pd

        frame = matrix if isinstance(matrix, pd.DataFrame) else pd.DataFrame(matrix)
        axes.imshow(frame.to_numpy(), cmap="Blues")
        axes.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=45)
        axes.set_yticks(range(frame.shape[0]), [str(i) for i in frame.index])
        for (i, j), value in pd.DataFrame(frame.to_numpy()).stack().items():
            axes.text(j, i, str(value), ha="center", va="center")
        axes.set_xlabel("predicted")
        axes.set_ylabel("actual")
        axes.set_title("Confusion matrix (holdout)")
        return figure
    residuals = getattr(result, "residuals", None)
    if residuals is None:
        return None
    axes.scatter(residuals["predicted"], residuals["residual"], s=8, alpha=0.6)
    axes.axhline(0, color="grey", linewidth=1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual - predicted")
    axes.set_title("Residuals (holdout)")
    return figure


def _escape_markdown(text: str) -> str:
    return html.escape(text).replace("`", "\\`").replace("[", "\\[").replace("!", "\\!")
