"""The base of every jupyter_dsagent handler: authentication, limits, JSON errors, metrics.

Authorization resources. Each handler names what it protects, so a JupyterHub or
custom ``Authorizer`` can grant them separately: ``jupyter_dsagent:uploads`` (list,
read, thumbnails: ``read``; upload, delete: ``write``), ``jupyter_dsagent:audit``
(``read``), ``jupyter_dsagent:health`` (``read``), ``jupyter_dsagent:llm`` (models and
usage: ``read``; model calls: ``write``) and ``jupyter_dsagent`` for paths that match
nothing. Every method is wrapped in ``@web.authenticated`` and
``@authorized``; the upload endpoint also authorizes in ``prepare()``, before it
reads a byte of the body.

Every handler streams its request body (``@stream_request_body``) so that
``prepare()`` (authentication, XSRF and origin checks, the rate limit) runs on the
headers alone. Without that, tornado would buffer a body of up to the server's
maximum (hundreds of MB) for any request, anonymous ones included, before refusing
it. Endpoints that take no body refuse one in ``prepare()``.
"""

from __future__ import annotations

import logging
import math
import re
from types import TracebackType
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..exceptions import AuditError, BadRequest, DSAgentError, NotFoundError, RateLimited
from ..ingest import Ingestor
from ..models import ErrorBody, ErrorDetail
from ..observability import metrics
from ..runtime import Runtime, current_user
from ..throttle import RateLimiter
from .errors import error_reply

__all__ = [
    "AUDIT_RESOURCE",
    "BASE_RESOURCE",
    "HEALTH_RESOURCE",
    "LLM_RESOURCE",
    "UPLOADS_RESOURCE",
    "DSAgentHandler",
    "valid_upload_id",
]

BASE_RESOURCE = "jupyter_dsagent"
UPLOADS_RESOURCE = "jupyter_dsagent:uploads"
AUDIT_RESOURCE = "jupyter_dsagent:audit"
HEALTH_RESOURCE = "jupyter_dsagent:health"
LLM_RESOURCE = "jupyter_dsagent:llm"

# Jupyter's own providers check one shared secret (token or password). They invent a
# new anonymous user for every request made with the token alone, yet whoever holds
# the secret is the one person the server runs for.
_SHARED_SECRET_PROVIDERS = (IdentityProvider, PasswordIdentityProvider)

# Upload ids are uuid4().hex; anything else cannot name an upload, so it never
# reaches a path operation.
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")

log = logging.getLogger(__name__)


def valid_upload_id(raw: str) -> str:
    """``raw`` if it has the form of an upload id, else NotFoundError (404)."""
    if not _UPLOAD_ID.fullmatch(raw):
        raise NotFoundError("No upload has that id.")
    return raw


@web.stream_request_body
class DSAgentHandler(APIHandler):
    """Shared behaviour; subclasses set ``auth_resource`` and ``route`` (a metrics label)."""

    auth_resource = BASE_RESOURCE
    route = "/dsagent/api/*"
    #: The stable code of the error this request was answered with, if any.
    error_code: str | None = None
    # True once Jupyter's checks (identity, XSRF, origin) passed: a later 403 is the
    # authorizer's decision about a known user, which the audit log records.
    _identity_checked = False

    # -- what the extension put in the settings ------------------------------------------
    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.settings["dsagent_runtime"]
        return runtime

    @property
    def ingestor(self) -> Ingestor:
        ingestor: Ingestor = self.settings["dsagent_ingestor"]
        return ingestor

    @property
    def rate_limiter(self) -> RateLimiter:
        limiter: RateLimiter = self.settings["dsagent_rate_limiter"]
        return limiter

    @property
    def username(self) -> str:
        """Who acts, for the audit log and the per-user limits (valid after ``prepare()``).

        Behind a shared secret that is the account the server runs for, the same name
        kernels write to the audit log; otherwise (JupyterHub) the provider's user name.
        Keying limits on the invented per-request names would make them void.
        """
        if type(self.identity_provider) in _SHARED_SECRET_PROVIDERS:
            return current_user()
        return str(self.current_user.username)

    def _authenticated_user(self) -> Any:
        """The user, or None when authentication has not run or failed.

        ``self.current_user`` must not be read before Jupyter's ``prepare()`` ran.
        """
        return getattr(self, "_jupyter_current_user", None)

    def int_argument(self, name: str, *, default: int, low: int, high: int) -> int:
        """An integer query parameter within ``low..high``, or BadRequest naming the range."""
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise BadRequest(
                f"{name} must be a whole number from {low} to {high:,}, not {raw[:40]!r}."
            )
        return value

    # -- request life cycle --------------------------------------------------------------
    async def prepare(self) -> None:  # type: ignore[override]
        # Authentication, XSRF and origin checks; refuses anonymous requests with 403.
        await super().prepare()
        if self._authenticated_user() is not None:  # None only for CORS preflight (OPTIONS)
            self._identity_checked = True
            self.rate_limiter.acquire(self.username)
        if not self.accepts_body():
            self._refuse_body()

    def accepts_body(self) -> bool:
        """Whether this request may carry a body; only uploads do."""
        return False

    def _refuse_body(self) -> None:
        headers = self.request.headers
        if "Transfer-Encoding" in headers or headers.get("Content-Length", "0").strip() != "0":
            raise BadRequest(f"{self.request.method} {self.route} takes no request body.")

    def on_finish(self) -> None:
        method = self.request.method or ""
        # Only known methods become label values, so clients cannot grow the label set.
        label = method if method in self.SUPPORTED_METHODS else "OTHER"
        metrics().request_seconds.labels(route=self.route, method=label).observe(
            self.request.request_time()
        )

    # -- errors ----------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error is ``{"error": {"code", "message"}}``, never HTML or a traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        status, code, message = error_reply(status_code, exc)
        self.error_code = code
        self.set_status(status)
        if isinstance(exc, RateLimited):
            self.set_header("Retry-After", str(max(1, math.ceil(exc.retry_after))))
        # Our own 403s (a model not allowed) are audited where they are decided.
        if status == 403 and self._identity_checked and not isinstance(exc, DSAgentError):
            self._audit_denial(message)
        body = ErrorBody(error=ErrorDetail(code=code, message=message))
        self.finish(body.model_dump_json())

    def _audit_denial(self, reason: str) -> None:
        """A known user refused by the authorizer: a security decision, so it is audited.

        Failed logins and XSRF refusals are only logged: anyone (any web page, through a
        browser) can cause those at will, and they would flood the audit log.
        """
        try:
            self.runtime.audit.append(
                "auth.denied",
                actor=self.username,
                subject=self.route,
                outcome="denied",
                details={"method": self.request.method, "reason": reason},
            )
        except AuditError:
            log.exception("Could not audit a refused request to %s", self.route)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Our refusals are expected: one line, no traceback. Anything else (a 500 of
        ours included): the full traceback, in the server log only."""
        if isinstance(value, DSAgentError) and value.http_status != 500:
            log.log(
                logging.WARNING if value.http_status >= 500 else logging.INFO,
                "%s %s refused: %s (%s)",
                self.request.method,
                self.route,
                value.message,
                value.code,
            )
        else:
            super().log_exception(typ, value, tb)
