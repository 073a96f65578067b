"""The last error, explained: a short redacted description, and a fix for known patterns.

``describe_error`` is what a model (or a person) reads: the exception type, its message
and the last frames, with secrets masked and long values cut. ``known_fix`` recognises
the errors people hit most in notebooks (a misspelt column or variable, text where
numbers were expected, a missing file or package) and writes the cell that fixes them,
using the names in the person's workspace.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import linecache
import re
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..redaction import redact_text
from . import templates
from .intents import code_span, compact, flatten_uploads
from .workspace import Workspace

__all__ = ["MAX_FRAMES", "KnownFix", "describe_error", "known_fix"]

#: Frames of the traceback shown, counted from the innermost.
MAX_FRAMES = 6
_LINE_CHARS = 200
_MESSAGE_LINES = 12
_MISSING_FILE_HELP = (
    "Upload the file with the dsagent sidebar (or drop it into the notebook's folder), "
    'then load it with `dsa.load("name.csv")`, which validates it first.'
)
# Import names whose package on PyPI is called something else.
_PIP_NAMES = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "docx": "python-docx",
    "Crypto": "pycryptodome",
}
# Conventional short names and the import that defines them.
_IMPORT_ALIASES = {
    "pd": "import pandas as pd",
    "np": "import numpy as np",
    "plt": "import matplotlib.pyplot as plt",
    "mpl": "import matplotlib as mpl",
    "dsa": "import jupyter_dsagent as dsa",
}
_DTYPE_MESSAGE = re.compile(
    r"could not convert|unsupported operand type|can only concatenate str|cannot convert|"
    r"invalid literal for int|not supported between instances of|agg function failed|"
    r"unable to parse string|can't multiply sequence|must be real number, not str",
    re.IGNORECASE,
)
_DECIMAL_COMMA = re.compile(r"^\s*-?\d{1,3}(?:\.\d{3})*,\d+\s*$|^\s*-?\d+,\d+\s*$")
_NUMBER_WITH_SYMBOLS = re.compile(r"^\s*[-+]?[$€£¥]?\s*[-+]?[\d,]*\.?\d+\s*%?\s*$")
_DATE_TEXT = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}.*)?\s*$")
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_SUBSCRIPT = re.compile(r"\[\s*(['\"])(.+?)\1\s*\]")
_ATTRIBUTE = re.compile(r"\.([A-Za-z_]\w*)\b")
_STDLIB_PATHS = tuple(
    path
    for path in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")}
    if path
)


@dataclass(frozen=True)
class KnownFix:
    """What went wrong, in one or two sentences, and the cell that fixes it.

    Attributes
    ----------
    pattern
        ``missing_column``, ``unknown_name``, ``missing_attribute``, ``dtype``,
        ``file_not_found`` (a file or an upload) or ``module_not_found``.
    summary
        Markdown: the cause, with the closest names found in the workspace.
    code
        The fixing cell, or None when there is nothing safe to suggest.
    explanation
        What the cell does.
    """

    pattern: str
    summary: str
    code: str | None
    explanation: str


# -- describing ---------------------------------------------------------------------------


def describe_error(exc: BaseException | None, *, max_chars: int = 2000) -> str:
    """Type, message and the last frames of ``exc``, redacted and at most ``max_chars`` long.

    Secrets (keys, tokens, passwords in URLs) are masked wherever they appear, in the
    message or in a source line; long messages and lines are cut, and the oldest frames
    are dropped first when the whole does not fit.
    """
    if exc is None:
        return "No error has been raised in this notebook."
    max_chars = max(max_chars, 80)
    header = f"{_type_name(exc)}: {_message(exc, max(60, max_chars // 2))}"
    frames = traceback.extract_tb(exc.__traceback__)
    shown = [_frame_text(frame) for frame in frames[-MAX_FRAMES:]]
    omitted = len(frames) - len(shown)
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    footer = ""
    if cause is not None and (type(cause), str(cause)) != (type(exc), str(exc)):
        footer = f"Raised while handling {_type_name(cause)}: {_message(cause, 300)}"

    def assemble() -> str:
        parts = [header]
        if shown:
            earlier = f", {omitted} earlier frames left out" if omitted else ""
            parts.append(f"Traceback (most recent call last{earlier}):")
            parts.extend(shown)
        if footer:
            parts.append(footer)
        return redact_text("\n".join(parts))

    text = assemble()
    while len(text) > max_chars and len(shown) > 1:
        shown.pop(0)
        omitted += 1
        text = assemble()
    return _clip(text, max_chars)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    return f"{text[:keep]}… [{len(text) - keep} more characters]"


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"


def _message(exc: BaseException, limit: int) -> str:
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not hide the error itself
        message = f"<{type(exc).__name__} whose message cannot be shown>"
    lines = [_clip(line, _LINE_CHARS) for line in message.splitlines()[:_MESSAGE_LINES]]
    if len(message.splitlines()) > _MESSAGE_LINES:
        lines.append(f"… [{len(message.splitlines()) - _MESSAGE_LINES} more lines]")
    return _clip("\n".join(lines), limit)


def _frame_text(frame: traceback.FrameSummary) -> str:
    filename = frame.filename
    for marker in ("site-packages/", "dist-packages/"):
        if marker in filename:
            filename = "…/" + filename.split(marker, 1)[1]
    text = f'  File "{_clip(filename, 120)}", line {frame.lineno}, in {frame.name}'
    if frame.line:
        text += f"\n    {_clip(frame.line.strip(), _LINE_CHARS)}"
    return text


# -- fixing ---------------------------------------------------------------------------------


def known_fix(exc: BaseException | None, workspace: Workspace) -> KnownFix | None:
    """A fix for ``exc`` when it is a known pattern, written with the workspace's names."""
    if exc is None:
        return None
    source = _SourceLine.of(exc)
    if isinstance(exc, ModuleNotFoundError):
        return _module_not_found(exc)
    if isinstance(exc, FileNotFoundError) or getattr(exc, "code", None) == "not_found":
        return _file_not_found(exc, workspace)
    if isinstance(exc, NameError):
        return _unknown_name(exc, workspace, source)
    if isinstance(exc, KeyError):
        return _missing_column(exc, workspace, source)
    if isinstance(exc, AttributeError):
        return _missing_attribute(exc, workspace, source)
    if isinstance(exc, TypeError | ValueError) and _DTYPE_MESSAGE.search(_message(exc, 500)):
        return _dtype(exc, workspace, source)
    return None


