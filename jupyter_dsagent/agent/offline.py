"""The offline planner: answers with no model, from recognised intents and cell templates.

Used when no model is configured or every model failed. It reads the question with
:mod:`.intents`, looks at the real DataFrames and columns in the workspace, and suggests
a runnable cell from :mod:`.templates` (or a fix from :mod:`.errors`). Every answer says
plainly that it comes from the offline planner and why, and ends with numbered next
steps phrased so that each one, asked again, produces that step. No network, no model,
no side effects: it only reads the workspace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..redaction import redact_text
from . import templates
from .errors import describe_error, known_fix
from .intents import Intent, code_span, detect, flatten_uploads, quote_name
from .suggest import make_suggestion
from .types import Answer
from .workspace import Workspace

__all__ = ["DEFAULT_TIME_LIMIT", "plan"]

#: AutoML time budget (seconds) when the question gives none.
DEFAULT_TIME_LIMIT = 60
_EXAMPLE_MODEL = "openai/gpt-4o-mini"
# Column names that usually hold what a dataset is about, most telling first.
_TARGET_NAMES = (
    "target",
    "label",
    "outcome",
    "y",
    "churn",
    "survived",
    "attrition",
    "iscanceled",
    "readmitted",
    "default",
    "species",
    "price",
    "sales",
    "profit",
    "fraud",
    "class",
)
_ID_NAME = re.compile(r"(?:^|[_\s\-])(?:id|ID|Id)$|[a-z]I[dD]$|(?i:number|code)$|^(?i:id)$")
_KIND_WORDS = {
    "numeric": "numbers",
    "discrete": f"numbers with at most {templates.DISCRETE_MAX_VALUES} distinct values",
    "boolean": "true/false values",
    "categorical": "categories or text",
    "datetime": "dates",
    "datetime_text": "dates written as text",
}


@dataclass
class _Reply:
    """The planner's part of an answer, before the header and the numbered steps."""

    body: str
    code: str | None = None
    explanation: str = ""
    steps: list[str] = field(default_factory=list)


@dataclass
class _Context:
    intent: Intent
    workspace: Workspace
    frames: dict[str, Any]
    _kinds: dict[Any, templates.ColumnKind] = field(default_factory=dict)
    _number_columns: list[tuple[Any, str]] | None = None
    _target: tuple[Any | None] | None = None

    @property
    def name(self) -> str:
        assert self.intent.dataframe is not None
        return self.intent.dataframe

    @property
    def frame(self) -> Any:
        return self.frames[self.name]

    def kind(self, column: Any) -> templates.ColumnKind:
        if column not in self._kinds:
            self._kinds[column] = templates.column_kind(self.frame[column])
        return self._kinds[column]

    def _numbers(self) -> list[tuple[Any, str]]:
        """(column, dtype kind) of the number columns, read from dtypes (no data copied)."""
        if self._number_columns is None:
            self._number_columns = [
                (column, dtype.kind)
                for column, dtype in self.frame.dtypes.items()
                if dtype.kind in "iuf"
            ]
        return self._number_columns

    def numeric_count(self) -> int:
        return len(self._numbers())

    def first_numeric(self, exclude: tuple[Any, ...] = ()) -> Any | None:
        """The first number column that is not an id, measurements (floats) first."""
        numbers = [
            (column, kind)
            for column, kind in self._numbers()
            if isinstance(column, str) and column not in exclude and not _looks_like_id(column)
        ]
        candidates = [c for c, kind in numbers if kind == "f"] or [c for c, _ in numbers]
        return candidates[0] if candidates else None

    def target_guess(self) -> Any | None:
        if self._target is None:
            columns = [c for c in self.frame.columns if isinstance(c, str)]
            by_key = {_key(c): c for c in reversed(columns)}
            guess = next((by_key[n] for n in _TARGET_NAMES if n in by_key), None)
            self._target = (guess if guess is not None else columns[-1] if columns else None,)
        return self._target[0]

    def uploads(self) -> list[Any]:
        try:
            return flatten_uploads(self.workspace.list_uploads())
        except Exception:  # the catalog is unavailable: answer as if there were none
            return []


def _key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _looks_like_id(name: str) -> bool:
    return bool(_ID_NAME.search(name))


# -- public ---------------------------------------------------------------------------------


