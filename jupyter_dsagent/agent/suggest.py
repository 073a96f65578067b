"""Turn code from the model or the planner into a checked, hashed suggestion.

The code is parsed, never executed. Flags name what deserves a second look before a
person runs it (network, package installs, shell, file writes); the hash binds an
"Insert & Run" to exactly the code that was shown.
"""

from __future__ import annotations

import ast
import hashlib
import re
import uuid

from ..exceptions import BadRequest
from .types import Suggestion

__all__ = ["FLAG_DESCRIPTIONS", "code_flags", "make_suggestion"]

MAX_CODE_CHARS = 20_000

FLAG_DESCRIPTIONS = {
    "network": "reaches the network",
    "pip": "installs packages",
    "shell": "runs shell commands",
    "file_write": "writes or deletes files",
}

_NETWORK_MODULES = {
    "requests",
    "urllib",
    "httpx",
    "aiohttp",
    "socket",
    "http",
    "ftplib",
    "smtplib",
    "urllib3",
    "paramiko",
}
_SHELL_CALLS = {
    "system",
    "popen",
    "run",
    "call",
    "check_call",
    "check_output",
    "Popen",
    "spawnl",
    "execv",
    "execvp",
}
_WRITE_CALLS = {
    "to_csv",
    "to_excel",
    "to_parquet",
    "to_json",
    "to_pickle",
    "to_feather",
    "to_sql",
    "to_hdf",
    "savefig",
    "save",
    "write_text",
    "write_bytes",
    "unlink",
    "remove",
    "rmtree",
    "rmdir",
    "rename",
    "replace",
    "mkdir",
    "makedirs",
    "dump",
}
_URL = re.compile(r"""^\s*(https?|ftp|s3|gs)://""", re.IGNORECASE)
_MAGIC_LINE = re.compile(r"^\s*([%!])")


def make_suggestion(code: str, explanation: str) -> Suggestion:
    """A suggestion for ``code``, refused when it is empty, too long or not Python.

    Raises
    ------
    BadRequest
        With a message the model (or person) can act on.
    """
    code = code.strip("\n")
    if not code.strip():
        raise BadRequest("The suggested cell is empty.")
    if len(code) > MAX_CODE_CHARS:
        raise BadRequest(
            f"The suggested cell has {len(code)} characters; the limit is {MAX_CODE_CHARS}."
        )
    python, _ = _split_magics(code)
    try:
        ast.parse(python)
    except SyntaxError as exc:
        raise BadRequest(
            f"The suggested cell is not valid Python: {exc.msg} (line {exc.lineno})."
        ) from None
    digest = hashlib.sha256(code.encode()).hexdigest()
    return Suggestion(
        id=uuid.uuid4().hex[:12],
        code=code,
        explanation=explanation.strip(),
        sha256=digest,
        flags=tuple(sorted(code_flags(code))),
    )


def code_flags(code: str) -> set[str]:
    """Which of ``FLAG_DESCRIPTIONS`` apply to ``code`` (IPython magics included)."""
    python, magics = _split_magics(code)
    flags: set[str] = set()
    for line in magics:
        word = line.lstrip("%!").split(maxsplit=1)[0] if line.lstrip("%!") else ""
        if word in {"pip", "conda", "mamba", "uv"} or re.search(r"\bpip3?\b", line):
            flags.add("pip")
        elif line.startswith("!") or word in {
            "%bash",
            "%sh",
            "%script",
            "bash",
            "sh",
            "system",
            "sx",
        }:
            flags.add("shell")
        elif word in {"writefile", "%writefile"}:
            flags.add("file_write")
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return flags
    for node in ast.walk(tree):
        flags |= _node_flags(node)
    return flags


def _split_magics(code: str) -> tuple[str, list[str]]:
    """Python with IPython magic and shell lines blanked out, and those lines."""
    lines = code.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "", [lines[0].strip()[1:]]
    python_lines, magics = [], []
    for line in lines:
        if _MAGIC_LINE.match(line):
            magics.append(line.strip())
            python_lines.append("")
        else:
            python_lines.append(line)
    return "\n".join(python_lines), magics


def _node_flags(node: ast.AST) -> set[str]:
    flags: set[str] = set()
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [alias.name for alias in node.names]
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        roots = {name.split(".")[0] for name in names}
        if roots & _NETWORK_MODULES:
            flags.add("network")
        if roots & {"subprocess", "pty"}:
            flags.add("shell")
        if roots & {"shutil"}:
            flags.add("file_write")
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        if name in _SHELL_CALLS and _receiver(node) in {"os", "subprocess"}:
            flags.add("shell")
        if name in _WRITE_CALLS or (name == "open" and _opens_for_writing(node)):
            flags.add("file_write")
        if any(_is_url(arg) for arg in node.args):
            flags.add("network")
    return flags


def _call_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def _receiver(node: ast.Call) -> str:
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        return node.func.value.id
    return ""


def _opens_for_writing(node: ast.Call) -> bool:
    modes = [arg for arg in node.args[1:2]] + [kw.value for kw in node.keywords if kw.arg == "mode"]
    return any(
        isinstance(m, ast.Constant) and isinstance(m.value, str) and set(m.value) & set("wax+")
        for m in modes
    )


def _is_url(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(_URL.match(node.value))
    )