@dataclass(frozen=True)
class _SourceLine:
    """The innermost line of the person's own code in a traceback."""

    text: str
    top_level: bool

    @classmethod
    def of(cls, exc: BaseException) -> _SourceLine:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if _is_library(frame.filename):
                continue
            raw = linecache.getline(frame.filename, frame.lineno or 0).rstrip("\n")
            text = raw or (frame.line or "")
            top_level = frame.name == "<module>" and bool(raw) and not raw[:1].isspace()
            return cls(text.strip(), top_level)
        return cls("", False)

    def names(self, candidates: dict[str, Any]) -> list[str]:
        """The candidates that appear as identifiers in this line."""
        found = set(re.findall(r"[A-Za-z_]\w*", self.text))
        return [name for name in candidates if name in found]

    def rewritten(self, old: str, new: str, *, identifier: bool = False) -> str | None:
        """The line with ``old`` replaced by ``new``, when it is a whole top-level statement.

        With ``identifier``, ``old`` is replaced only as a whole name (not ``x.old``).
        """
        if not self.top_level:
            return None
        if identifier:
            pattern = rf"(?<![\w.]){re.escape(old)}\b"
            if not re.search(pattern, self.text):
                return None
            line = re.sub(pattern, new, self.text)
        elif old in self.text:
            line = self.text.replace(old, new)
        else:
            return None
        try:
            ast.parse(line)
        except SyntaxError:
            return None
        return line


def _is_library(filename: str) -> bool:
    return (
        "site-packages" in filename
        or "dist-packages" in filename
        or filename.startswith(("<frozen", _PACKAGE_DIR, *_STDLIB_PATHS))
    )


def _frames(workspace: Workspace) -> dict[str, Any]:
    return {name: frame for name, frame in workspace.dataframes().items() if name.isidentifier()}


def _closest_columns(
    wanted: str, frames: dict[str, Any], preferred: list[str]
) -> list[tuple[str, str]]:
    """(frame, column) pairs most like ``wanted``, best first, preferred frames winning ties."""
    scored: list[tuple[float, int, str, str]] = []
    key = wanted.casefold()
    for order, name in enumerate(
        [*preferred, *(n for n in reversed(frames) if n not in preferred)]
    ):
        for column in frames[name].columns:
            if not isinstance(column, str):
                continue
            score = 1.0 if compact(column) == compact(wanted) else 0.0
            score = score or difflib.SequenceMatcher(None, key, column.casefold()).ratio()
            if score >= 0.6:
                scored.append((-score, order, name, column))
    return [(name, column) for _, _, name, column in sorted(scored)[:3]]