def plan(question: str, workspace: Workspace, *, reason: str = "no_model") -> Answer:
    """Answer ``question`` without a model.

    Parameters
    ----------
    question
        The person's words, or the text of a next step of an earlier answer.
    workspace
        Their DataFrames, uploads and last error; only read.
    reason
        ``"no_model"`` (nothing configured), ``"upstream_failed"`` (every model failed),
        or a short text saying what else went wrong; shown in the answer.

    Returns
    -------
    Answer
        ``offline=True``, markdown text with numbered next steps (also in
        ``next_steps``), and at most one suggested cell.
    """
    intent = detect(question, workspace)
    frames = {name: frame for name, frame in workspace.dataframes().items() if name.isidentifier()}
    context = _Context(intent, workspace, frames)
    needs_data = intent.kind not in ("load_upload", "explain_error", "help")
    reply = _no_data(context) if needs_data and not frames else _REPLIES[intent.kind](context)
    suggestions = [make_suggestion(reply.code, reply.explanation)] if reply.code else []
    steps = list(dict.fromkeys(reply.steps))[:4]
    return Answer(
        text=_compose(_header(reason), reply.body, steps),
        suggestions=suggestions,
        offline=True,
        next_steps=steps,
        notice=_notice(reason),
    )


# -- text -----------------------------------------------------------------------------------


def _header(reason: str) -> str:
    from ..config import DSAgent

    if reason == "no_model":
        return (
            "**Offline planner.** No language model is configured, so this answer comes from "
            "the built-in offline planner: fixed recipes for common questions, no network. "
            f"To use a model, set `{DSAgent.env_var('model')}` (for example "
            f"`{_EXAMPLE_MODEL}`) and the provider's key (for example `OPENAI_API_KEY`) in "
            "the environment of the Jupyter server, or put "
            f'`c.DSAgent.model = "{_EXAMPLE_MODEL}"` in `jupyter_server_config.py`, then '
            "restart the server."
        )
    if reason == "upstream_failed":
        return (
            "**Offline planner.** Every configured model failed just now, so this answer "
            "comes from the built-in offline planner (fixed recipes, no network). Try again "
            "in a moment; if it keeps failing, check the server log and `%dsagent config`."
        )
    said = redact_text(" ".join(reason.split()))
    said = said if len(said) <= 200 else said[:199] + "…"
    return (
        f"**Offline planner.** The model could not answer ({said}), so this answer comes "
        "from the built-in offline planner (fixed recipes, no network)."
    )


def _notice(reason: str) -> str:
    if reason == "no_model":
        return "Offline planner: no model is configured."
    if reason == "upstream_failed":
        return "Offline planner: every model failed."
    return "Offline planner: the model could not answer."


def _compose(header: str, body: str, steps: list[str]) -> str:
    parts = [header, body]
    if steps:
        numbered = "\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1))
        parts.append(f'**Next steps** (reply "do 1", "do 2", …):\n\n{numbered}')
    return "\n\n".join(part for part in parts if part)


def _frame_label(context: _Context) -> str:
    rows, columns = context.frame.shape
    return f"{code_span(context.name)} ({rows:,} rows, {columns:,} columns)"


# -- next steps: each, asked again, is read back as the same request ----------------------------


def _step_overview(frame: str) -> str:
    return f"Give an overview of {quote_name(frame)}"


def _step_missing(frame: str) -> str:
    return f"Show missing values in {quote_name(frame)}"


def _step_describe(frame: str, column: Any) -> str:
    return f"Describe column {quote_name(column)} in {quote_name(frame)}"


def _step_distribution(frame: str, column: Any) -> str:
    return f"Plot the distribution of {quote_name(column)} in {quote_name(frame)}"


def _step_relationship(frame: str, x: Any, y: Any) -> str:
    return f"Plot {quote_name(x)} against {quote_name(y)} in {quote_name(frame)}"


def _step_correlations(frame: str, column: Any | None = None) -> str:
    if column is None:
        return f"Show correlations in {quote_name(frame)}"
    return f"Show correlations with {quote_name(column)} in {quote_name(frame)}"


def _step_train(frame: str, target: Any) -> str:
    return f"Train a model to predict {quote_name(target)} in {quote_name(frame)}"


def _step_load(name: str) -> str:
    return f"Load the upload {quote_name(name)}"


_STEP_LIST_UPLOADS = "List my uploads"
_STEP_EXPLAIN = "Explain the last error"
_STEP_HELP = "What can the offline planner do?"


