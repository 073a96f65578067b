"""Component checks behind the health endpoint: can this installation do its work now?

Each check exercises the real thing (writes a file, opens the database file afresh,
reads the chain head) rather than trusting state kept in memory: an open SQLite
connection keeps working on a file that has been deleted, while every kernel that
opens it next would fail. Optional components (AutoGluon, an LLM) are reported but do
not make the installation unhealthy.
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .audit import AuditLog
from .datadir import DataDir

__all__ = ["LOCAL_MODEL_PREFIXES", "PROVIDER_KEY_VARS", "Check", "Health", "check_health"]

#: Environment variables through which litellm finds a hosted provider's key.
PROVIDER_KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "AZURE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "COHERE_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHERAI_API_KEY",
    "XAI_API_KEY",
)
#: Models served locally, which need no key.
LOCAL_MODEL_PREFIXES = ("ollama/", "ollama_chat/")


@dataclass(frozen=True)
class Check:
    """One component's state; ``detail`` is for a person and never holds a secret."""

    ok: bool
    detail: str
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "required": self.required}


@dataclass(frozen=True)
class Health:
    checks: dict[str, Check]

    @property
    def ok(self) -> bool:
        """Healthy when every required check passes."""
        return all(check.ok for check in self.checks.values() if check.required)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": {n: c.to_dict() for n, c in self.checks.items()}}


def check_health(
    data: DataDir,
    audit: AuditLog,
    *,
    min_free_bytes: int,
    model: str,
    environ: Mapping[str, str] | None = None,
) -> Health:
    """Run every check; a check that raises is reported as failed with the error's text."""
    env = os.environ if environ is None else environ
    probes: dict[str, tuple[Callable[[], tuple[bool, str]], bool]] = {
        "data_dir_writable": (lambda: _writable(data.quarantine), True),
        "catalog_database": (lambda: _database(data.catalog_db, "uploads"), True),
        "audit_database": (lambda: _database(data.audit_db, "records"), True),
        "audit_chain_head": (lambda: _chain_head(audit), True),
        "disk_space": (lambda: _disk_space(data, min_free_bytes), True),
        "autogluon": (_autogluon, False),
        "llm_configured": (lambda: _llm_configured(model, env), False),
    }
    checks = {}
    for name, (probe, required) in probes.items():
        try:
            ok, detail = probe()
        except Exception as exc:  # any failure is the answer, not a crash of the endpoint
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        checks[name] = Check(ok, detail, required)
    return Health(checks)


def _writable(directory: Path) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".health-") as handle:
        handle.write(b"ok")
        handle.flush()
    return True, f"{directory.name}/ accepts new files"


def _database(path: Path, table: str) -> tuple[bool, str]:
    # mode=rw: never create a missing database, report it.
    conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=5)
    try:
        (count,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    finally:
        conn.close()
    return True, f"{path.name} is readable ({count:,} {table})"


def _chain_head(audit: AuditLog) -> tuple[bool, str]:
    head = audit.head()
    return True, f"record {head.seq}, hash {head.hash[:16]}"


def _disk_space(data: DataDir, min_free_bytes: int) -> tuple[bool, str]:
    free = data.free_bytes()
    if min_free_bytes <= 0:
        return True, f"{free:,} bytes free (no minimum set)"
    ok = free >= min_free_bytes
    return ok, f"{free:,} bytes free; at least {min_free_bytes:,} must stay free"


def _autogluon() -> tuple[bool, str]:
    # find_spec locates the package without importing it (an import takes seconds).
    try:
        found = importlib.util.find_spec("autogluon.tabular") is not None
    except ImportError:
        found = False
    return found, "autogluon.tabular is installed" if found else "autogluon.tabular is missing"


def _llm_configured(model: str, environ: Mapping[str, str]) -> tuple[bool, str]:
    if not model:
        return False, "no model is configured (set DSAGENT_MODEL); the agent plans offline"
    if model.startswith(LOCAL_MODEL_PREFIXES):
        return True, f"{model} runs locally and needs no key"
    present = [var for var in (*PROVIDER_KEY_VARS, "DSAGENT_API_KEY") if environ.get(var)]
    if present:
        return True, f"model {model}; provider key set in {', '.join(present)}"
    return False, f"model {model}; no provider key is set ({', '.join(PROVIDER_KEY_VARS[:3])}, …)"
