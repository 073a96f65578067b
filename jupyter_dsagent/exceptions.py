"""Errors of jupyter_dsagent, each carrying a stable code for the wire.

Library code raises these; only the edges (HTTP handlers, magics, the CLI) turn them
into status codes, JSON error bodies or exit codes. Each class extends the builtin
that best describes it, so callers that know nothing of us can still catch them::

    DSAgentError(Exception)                  code, message, http_status
    ├── ConfigError(DSAgentError, ValueError)          config_invalid
    │   └── DataDirError(ConfigError)                  data_dir_unsafe
    ├── AuditError(DSAgentError, RuntimeError)         audit_failed
    │   └── AuditRecordError(AuditError, ValueError)   audit_record_invalid
    ├── NotFoundError(DSAgentError, LookupError)       not_found
    ├── BadRequest(DSAgentError, ValueError)           bad_request
    ├── RateLimited(DSAgentError)                      rate_limited (retry_after seconds)
    ├── InsufficientStorage(DSAgentError, OSError)     insufficient_storage
    ├── GatewayError(DSAgentError)                     a model call was refused or failed
    │   ├── ModelNotConfigured(GatewayError, LookupError)   model_not_configured
    │   ├── ModelNotAllowed(GatewayError, PermissionError)  model_not_allowed
    │   ├── TokenLimitExceeded(GatewayError, ValueError)    token_limit
    │   ├── BudgetExhausted(GatewayError)                   budget_exhausted
    │   └── UpstreamFailed(GatewayError, ConnectionError)   upstream_failed
    ├── AutoMLError(DSAgentError, RuntimeError)        automl_failed, automl_no_model, …
    │   └── AutoMLInputError(AutoMLError, ValueError)  automl_bad_target, automl_too_large
    │       └── SchemaMismatch(AutoMLInputError)       automl_schema_mismatch
    └── IngestError(DSAgentError, ValueError)          a file was refused
        ├── UploadTooLarge                             too_large
        ├── TypeNotAllowed                             type_not_allowed
        ├── ContentMismatch                            content_mismatch
        ├── ArchiveError                               zip_*
        ├── ImageError                                 image_*
        ├── TableError                                 csv_*, table_invalid
        └── ResourceLimitError                         resource_limit

The HTTP status belongs to the code (``ERROR_STATUS``), not to the class, so a
subclass raised with a more precise code still maps to the right status.
"""

from __future__ import annotations

__all__ = [
    "ERROR_STATUS",
    "ArchiveError",
    "AuditError",
    "AuditRecordError",
    "AutoMLError",
    "AutoMLInputError",
    "BadRequest",
    "BudgetExhausted",
    "ConfigError",
    "ContentMismatch",
    "DSAgentError",
    "DataDirError",
    "GatewayError",
    "ImageError",
    "IngestError",
    "InsufficientStorage",
    "ModelNotAllowed",
    "ModelNotConfigured",
    "NotFoundError",
    "RateLimited",
    "ResourceLimitError",
    "SchemaMismatch",
    "TableError",
    "TokenLimitExceeded",
    "TypeNotAllowed",
    "UploadTooLarge",
    "UpstreamFailed",
]

#: Every stable error code and the HTTP status it maps to at the edge.
ERROR_STATUS: dict[str, int] = {
    # uploads
    "too_large": 413,
    "type_not_allowed": 415,
    "content_mismatch": 422,
    "empty_upload": 422,
    "zip_bomb": 422,
    "zip_path_traversal": 422,
    "zip_too_many_entries": 422,
    "zip_nested_too_deep": 422,
    "zip_symlink": 422,
    "zip_encrypted": 422,
    "zip_invalid": 422,
    "image_too_many_pixels": 422,
    "image_invalid": 422,
    "csv_too_many_rows": 422,
    "csv_too_many_columns": 422,
    "csv_undecodable": 422,
    "csv_invalid": 422,
    "table_invalid": 422,
    "resource_limit": 422,
    "not_found": 404,
    # the HTTP layer
    "bad_request": 400,
    "method_not_allowed": 405,
    "timeout": 408,
    "insufficient_storage": 507,
    "unhealthy": 503,
    # access and the model gateway
    "unauthorized": 403,
    "rate_limited": 429,
    "model_not_allowed": 403,
    "token_limit": 400,
    # 402, not 429: a spent budget does not come back by retrying, and OpenAI clients
    # retry every 429 on their own.
    "budget_exhausted": 402,
    "upstream_failed": 502,
    "model_not_configured": 503,
    # the installation itself
    "config_invalid": 500,
    "data_dir_unsafe": 500,
    "audit_failed": 500,
    "audit_record_invalid": 500,
    "internal_error": 500,
    # AutoML runs
    "automl_disabled": 403,
    "automl_busy": 429,
    "automl_bad_target": 422,
    "automl_too_large": 413,
    "automl_running": 409,
    "automl_cancelled": 409,
    "automl_no_model": 422,
    "automl_failed": 500,
    "automl_schema_mismatch": 422,
}