def _exploration_steps(context: _Context) -> list[str]:
    """Steps that usually come next in an exploration of the current frame."""
    target = context.target_guess()
    numeric = context.first_numeric(exclude=(target,)) or context.first_numeric()
    steps = []
    if numeric is not None:
        steps.append(_step_distribution(context.name, numeric))
    if target is not None:
        if numeric is not None and numeric != target:
            steps.append(_step_relationship(context.name, numeric, target))
        steps.append(_step_train(context.name, target))
    return steps


# -- replies per intent -------------------------------------------------------------------------


def _overview(context: _Context) -> _Reply:
    return _Reply(
        body=(
            f"Here is a profile of {_frame_label(context)}: the type of each column, missing "
            "values, distributions, and warnings such as constant, duplicated or leaking "
            "columns."
        ),
        code=templates.overview(context.name),
        explanation=f"Profiles {code_span(context.name)} (shown as a table).",
        steps=[
            _step_missing(context.name),
            *_exploration_steps(context),
            _step_correlations(context.name),
        ],
    )


def _missing(context: _Context) -> _Reply:
    columns = context.intent.columns
    scope = "the columns " + ", ".join(code_span(c) for c in columns) if columns else "every column"
    return _Reply(
        body=(
            f"This counts the missing values (NaN, None, NaT) in {scope} of "
            f"{_frame_label(context)} and shows the columns that have some, with the share "
            "of rows affected, most first."
        ),
        code=templates.missing(context.name, columns),
        explanation="Counts missing values per column.",
        steps=[
            _step_overview(context.name),
            *(_step_describe(context.name, c) for c in columns[:1]),
            *_exploration_steps(context),
        ],
    )


def _describe_column(context: _Context) -> _Reply:
    if not context.intent.columns:
        return _not_found(context, _overview(context))
    column = context.intent.columns[0]
    kind = context.kind(column)
    what = (
        "count, mean, spread and quartiles"
        if kind in ("numeric", "discrete")
        else "range and quartiles"
        if kind in ("datetime", "datetime_text")
        else "the 20 most frequent values with their share"
    )
    target = context.target_guess()
    steps = [_step_distribution(context.name, column)]
    if target is not None and target != column:
        steps.append(_step_relationship(context.name, column, target))
    steps += [_step_missing(context.name), _step_overview(context.name)]
    return _Reply(
        body=(
            f"{code_span(column)} in {_frame_label(context)} holds {_KIND_WORDS[kind]}; the "
            f"cell shows {what}, with the number of missing and distinct values."
        ),
        code=templates.describe_column(context.name, column, kind),
        explanation=f"Summarises {code_span(column)}.",
        steps=steps,
    )


def _plot_distribution(context: _Context) -> _Reply:
    columns = [(c, context.kind(c)) for c in context.intent.columns[:6]]
    numeric = context.numeric_count()
    if not columns and not numeric:
        first = next((c for c in context.frame.columns if isinstance(c, str)), None)
        if first is None:
            return _overview(context)
        columns = [(first, context.kind(first))]
    code = templates.plot_distribution(context.name, columns, numeric)
    if not columns:
        shown = min(numeric, 16)
        body = (
            f"Histograms of the first {shown} number columns of {_frame_label(context)} "
            "(30 bins each; missing values are left out)."
        )
        steps = [*_exploration_steps(context), _step_correlations(context.name)]
    else:
        described = "; ".join(_distribution_words(c, k) for c, k in columns)
        body = f"From {_frame_label(context)}: {described}."
        first = columns[0][0]
        target = context.target_guess()
        steps = [_step_describe(context.name, first)]
        if target is not None and target != first:
            steps.append(_step_relationship(context.name, first, target))
        steps += [_step_correlations(context.name), _step_missing(context.name)]
    return _Reply(body, code, "Plots the distribution (a figure).", steps)


def _distribution_words(column: Any, kind: templates.ColumnKind) -> str:
    name = code_span(column)
    if kind == "numeric":
        return f"a histogram of {name} (30 bins, missing values left out)"
    if kind in ("datetime", "datetime_text"):
        return f"a histogram of the dates in {name}"
    if kind == "discrete":
        return f"a bar chart of how often each value of {name} occurs"
    return f"a bar chart of the 20 most frequent values of {name}"


