"""One model call as the gateway tracks it: admitted, then ended with a result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .request import ChatRequest
from .responses import Route
from .usage import Reservation

__all__ = ["AdmittedCall", "CallResult"]


@dataclass(frozen=True)
class AdmittedCall:
    """A call that passed policy, token limit, budgets and rate limit."""

    user: str
    actor: str  # the user's pseudonym
    request: ChatRequest
    model: str  # asked for (or the configured one)
    prompt_tokens: int  # as counted before sending
    prompt_sha256: str
    reservation: Reservation
    started: float  # perf_counter at admission
    kwargs: dict[str, Any] = field(repr=False)

    @property
    def streamed(self) -> bool:
        return bool(self.kwargs.get("stream"))


@dataclass(frozen=True)
class CallResult:
    """How a call ended: what answered, what it used and cost, and for the record."""

    route: Route
    outcome: str  # an audit outcome: ok, error, timeout, cancelled
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None  # None: the model has no price in litellm's cost map
    answer: Mapping[str, Any] | None = None  # for transcripts
    code: str | None = None  # the error code of a failed call

    @property
    def charged(self) -> bool:
        """Whether the provider produced anything to pay for (else the hold is released)."""
        return self.outcome == "ok" or self.tokens_out > 0