class DSAgentError(Exception):
    """Base of every error we raise on purpose; ``code`` is stable API."""

    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            if code not in ERROR_STATUS:
                raise ValueError(f"{code!r} is not a registered error code")
            self.code = code

    @property
    def http_status(self) -> int:
        return ERROR_STATUS[self.code]

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


class NotFoundError(DSAgentError, LookupError):
    """No upload (or other object) with that id or name."""

    code = "not_found"


class BadRequest(DSAgentError, ValueError):
    """A request we cannot read: a malformed form, a bad parameter, a body where none belongs."""

    code = "bad_request"


class RateLimited(DSAgentError):
    """Too many requests or uploads at once; ``retry_after`` says when to try again."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class InsufficientStorage(DSAgentError, OSError):
    """Accepting the request would leave less free disk space than the configured floor."""

    code = "insufficient_storage"


class GatewayError(DSAgentError):
    """A model call was refused by policy or failed upstream; nothing was charged for it."""

    code = "upstream_failed"


class ModelNotConfigured(GatewayError, LookupError):
    """No model is configured; the agent uses its offline planner instead."""

    code = "model_not_configured"


class ModelNotAllowed(GatewayError, PermissionError):
    """The request named a model outside the allow-list, or on the deny-list."""

    code = "model_not_allowed"


class TokenLimitExceeded(GatewayError, ValueError):
    """The request is larger than ``max_tokens_per_request`` (or asks for too long an answer)."""

    code = "token_limit"


class BudgetExhausted(GatewayError):
    """A token or cost budget (the user's or the server's, per day or in total) is spent.

    ``retry_after`` is the seconds until a daily budget resets, or None for a total one.
    """

    code = "budget_exhausted"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamFailed(GatewayError, ConnectionError):
    """No configured model answered: errors, timeouts or cooldown, fallbacks included."""

    code = "upstream_failed"

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class AutoMLError(DSAgentError, RuntimeError):
    """An AutoML run could not start, was stopped, or ended without a model."""

    code = "automl_failed"


class AutoMLInputError(AutoMLError, ValueError):
    """The data cannot be learned from as asked: a bad target, or a table over the limits."""

    code = "automl_bad_target"


class SchemaMismatch(AutoMLInputError):
    """Data given to a trained model differs from what it was trained on.

    ``missing``, ``extra`` and ``dtypes`` (column -> (expected, found)) say exactly how.
    """

    code = "automl_schema_mismatch"

    def __init__(
        self,
        message: str,
        *,
        missing: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        dtypes: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.missing = missing
        self.extra = extra
        self.dtypes = dict(dtypes or {})


class IngestError(DSAgentError, ValueError):
    """A file was refused; the message says what was wrong and what the limit is."""

    code = "content_mismatch"


class UploadTooLarge(IngestError):
    code = "too_large"


class TypeNotAllowed(IngestError):
    code = "type_not_allowed"


class ContentMismatch(IngestError):
    code = "content_mismatch"


class ArchiveError(IngestError):
    """A ZIP archive was refused: bomb, traversal, symlink, encryption, bad structure."""

    code = "zip_invalid"


class ImageError(IngestError):
    code = "image_invalid"


class TableError(IngestError):
    code = "csv_invalid"


class ResourceLimitError(IngestError):
    """The sandboxed parser ran out of memory, CPU time or wall-clock time, or crashed."""

    code = "resource_limit"