def _plot_relationship(context: _Context) -> _Reply:
    columns = list(context.intent.columns)
    if len(columns) < 2:
        target = context.target_guess()
        if columns and target is not None and target != columns[0]:
            columns.append(target)
        else:
            return _plot_distribution(context)
    x, y = columns[0], columns[1]
    x_kind, y_kind = context.kind(x), context.kind(y)
    category_like = ("discrete", "boolean", "categorical")
    distinct = (
        int(context.frame[x].nunique()) if x_kind in category_like else 0,
        int(context.frame[y].nunique()) if y_kind in category_like else 0,
    )
    code = templates.plot_relationship(
        context.name, (x, x_kind), (y, y_kind), rows=len(context.frame), distinct=distinct
    )
    body = f"From {_frame_label(context)}: {_relationship_words(x, x_kind, y, y_kind)}."
    if len(context.intent.columns) > 2:
        body += " I used the first two columns you named."
    elif len(context.intent.columns) < 2:
        body += f" You named one column, so I paired it with {code_span(y)}."
    numbers = [c for c, k in ((x, x_kind), (y, y_kind)) if k in ("numeric", "discrete")]
    steps = [
        _step_correlations(context.name, numbers[0] if numbers else None),
        _step_describe(context.name, x),
        _step_describe(context.name, y),
    ]
    target = context.target_guess()
    if target is not None:
        steps.append(_step_train(context.name, target))
    return _Reply(body, code, "Plots one column against the other.", steps)


def _relationship_words(
    x: Any, x_kind: templates.ColumnKind, y: Any, y_kind: templates.ColumnKind
) -> str:
    category_like = ("discrete", "boolean", "categorical")
    dates = ("datetime", "datetime_text")
    if x_kind in category_like and y_kind in category_like:
        return (
            f"a crosstab counting rows for each pair of values of {code_span(x)} and "
            f"{code_span(y)} (the {templates.MAX_GROUPS} most frequent values of each)"
        )
    if x_kind in dates or y_kind in dates:
        time, other = (x, y) if x_kind in dates else (y, x)
        other_kind = y_kind if x_kind in dates else x_kind
        if other_kind in category_like:
            return f"a table of rows per month of {code_span(time)} for each {code_span(other)}"
        return f"a scatter plot of {code_span(other)} over {code_span(time)}"
    if x_kind in category_like or y_kind in category_like:
        group, value = (x, y) if x_kind in category_like else (y, x)
        return (
            f"box plots of {code_span(value)} for each value of {code_span(group)} "
            f"(the {templates.MAX_GROUPS} most frequent)"
        )
    return (
        f"a scatter plot of {code_span(y)} against {code_span(x)} "
        f"(at most {templates.SCATTER_SAMPLE:,} sampled rows)"
    )


def _correlations(context: _Context) -> _Reply:
    numeric = context.numeric_count()
    columns = [(c, context.kind(c)) for c in context.intent.columns]
    first = columns[0][0] if columns else None
    groups = 0
    if columns and columns[0][1] not in ("numeric", "discrete"):
        groups = int(context.frame[first].nunique())
    if numeric < 2 and not columns:
        reply = _overview(context)
        reply.body = (
            f"{_frame_label(context)} has fewer than two number columns, so there are no "
            f"correlations to compute. {reply.body}"
        )
        return reply
    code = templates.correlations(context.name, columns, numeric_columns=numeric, groups=groups)
    numbers = [c for c, k in columns if k in ("numeric", "discrete")]
    if len(numbers) >= 2:
        body = "the Pearson correlations between " + ", ".join(code_span(c) for c in numbers)
    elif numbers:
        body = (
            f"the Pearson correlation of every other number column with {code_span(numbers[0])}, "
            "strongest (positive or negative) first"
        )
    elif columns:
        body = (
            f"{code_span(first)} is not a number, so the cell shows the mean of every number "
            f"column for each value of {code_span(first)} instead"
        )
    elif numeric <= templates.MATRIX_MAX_COLUMNS:
        body = f"the Pearson correlation matrix of its {numeric} number columns"
    else:
        body = (
            f"the 20 most strongly correlated pairs among its {numeric} number columns "
            "(positive or negative)"
        )
    steps = []
    target = context.target_guess()
    pair = numbers[:2]
    if len(pair) < 2:
        first_number = context.first_numeric()
        second = context.first_numeric(exclude=(first_number,)) if first_number else None
        pair = [c for c in (first_number, second) if c is not None]
    if len(pair) == 2:
        steps.append(_step_relationship(context.name, pair[0], pair[1]))
    if target is not None:
        steps.append(_step_train(context.name, target))
    steps.append(_step_missing(context.name))
    return _Reply(
        f"From {_frame_label(context)}: {body}. Correlation only measures straight-line "
        "relationships, and says nothing about cause.",
        code,
        "Computes correlations (a table).",
        steps,
    )


