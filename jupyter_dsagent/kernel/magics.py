"""``%dsagent`` and ``%%dsagent``: each subcommand parses its words, calls library code
through the kernel session, and shows the result. A person's mistake is one line."""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
from pathlib import PurePath
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..exceptions import DSAgentError
from ..runtime import Runtime
from . import display
from .session import KernelSession

__all__ = ["DSAgentMagics"]

COMMANDS = {
    "profile": "profile a DataFrame (types, missing values, warnings, target hints)",
    "ask": "ask the agent; %%dsagent takes a longer question from the cell",
    "automl": "start a time-limited AutoML run in the background",
    "runs": "list AutoML runs",
    "uploads": "list validated uploads",
    "load": "load an upload (or a workspace file, validated) as a DataFrame",
    "chat": "open the chat widget",
    "usage": "tokens and cost used, and the budget left",
    "insert": "put a suggestion from the chat into a new cell",
    "context": "show exactly what the last model request contained",
    "config": "show the effective settings and where each came from",
    "audit": "show the newest audit records",
    "help": "show this help",
}


class _HelpShown(Exception):
    """argparse printed ``--help``; stop quietly."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}. See `{self.prog} --help`.")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        raise _HelpShown


def _parser(command: str) -> _Parser:
    parser = _Parser(prog=f"%dsagent {command}", description=COMMANDS[command], add_help=True)
    if command == "profile":
        parser.add_argument("frame", metavar="DF", help="a DataFrame variable")
        parser.add_argument("--target", metavar="COL", help="the column to predict")
        sampling = parser.add_mutually_exclusive_group()
        sampling.add_argument("--sample", type=int, metavar="N", help="profile N random rows")
        sampling.add_argument("--exact", action="store_true", help="never sample")
    elif command == "ask":
        parser.add_argument("question", nargs="+", help="the question, in words")
    elif command == "automl":
        parser.add_argument("frame", metavar="DF", help="a DataFrame variable")
        parser.add_argument("--target", metavar="COL", required=True, help="column to predict")
        parser.add_argument("--time", type=int, metavar="S", help="time budget in seconds")
        parser.add_argument("--preset", metavar="P", help="AutoGluon preset")
        parser.add_argument(
            "--engine",
            metavar="E",
            choices=("autogluon", "sklearn"),
            help="autogluon (default) or sklearn",
        )
        parser.add_argument(
            "--as",
            dest="name",
            metavar="VAR",
            default="run",
            help="variable bound to the run (default: run)",
        )
    elif command == "load":
        parser.add_argument("source", metavar="NAME_OR_ID", help="an upload id or name")
        parser.add_argument("--as", dest="name", metavar="VAR", help="variable name")
    elif command == "insert":
        parser.add_argument("suggestion", metavar="ID", help="the suggestion's id")
    elif command == "audit":
        parser.add_argument("--last", type=int, default=20, metavar="N", help="records to show")
        parser.add_argument("--kind", metavar="KIND", help="e.g. upload or llm.call")
    return parser


def _help_text() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"%dsagent {name:<{width}}  {text}" for name, text in COMMANDS.items()]
    lines.append("Each command takes --help, e.g. %dsagent profile --help.")
    return "\n".join(lines) + "\n"


@magics_class
class DSAgentMagics(Magics):
    """The notebook's front door to the agent, profiler, AutoML and uploads."""

    def __init__(self, shell: Any, *, runtime: Runtime, session: KernelSession) -> None:
        super().__init__(shell)
        self.ipython: Any = shell
        self.runtime = runtime
        self.session = session

    @line_cell_magic
    def dsagent(self, line: str, cell: str | None = None) -> Any:
        if cell is not None:
            return self._ask_cell(line, cell)
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%dsagent: {exc} (check the quotes).") from None
        return self._dispatch(words)

    def _ask_cell(self, line: str, cell: str) -> Any:
        words = line.split()
        if words and words != ["ask"]:
            raise UsageError(
                "%%dsagent takes the question from the cell: start it with "
                "`%%dsagent` or `%%dsagent ask`."
            )
        if not cell.strip():
            raise UsageError(
                "%%dsagent: the cell is empty; write the question below the first line."
            )
        try:
            return self._ask(cell.strip())
        except DSAgentError as exc:
            raise UsageError(exc.message) from None

    def _dispatch(self, words: list[str]) -> Any:
        command = words[0] if words else "help"
        if command in ("-h", "--help"):
            command = "help"
        if command not in COMMANDS:
            close = difflib.get_close_matches(command, COMMANDS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"Unknown %dsagent command {command!r}.{hint}\n{_help_text()}")
        try:
            args = _parser(command).parse_args(words[1:])
        except _HelpShown:
            return None
        try:
            return getattr(self, f"_cmd_{command}")(args)
        except DSAgentError as exc:
            raise UsageError(exc.message) from None

    # -- commands ---------------------------------------------------------------------------
    def _cmd_help(self, args: argparse.Namespace) -> None:
        print(_help_text(), end="")

    def _cmd_config(self, args: argparse.Namespace) -> None:
        for name, value, source in self.runtime.settings.effective():
            print(f"{name} = {value!r}  ({source})")

    def _cmd_profile(self, args: argparse.Namespace) -> None:
        from .. import profile

        frame = self._frame(args.frame)
        if args.target is not None:
            self._column(frame, args.frame, args.target)
        sample: int | bool | None = False if args.exact else args.sample
        display.show(profile(frame, target=args.target, sample=sample))

    def _cmd_ask(self, args: argparse.Namespace) -> Any:
        return self._ask(" ".join(args.question))

    def _cmd_automl(self, args: argparse.Namespace) -> None:
        frame = self._frame(args.frame)
        self._column(frame, args.frame, args.target)
        if not args.name.isidentifier():
            raise UsageError(f"%dsagent automl: --as {args.name!r} is not a variable name.")
        options = {"time_limit": args.time, "preset": args.preset}
        if args.engine:
            options["engine"] = args.engine
        run = self.session.start_automl(frame, target=args.target, **options)
        self.ipython.user_ns[args.name] = run
        display.show_run(run, self.session, bound_to=args.name)

    def _cmd_runs(self, args: argparse.Namespace) -> None:
        from ..automl import list_runs

        display.show_runs(self.session, list_runs(settings=self.session.runtime.settings))

    def _cmd_uploads(self, args: argparse.Namespace) -> None:
        from ..api import uploads

        display.show_uploads(uploads())

    def _cmd_load(self, args: argparse.Namespace) -> None:
        from ..api import load

        name = args.name or _variable_for(args.source)
        if not name.isidentifier():
            raise UsageError(f"%dsagent load: --as {name!r} is not a variable name.")
        value = load(args.source)
        self.ipython.user_ns[name] = value
        shape = getattr(value, "shape", None)
        print(f"Loaded {args.source!r} as {name}" + (f" {shape}." if shape else "."))

    def _cmd_chat(self, args: argparse.Namespace) -> None:
        display.show_chat(self.session)

    def _cmd_usage(self, args: argparse.Namespace) -> None:
        display.show_usage(self.session)

    def _cmd_insert(self, args: argparse.Namespace) -> None:
        suggestion = self.session.suggestions.get(args.suggestion)
        if suggestion is None:
            raise UsageError(f"No suggestion {args.suggestion!r} in this kernel.")
        self.ipython.set_next_input(suggestion.code, replace=False)
        self.session.record_inserted(
            suggestion.id, suggestion.sha256, run=False, via="set_next_input"
        )

    def _cmd_context(self, args: argparse.Namespace) -> None:
        print(self.session.agent.show_context())

    def _cmd_audit(self, args: argparse.Namespace) -> None:
        records = self.runtime.audit.query(kind=args.kind, limit=max(1, args.last))
        display.show_audit(records)

    # -- helpers ----------------------------------------------------------------------------
    def _ask(self, question: str) -> None:
        answer = display.ask_with_stream(self.session, question)
        if answer is None:
            return
        sidebar = bool(self.session.sidebars)
        for index, suggestion in enumerate(answer.suggestions):
            if sidebar:
                self.session.offer_suggestion(suggestion)
            elif index == 0:
                self.ipython.set_next_input(suggestion.code, replace=False)
                self.session.record_inserted(
                    suggestion.id, suggestion.sha256, run=False, via="set_next_input"
                )

    def _frame(self, name: str) -> Any:
        frames = self.session.workspace.dataframes()
        if name in frames:
            return frames[name]
        close = difflib.get_close_matches(name, frames, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        known = f" DataFrames here: {', '.join(frames)}." if frames and not close else ""
        raise UsageError(f"There is no DataFrame named {name!r}.{hint}{known}")

    @staticmethod
    def _column(frame: Any, frame_name: str, column: str) -> None:
        columns = [str(c) for c in frame.columns]
        if column in columns:
            return
        close = difflib.get_close_matches(column, columns, n=3, cutoff=0.5)
        hint = f" Closest: {', '.join(close)}." if close else ""
        raise UsageError(f"{frame_name} has no column {column!r}.{hint}")


def _variable_for(source: str) -> str:
    """A variable name from a file name: ``Sales 2024.csv`` → ``sales_2024``."""
    stem = PurePath(source).stem.lower()
    name = re.sub(r"\W+", "_", stem).strip("_") or "df"
    return name if name[0].isalpha() else f"df_{name}"