def _missing_column(exc: KeyError, workspace: Workspace, source: _SourceLine) -> KnownFix | None:
    key = exc.args[0] if exc.args else None
    if not isinstance(key, str):
        return None
    listed = re.findall(r"'([^']+)'", key) if ("not in index" in key or "None of [" in key) else []
    wanted = listed[0] if listed else key
    frames = _frames(workspace)
    in_line = source.names(frames)
    matches = _closest_columns(wanted, frames, in_line)
    if not matches:
        if not in_line:
            return None
        frame = in_line[0]
        return KnownFix(
            "missing_column",
            f"{code_span(frame)} has no column {code_span(wanted)}, and none with a similar name.",
            f"list({frame}.columns)",
            f"Lists the columns of {code_span(frame)} so you can pick the right one.",
        )
    frame, column = matches[0]
    others = ", ".join(code_span(c) for _, c in matches[1:])
    code = None
    for quote in ("'", '"'):
        code = code or source.rewritten(f"{quote}{wanted}{quote}", repr(column))
    return KnownFix(
        "missing_column",
        f"There is no column {code_span(wanted)}; the closest is {code_span(column)} in "
        f"{code_span(frame)}" + (f" (also close: {others})." if others else "."),
        code or f"{frame}[{column!r}].head()",
        "Runs your line again with the column name corrected."
        if code
        else f"Shows the first values of {code_span(column)} in {code_span(frame)}.",
    )


def _missing_attribute(
    exc: AttributeError, workspace: Workspace, source: _SourceLine
) -> KnownFix | None:
    import pandas as pd

    name = getattr(exc, "name", None)
    found = re.search(r"^'DataFrame' object has no attribute '(\w+)'", _message(exc, 300))
    if not name and found:
        name = found.group(1)
    obj = getattr(exc, "obj", None)
    if not name or not (isinstance(obj, pd.DataFrame) or found):
        return None
    frames = _frames(workspace)
    owner = [n for n, frame in frames.items() if frame is obj] or source.names(frames)
    matches = _closest_columns(name, {n: frames[n] for n in owner} or frames, owner)
    if not matches:
        return None
    frame, column = matches[0]
    code = source.rewritten(f".{name}", f"[{column!r}]")
    return KnownFix(
        "missing_attribute",
        f"DataFrames have no attribute {code_span(name)}; the closest column is "
        f"{code_span(column)} in {code_span(frame)}. Columns are safest read as "
        '`df["name"]`.',
        code or f"{frame}[{column!r}].head()",
        "Runs your line again, reading the column with square brackets."
        if code
        else f"Shows the first values of {code_span(column)}.",
    )


def _unknown_name(exc: NameError, workspace: Workspace, source: _SourceLine) -> KnownFix | None:
    name = getattr(exc, "name", None)
    if not name:
        found = re.search(r"name '(\w+)' is not defined", _message(exc, 300))
        name = found.group(1) if found else None
    if not name:
        return None
    statement = _IMPORT_ALIASES.get(name) or (
        f"import {name}" if name in sys.stdlib_module_names else None
    )
    if statement:
        again = source.rewritten(name, name, identifier=True)
        return KnownFix(
            "unknown_name",
            f"{code_span(name)} is used before it is imported.",
            statement + (f"\n\n{again}" if again else ""),
            "Imports it" + (" and runs your line again." if again else "."),
        )
    frames = _frames(workspace)
    others = [
        n
        for n in workspace.namespace
        if isinstance(n, str) and n.isidentifier() and not n.startswith("_") and n not in frames
    ]
    close = difflib.get_close_matches(name, list(frames), n=1, cutoff=0.6)
    close = close or difflib.get_close_matches(name, others, n=1, cutoff=0.75)
    if not close:
        return None
    (new,) = close
    again = source.rewritten(name, new, identifier=True)
    shown = f"{new}.head()" if new in frames else new
    return KnownFix(
        "unknown_name",
        f"There is no variable {code_span(name)}; did you mean {code_span(new)}?",
        again or shown,
        "Runs your line again with the name corrected." if again else f"Shows {code_span(new)}.",
    )


def _file_not_found(exc: BaseException, workspace: Workspace) -> KnownFix:
    """A missing file (``open``, ``pd.read_csv``) or upload (``dsa.load``)."""
    missing = str(getattr(exc, "filename", None) or "")
    if not missing:
        named = re.search(r"called '([^']+)'", _message(exc, 500))
        missing = named.group(1) if named else ""
    base = re.split(r"[\\/]", missing)[-1] if missing else ""
    try:
        records = flatten_uploads(workspace.list_uploads())
    except Exception:  # the catalog is unavailable: fall back to the general advice
        records = []
    by_name = {compact(r.name): r for r in reversed(records)}
    record = by_name.get(compact(base)) if base else None
    if record is None and base and by_name:
        close = difflib.get_close_matches(compact(base), list(by_name), n=1, cutoff=0.8)
        record = by_name[close[0]] if close else None
    if record is not None:
        variable = templates.upload_variable(record.name, record.kind)
        return KnownFix(
            "file_not_found",
            f"There is no file {code_span(missing or base)} here, but there is an upload "
            f"called {code_span(record.name)}.",
            templates.load_upload(str(record.id), variable, record.kind),
            f"Loads that upload (validated) into `{variable}`.",
        )
    return KnownFix(
        "file_not_found",
        f"There is no file {code_span(missing or base or 'with that name')}. " + _MISSING_FILE_HELP,
        templates.list_uploads(),
        "Lists the files you have uploaded, with the id or name to pass to `dsa.load`.",
    )


