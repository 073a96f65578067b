"""The agent's tools: a fixed allow-list of typed functions over the workspace.

Each takes the turn's ``ToolContext`` first (hidden from the model) and returns text
the model reads. Side-effecting tools run only when the person's own words in this
turn asked for that action; a model persuaded by data to call them gets a refusal.
"""

from __future__ import annotations

import json
import keyword
from dataclasses import dataclass, field
from typing import Any

from .privacy import PrivacyPolicy, quote
from .registry import ToolError, ToolRegistry
from .suggest import make_suggestion
from .types import Suggestion
from .workspace import Workspace

__all__ = ["ToolContext", "default_registry"]

_LIST_COLUMNS = 40


@dataclass
class ToolContext:
    """What the tools of one turn share."""

    workspace: Workspace
    policy: PrivacyPolicy
    question: str
    result_tokens: int = 1500
    allowed_actions: frozenset[str] = frozenset()
    suggestions: list[Suggestion] = field(default_factory=list)
    started_runs: list[Any] = field(default_factory=list)

    def frame(self, name: str) -> Any:
        frames = self.workspace.dataframes()
        if name not in frames:
            known = ", ".join(quote(n) for n in frames) or "none"
            raise ToolError(f"No DataFrame named {quote(name)}. DataFrames: {known}.")
        return frames[name]

    def require(self, action: str, what: str) -> None:
        if action not in self.allowed_actions:
            raise ToolError(
                f"Not done: the person did not ask to {what} in this message. Do not retry; "
                "offer it as a numbered next step they can ask for."
            )


def list_dataframes(context: ToolContext) -> str:
    """List the DataFrames in the person's notebook: names, shapes and column types."""
    frames = context.workspace.dataframes()
    if not frames:
        return "There are no DataFrames in the notebook yet."
    entries = []
    for name, frame in frames.items():
        columns = [
            f"{quote(column, 60)}: {dtype}"
            for column, dtype in list(frame.dtypes.items())[:_LIST_COLUMNS]
        ]
        more = frame.shape[1] - len(columns)
        entries.append(
            f"{quote(name)}: {frame.shape[0]} rows x {frame.shape[1]} columns; "
            + ", ".join(columns)
            + (f", and {more} more columns" if more > 0 else "")
        )
    return "\n".join(entries)


def profile_dataframe(context: ToolContext, name: str, target: str | None = None) -> str:
    """Profile a DataFrame: types, missing values, distributions, warnings, target hints.

    Parameters
    ----------
    name
        The DataFrame's variable name.
    target
        Optional column to predict; adds the task type and leakage candidates.
    """
    frame = context.frame(name)
    if target is not None and target not in frame.columns:
        raise ToolError(f"{quote(name)} has no column {quote(target)}.")
    return context.policy.describe_frame(frame, target=target, max_tokens=context.result_tokens)


def list_uploads(context: ToolContext) -> str:
    """List files the person uploaded (validated): id, name, kind, size and warnings."""
    records = context.workspace.list_uploads()
    if not records:
        return "No uploads yet."
    lines = []
    for record in records[:50]:
        warnings = "; ".join(w.code for w in getattr(record, "warnings", []))
        lines.append(
            f"id={record.id} name={quote(record.name)} kind={record.kind} size={record.size}"
            + (f" warnings={warnings}" if warnings else "")
        )
    return "\n".join(lines)


def load_upload(context: ToolContext, id: str, as_name: str) -> str:
    """Load an upload into the notebook as a DataFrame variable (only when asked to).

    Parameters
    ----------
    id
        The upload's id (or name) from list_uploads.
    as_name
        The variable name to bind, a valid Python identifier.
    """
    context.require("load_upload", "load a file into the notebook")
    if not as_name.isidentifier() or keyword.iskeyword(as_name):
        raise ToolError(f"{quote(as_name)} is not a valid variable name.")
    existing = context.workspace.namespace.get(as_name)
    if existing is not None and as_name not in context.workspace.dataframes():
        raise ToolError(f"{quote(as_name)} already names something else; choose another name.")
    if context.workspace.load_upload is None:
        raise ToolError("Uploads cannot be loaded here.")
    frame = context.workspace.load_upload(id)
    context.workspace.assign(as_name, frame)
    shape = getattr(frame, "shape", None)
    return f"Loaded upload {quote(id)} as {as_name}" + (f" with shape {shape}." if shape else ".")


def suggest_cell(context: ToolContext, code: str, explanation: str) -> str:
    """Offer a code cell to the person, who decides whether to insert and run it.

    Parameters
    ----------
    code
        Complete, runnable Python for one notebook cell, using the notebook's variables.
    explanation
        One or two sentences on what the cell does and why.
    """
    suggestion = make_suggestion(code, explanation)
    context.suggestions.append(suggestion)
    return f"Shown to the person as suggestion {suggestion.id}; it has not been run."


def start_automl(context: ToolContext, name: str, target: str, time_limit: int = 60) -> str:
    """Start a time-limited AutoML run on a DataFrame (only when the person asked to train).

    Parameters
    ----------
    name
        The DataFrame's variable name.
    target
        The column to predict.
    time_limit
        Budget in seconds.
    """
    context.require("automl", "train a model")
    frame = context.frame(name)
    if target not in frame.columns:
        raise ToolError(f"{quote(name)} has no column {quote(target)}.")
    if context.workspace.start_automl is None:
        raise ToolError("AutoML is not available here.")
    run = context.workspace.start_automl(frame, target=target, time_limit=time_limit)
    context.started_runs.append(run)
    return f"Started AutoML run {run.run_id} on {quote(name)} predicting {quote(target)}."


def automl_status(context: ToolContext, run: str) -> str:
    """Status, progress and (when done) metrics of an AutoML run.

    Parameters
    ----------
    run
        The run id.
    """
    for candidate in context.workspace.automl_runs():
        if getattr(candidate, "run_id", None) == run:
            return _run_status(candidate)
    raise ToolError(f"No AutoML run {quote(run)} in this notebook.")


def explain_error(context: ToolContext) -> str:
    """The last error raised in the notebook: type, message and the end of the traceback."""
    from .errors import describe_error

    error = context.workspace.last_error()
    if error is None:
        return "No error has been raised in this notebook."
    return describe_error(error)


def _run_status(run: Any) -> str:
    state: dict[str, Any] = {"run": run.run_id, "status": run.status}
    progress = getattr(run, "progress", None)
    if progress is not None:
        state["progress"] = progress if isinstance(progress, dict) else vars(progress)
    if run.status == "done":
        state["metrics"] = run.result.metrics
        state["notes"] = run.result.notes  # sampling, cut-offs, suspected target leakage
    return json.dumps(state, default=str)


def default_registry() -> ToolRegistry:
    """Every tool the agent may call."""
    registry = ToolRegistry()
    registry.register(list_dataframes)
    registry.register(profile_dataframe)
    registry.register(list_uploads)
    registry.register(load_upload, side_effect="load_upload")
    registry.register(suggest_cell)
    registry.register(start_automl, side_effect="automl")
    registry.register(automl_status)
    registry.register(explain_error)
    return registry
