"""``%dsagent``: one line magic whose first word picks the command."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from ..runtime import Runtime

__all__ = ["DSAgentMagics"]

HELP = """\
%dsagent config   show the effective settings and where each came from
%dsagent help     show this help
"""


@magics_class
class DSAgentMagics(Magics):
    """The ``%dsagent`` front door; each command calls library code and prints the result."""

    def __init__(self, shell: Any, *, runtime: Runtime) -> None:
        super().__init__(shell)
        self.runtime = runtime

    @line_magic
    def dsagent(self, line: str) -> None:
        words = shlex.split(line)
        command = words[0] if words else "help"
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None:
            raise UsageError(f"Unknown %dsagent command {command!r}.\n{HELP}")
        handler(words[1:])

    def _cmd_help(self, args: list[str]) -> None:
        print(HELP, end="")

    def _cmd_config(self, args: list[str]) -> None:
        for name, value, source in self.runtime.settings.effective():
            print(f"{name} = {value!r}  ({source})")