def _module_not_found(exc: ModuleNotFoundError) -> KnownFix | None:
    name = exc.name or ""
    if not name:
        found = re.search(r"No module named '([\w.]+)'", _message(exc, 300))
        name = found.group(1) if found else ""
    top = name.split(".")[0]
    if not re.fullmatch(r"[A-Za-z_]\w*", top):
        return None
    if top != name and importlib.util.find_spec(top) is not None:
        return KnownFix(
            "module_not_found",
            f"{code_span(top)} is installed but has no module {code_span(name)}; check "
            "the spelling or the version of the package.",
            None,
            "",
        )
    package = _PIP_NAMES.get(top, top)
    return KnownFix(
        "module_not_found",
        f"The package {code_span(top)} is not installed in this kernel's environment.",
        templates.pip_install(package),
        f"Installs `{package}` from PyPI into the kernel's environment. It is flagged "
        "because it reaches the network and runs an installer: check that this is the "
        "package you mean (import and package names can differ), and restart the kernel "
        "if the import still fails afterwards.",
    )


def _dtype(exc: BaseException, workspace: Workspace, source: _SourceLine) -> KnownFix | None:
    frames = _frames(workspace)
    in_line = source.names(frames) or list(reversed(frames))
    if not in_line:
        return None
    message = _message(exc, 500)
    written = [m.group(2) for m in _SUBSCRIPT.finditer(source.text)]
    written += [m.group(1) for m in _ATTRIBUTE.finditer(source.text)]
    named = [(f, c) for f in in_line for c in written if c in frames[f].columns]
    if "non-finite values" in message and named:
        frame, column = named[0]
        return KnownFix(
            "dtype",
            f"{code_span(column)} has missing or infinite values, which plain integers "
            "cannot hold.",
            templates.nullable_integers(frame, column),
            "Converts it to pandas' nullable integers (`Int64`), rounding fractions and "
            "keeping missing values as `<NA>`.",
        )
    text_named = [(f, c) for f, c in named if _is_text(frames[f][c])]
    candidates = text_named or _numeric_looking(frames, in_line[:1])
    if not candidates:
        frame = in_line[0]
        return KnownFix(
            "dtype",
            "An operation met text where it expected numbers (or the other way round).",
            templates.text_columns(frame),
            f"Lists the text columns of {code_span(frame)} and how many of their values "
            "read as numbers, to find the column to convert.",
        )
    frame, column = candidates[0]
    sample = [str(v) for v in frames[frame][column].dropna().head(200)]
    if sample and _share(_DATE_TEXT, sample) >= 0.8:
        return KnownFix(
            "dtype",
            f"{code_span(column)} in {code_span(frame)} holds dates as text.",
            templates.to_datetime(frame, column),
            "Converts it to datetimes; values that are not dates become `NaT`.",
        )
    style: templates.NumberStyle = "plain"
    if sample and _share(_DECIMAL_COMMA, sample) >= 0.5:
        style = "decimal_comma"
    elif sample and _share(_NUMBER_WITH_SYMBOLS, sample) >= 0.5:
        style = "symbols"
    how = {
        "plain": "",
        "decimal_comma": " It reads a comma as the decimal mark, as in `261,96`.",
        "symbols": " It drops currency signs, thousands separators and `%` first.",
    }[style]
    return KnownFix(
        "dtype",
        f"{code_span(column)} in {code_span(frame)} is text, not numbers.",
        templates.to_numeric(frame, column, style),
        "Converts it to numbers, prints the values that could not be read (they become "
        f"NaN) and describes the result.{how}",
    )


def _is_text(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series))


def _share(pattern: re.Pattern[str], values: list[str]) -> float:
    return sum(1 for v in values if pattern.match(v)) / len(values)


def _numeric_looking(frames: dict[str, Any], names: list[str]) -> list[tuple[str, str]]:
    """Text columns whose values mostly read as numbers (decimal commas included)."""
    found = []
    for name in names:
        frame = frames[name]
        for column in frame.columns[:200]:
            if not isinstance(column, str) or not _is_text(frame[column]):
                continue
            sample = [str(v) for v in frame[column].dropna().head(50)]
            if sample and (
                _share(_DECIMAL_COMMA, sample) >= 0.8 or _share(_NUMBER_WITH_SYMBOLS, sample) >= 0.8
            ):
                found.append((name, column))
    return found
