"""Per-user request rate and upload concurrency limits, kept in the server's memory.

Both are per process: on JupyterHub each user has their own server, so a limit per
user name inside one process is what protects that server. Nothing here knows HTTP;
the handlers turn a refusal (:class:`~jupyter_dsagent.exceptions.RateLimited`) into a
429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from .exceptions import RateLimited

__all__ = ["ConcurrencyLimit", "RateLimiter"]

# Beyond this many users, idle (full) buckets are dropped so the table cannot grow
# without bound; a dropped bucket comes back full, which is what it was anyway.
_PRUNE_ABOVE = 1024


class RateLimiter:
    """A token bucket per user: ``per_minute`` requests, refilled continuously.

    A user may burst up to ``per_minute`` requests at once, then one more every
    ``60 / per_minute`` seconds.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # user -> (tokens, last refill)
        self._lock = threading.Lock()

    def acquire(self, user: str) -> None:
        """Take one token for ``user``, or raise RateLimited saying when one will be free."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(user, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[user] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimited(
                    f"Too many requests: at most {self.capacity:,.0f} per minute are allowed. "
                    f"Try again in {math.ceil(wait)} seconds.",
                    retry_after=wait,
                )
            self._buckets[user] = (tokens - 1.0, now)
            if len(self._buckets) > _PRUNE_ABOVE:
                self._prune(now)

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        for user, (_, last) in list(self._buckets.items()):
            if now - last >= full_after:
                del self._buckets[user]


class ConcurrencyLimit:
    """At most ``limit`` operations in flight per user (uploads being received and checked)."""

    def __init__(self, limit: int, *, retry_after: float = 5.0) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.retry_after = retry_after
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, user: str) -> None:
        """Count one more operation for ``user``, or raise RateLimited when at the limit."""
        with self._lock:
            active = self._active.get(user, 0)
            if active >= self.limit:
                raise RateLimited(
                    f"You already have {active} uploads in progress, the limit; "
                    "wait for one to finish.",
                    retry_after=self.retry_after,
                )
            self._active[user] = active + 1

    def leave(self, user: str) -> None:
        """End one operation of ``user``; call exactly once per successful :meth:`enter`."""
        with self._lock:
            active = self._active.get(user, 0) - 1
            if active > 0:
                self._active[user] = active
            else:
                self._active.pop(user, None)
