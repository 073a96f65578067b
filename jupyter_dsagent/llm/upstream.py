"""What a failed model call becomes: one of our errors, in a sentence of our own.

litellm's exception texts can carry provider responses, URLs and request details, so
they are never passed on whole: the caller gets our sentence with the status the
provider answered, and only a provider's explanation of a malformed request (a 400,
which the caller needs to fix it) is quoted, redacted and clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..exceptions import BadRequest, DSAgentError, TokenLimitExceeded, UpstreamFailed
from ..redaction import redact_text
from .seam import litellm

__all__ = ["broken_stream_error", "upstream_error"]

_QUOTE_CHARS = 300


def upstream_error(exc: BaseException, *, tried: Sequence[str], timeout: float) -> DSAgentError:
    """Our error for ``exc``, raised by litellm's Router after retries and fallbacks."""
    if isinstance(exc, DSAgentError):
        return exc
    errors = litellm()
    models = ", ".join(tried)
    if isinstance(exc, errors.ContextWindowExceededError):
        return TokenLimitExceeded(
            "The conversation is longer than the model's context window; shorten it or "
            "send fewer tool results."
        )
    if isinstance(exc, errors.Timeout):
        return UpstreamFailed(
            f"No model answered within {timeout:g} seconds per attempt "
            f"(tried {models}, with retries).",
            timed_out=True,
        )
    if isinstance(exc, errors.RouterRateLimitError):
        return UpstreamFailed(
            f"Every configured model ({models}) is cooling down after repeated failures; "
            "try again in a minute."
        )
    if isinstance(exc, errors.AuthenticationError | errors.PermissionDeniedError):
        return UpstreamFailed(
            f"The model provider refused the server's credentials (tried {models}); "
            "ask the administrator to check the API key."
        )
    if isinstance(exc, errors.BadRequestError | errors.UnprocessableEntityError):
        return BadRequest(f"The model provider refused the request: {_quoted(exc)}")
    status = getattr(exc, "status_code", None)
    answered = f"the last answered {status}" if isinstance(status, int) else "none answered"
    return UpstreamFailed(
        f"No configured model could answer (tried {models}, with retries; {answered})."
    )


def broken_stream_error(exc: BaseException, *, model: str, timeout: float) -> DSAgentError:
    """Our error for a stream that failed after part of the answer was sent.

    litellm's Router tries no fallback then (the client has part of this model's
    answer), so the sentence names the one model and says the text is incomplete.
    """
    error = upstream_error(exc, tried=[model], timeout=timeout)
    if not isinstance(error, UpstreamFailed) or exc is error:
        return error  # a refusal keeps its own code and sentence
    if error.timed_out:
        return UpstreamFailed(
            f"The answer from {model} stopped part-way: nothing more arrived within "
            f"{timeout:g} seconds. The text received so far is incomplete; ask again.",
            timed_out=True,
        )
    return UpstreamFailed(
        f"The answer from {model} broke off part-way: the provider's stream failed after "
        "it had begun. The text received so far is incomplete, and no fallback model was "
        "tried because part of the answer had been sent; ask again."
    )


def _quoted(exc: BaseException) -> str:
    """The provider's own explanation, without litellm's prefixes, redacted and clipped."""
    text = str(getattr(exc, "message", "") or exc)
    text = text.split(" - ", 1)[-1] if text.startswith("litellm.") else text
    text = " ".join(redact_text(text).split())
    return text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "…"