def _automl(context: _Context) -> _Reply:
    target = context.intent.target
    guessed = target is None
    target = target if target is not None else context.target_guess()
    if target is None:
        return _overview(context)
    seconds = context.intent.time_limit or DEFAULT_TIME_LIMIT
    missing_targets = int(context.frame[target].isna().sum())
    notes = [
        f"This trains and compares models predicting {code_span(target)} from the other "
        f"columns of {_frame_label(context)}, with a hard time limit of {seconds} seconds. "
        "The run works in the background; `automl_run.wait()` blocks until it is done, then "
        "the cell prints the held-out scores and shows the leaderboard."
    ]
    if guessed:
        notes.append(
            f"You did not name a target, so I guessed {code_span(target)}: change `target=` "
            "if you meant another column."
        )
    if missing_targets:
        notes.append(f"The {missing_targets:,} rows with no {code_span(target)} are left out.")
    return _Reply(
        " ".join(notes),
        templates.automl(context.name, target, seconds),
        f"Starts an AutoML run on {code_span(context.name)} ({seconds} s budget).",
        [
            _step_correlations(context.name, target),
            _step_missing(context.name),
            _STEP_EXPLAIN,
        ],
    )


def _load_upload(context: _Context) -> _Reply:
    records = context.uploads()
    wanted = context.intent.upload
    record = next((r for r in records if wanted is not None and str(r.id) == wanted), None)
    others = [_step_load(r.name) for r in records if r is not record and r.kind != "zip"][:3]
    if record is not None and record.kind == "zip":
        members = [r for r in records if getattr(r, "parent", None) == record.id]
        if not members:
            return _list_uploads(context, records)
        return _Reply(
            f"{code_span(record.name)} is a ZIP archive: load one of its members. The cell "
            f"loads the first, {code_span(members[0].name)}.",
            _load_code(members[0].id, members[0].name, members[0].kind),
            f"Loads {code_span(members[0].name)} from the archive.",
            [_step_load(m.name) for m in members[1:4]] or [_STEP_LIST_UPLOADS],
        )
    if record is not None:
        variable = templates.upload_variable(record.name, record.kind)
        return _Reply(
            f"This loads the upload {code_span(record.name)} ({record.kind}) into "
            f"`{variable}`, read the way it was validated at upload, and shows "
            + ("it." if record.kind == "image" else "its first rows."),
            _load_code(record.id, record.name, record.kind),
            f"Loads {code_span(record.name)} into `{variable}`.",
            ([_step_overview(variable)] if record.kind != "image" else []) + others,
        )
    if wanted:
        variable = templates.upload_variable(wanted)
        return _Reply(
            f"There is no upload called {code_span(wanted)}. `dsa.load` also accepts a file "
            "in the notebook's folder (it validates it like an upload first), so the cell "
            "tries that; if it says the file does not exist, upload it with the sidebar.",
            templates.load_upload(wanted, variable),
            f"Loads {code_span(wanted)} into `{variable}`.",
            [_STEP_LIST_UPLOADS, *others],
        )
    return _list_uploads(context, records)


def _load_code(upload_id: Any, name: str, kind: str) -> str:
    return templates.load_upload(str(upload_id), templates.upload_variable(name, kind), kind)


def _list_uploads(context: _Context, records: list[Any]) -> _Reply:
    if records:
        return _Reply(
            f"You have {len(records)} upload(s); the cell lists them with their ids. Load one "
            "by name or id with `dsa.load(...)`, or pick a step below.",
            templates.list_uploads(),
            "Lists your uploads (a table).",
            [_step_load(r.name) for r in records if r.kind != "zip"][:4],
        )
    return _Reply(
        "There are no uploads yet. Upload a file with the dsagent sidebar (drop it on the "
        "panel), then ask me to load it; or read a file you already have in the notebook's "
        'folder with `df = dsa.load("your_file.csv")` (validated first) or '
        '`df = pd.read_csv("your_file.csv")`. The cell lists your uploads once there are some.',
        templates.list_uploads(),
        "Lists your uploads (a table).",
        [_STEP_LIST_UPLOADS, _STEP_HELP],
    )


