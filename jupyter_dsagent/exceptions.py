"""Errors of jupyter_dsagent, each carrying a stable code for the wire.

Library code raises these; only the edges (HTTP handlers, magics, the CLI) turn them
into status codes, JSON error bodies or exit codes. Each class extends the builtin
that best describes it, so callers that know nothing of us can still catch them::

    DSAgentError(Exception)                  code, message, http_status
    ├── ConfigError(DSAgentError, ValueError)          config_invalid (500)
    │   └── DataDirError(ConfigError)                  data_dir_unsafe (500)
    └── AuditError(DSAgentError, RuntimeError)         audit_failed (500)
        └── AuditRecordError(AuditError, ValueError)   audit_record_invalid (500)
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "AuditRecordError",
    "ConfigError",
    "DSAgentError",
    "DataDirError",
]


class DSAgentError(Exception):
    """Base of every error we raise on purpose; ``code`` is stable API."""

    code: str = "internal_error"
    http_status: int = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The error body every endpoint returns: ``{"error": {"code", "message"}}``."""
        return {"error": {"code": self.code, "message": self.message}}


class ConfigError(DSAgentError, ValueError):
    """A setting has a value we cannot run with; the message names setting, value and range."""

    code = "config_invalid"


class DataDirError(ConfigError):
    """The data directory is missing, not ours, or open to other users."""

    code = "data_dir_unsafe"


class AuditError(DSAgentError, RuntimeError):
    """The audit log could not be written or read."""

    code = "audit_failed"


class AuditRecordError(AuditError, ValueError):
    """A record was refused before writing (unknown kind, details too large or not JSON)."""

    code = "audit_record_invalid"
