"""What an error becomes on the wire: a status, a stable code and a sentence for a person.

Our own errors carry their code; tornado's and Jupyter Server's HTTP errors are
mapped by status. Anything unexpected becomes ``internal_error`` with a generic
sentence: its traceback goes to the server log, never to the client.
"""

from __future__ import annotations

from tornado.web import HTTPError

from ..exceptions import DSAgentError

__all__ = ["GENERIC_MESSAGE", "error_reply"]

GENERIC_MESSAGE = "The server could not complete this request; the details are in its log."

# status -> (code, message used when the error brings none of its own)
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be read."),
    401: ("unauthorized", "Authentication is required: send a valid token or log in."),
    403: ("unauthorized", "Not allowed: authenticate, or ask for access to this resource."),
    404: ("not_found", "Nothing is here."),
    405: ("method_not_allowed", "This method is not allowed here."),
    408: ("timeout", "The request took too long to arrive."),
    413: ("too_large", "The request is too large."),
    429: ("rate_limited", "Too many requests; try again later."),
    507: ("insufficient_storage", "The server is short of disk space."),
}


def error_reply(status: int, exc: BaseException | None) -> tuple[int, str, str]:
    """``(status, code, message)`` for an error response."""
    if isinstance(exc, DSAgentError):
        # A 500 of ours (config, audit) may name files: keep it for the log.
        message = GENERIC_MESSAGE if exc.http_status == 500 else exc.message
        return exc.http_status, exc.code, message
    if isinstance(exc, HTTPError):
        status = exc.status_code
    if status in _HTTP_CODES:
        code, default = _HTTP_CODES[status]
        return status, code, _message_of(exc) or default
    if 400 <= status < 500:
        # Another client error tornado may raise (411, 431, ...): still the client's fault.
        return status, "bad_request", _message_of(exc) or "The request could not be handled."
    return 500, "internal_error", GENERIC_MESSAGE


def _message_of(exc: BaseException | None) -> str:
    """The text an HTTPError was raised with (tornado formats ``log_message % args``)."""
    if not isinstance(exc, HTTPError) or not exc.log_message:
        return ""
    try:
        return str(exc.log_message % exc.args) if exc.args else str(exc.log_message)
    except (TypeError, ValueError):
        return str(exc.log_message)