def _explain_error(context: _Context) -> _Reply:
    error = context.workspace.last_error()
    if error is None:
        return _Reply(
            "No error has been raised in this notebook, so there is nothing to explain yet.",
            steps=[_step_overview(n) for n in list(context.frames)[-1:]] + [_STEP_HELP],
        )
    description = describe_error(error, max_chars=1500)
    fence = "````" if "```" in description else "```"
    shown = f"{fence}text\n{description}\n{fence}"
    fix = known_fix(error, context.workspace)
    frames = list(context.frames)
    steps = (
        [_step_overview(frames[-1]), _step_missing(frames[-1])] if frames else [_STEP_LIST_UPLOADS]
    )
    if fix is None:
        return _Reply(
            f"The last error:\n\n{shown}\n\nIt is not one of the patterns the offline planner "
            "knows (a misspelt column or name, text where numbers were expected, a missing "
            "file or package). Read the last line of the traceback first: it names the "
            "operation that failed.",
            steps=[*steps, _STEP_HELP],
        )
    return _Reply(
        f"The last error:\n\n{shown}\n\n**What went wrong:** {fix.summary}",
        fix.code,
        fix.explanation,
        [*steps, _STEP_HELP],
    )


def _help(context: _Context) -> _Reply:
    frames = list(context.frames)
    if frames:
        name = quote_name(context.name)
        column = context.first_numeric()
        example = quote_name(column) if column is not None else "`a_column`"
        target = context.target_guess()
        lines = [
            f"- an overview or profile: *give an overview of {name}*",
            f"- missing values: *what's missing in {name}?*",
            f"- one column: *describe {example}*, *plot the distribution of {example}*",
            f"- two columns: *plot {example} against another column* (scatter, box plot or "
            "crosstab, depending on the types)",
            f"- correlations: *show correlations in {name}*",
            f"- AutoML: *train a model to predict {quote_name(target)}* (60 s unless you say "
            "e.g. *in 30 seconds*)",
            "- uploads: *list my uploads*, *load the upload sales.csv*",
            "- errors: *explain the last error* (misspelt columns or names, text where "
            "numbers were expected, missing files or packages)",
        ]
        return _Reply(
            "The offline planner understands these requests and writes a runnable cell for "
            "them, using your DataFrames and columns:\n\n" + "\n".join(lines) + "\n\nThe cell "
            "below lists the DataFrames in this notebook.",
            templates.dataframe_inventory(),
            "Lists your DataFrames and their shapes (a table).",
            [
                _step_overview(context.name),
                _step_missing(context.name),
                *_exploration_steps(context),
            ],
        )
    reply = _list_uploads(context, context.uploads())
    reply.body = (
        "The offline planner can profile a DataFrame, count missing values, describe and "
        "plot columns, compute correlations, start AutoML and explain the last error, once "
        f"you have data. {reply.body}"
    )
    return reply


def _no_data(context: _Context) -> _Reply:
    records = [r for r in context.uploads() if r.kind != "zip"]
    if records:
        newest = records[0]
        variable = templates.upload_variable(newest.name, newest.kind)
        return _Reply(
            "There is no DataFrame in this notebook yet. Your newest upload is "
            f"{code_span(newest.name)}: the cell loads it into `{variable}`; ask again once "
            "it has run.",
            _load_code(newest.id, newest.name, newest.kind),
            f"Loads {code_span(newest.name)} into `{variable}`.",
            [_step_load(r.name) for r in records[1:4]] + [_STEP_LIST_UPLOADS],
        )
    reply = _list_uploads(context, [])
    reply.body = "There is no DataFrame in this notebook yet. " + reply.body
    return reply


def _not_found(context: _Context, reply: _Reply) -> _Reply:
    reply.body = (
        f"I found no column of {code_span(context.name)} in your question, so here is an "
        f"overview instead. {reply.body}"
    )
    return reply


_REPLIES: dict[str, Callable[[_Context], _Reply]] = {
    "overview": _overview,
    "missing": _missing,
    "describe_column": _describe_column,
    "plot_distribution": _plot_distribution,
    "plot_relationship": _plot_relationship,
    "correlations": _correlations,
    "automl": _automl,
    "load_upload": _load_upload,
    "explain_error": _explain_error,
    "help": _help,
}
