"""Per-user limits: a token bucket that refills over time, and a concurrency count."""

from __future__ import annotations

import pytest

from jupyter_dsagent.exceptions import RateLimited
from jupyter_dsagent.throttle import ConcurrencyLimit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_one_request_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)  # one per second after the burst
    for _ in range(60):
        limiter.acquire("ada")
    with pytest.raises(RateLimited) as refused:
        limiter.acquire("ada")
    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after == pytest.approx(1.0)
    limiter.acquire("bob")  # others have their own bucket
    clock.now += 1.0
    limiter.acquire("ada")
    with pytest.raises(RateLimited):
        limiter.acquire("ada")


def test_idle_buckets_are_pruned_when_many_users_appear() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    for n in range(1100):
        limiter.acquire(f"user{n}")
    clock.now += 120  # every bucket is full again
    limiter.acquire("newcomer")
    assert list(limiter._buckets) == ["newcomer"]


def test_concurrency_limit_counts_per_user_and_frees_on_leave() -> None:
    slots = ConcurrencyLimit(2)
    slots.enter("ada")
    slots.enter("ada")
    with pytest.raises(RateLimited) as refused:
        slots.enter("ada")
    assert refused.value.retry_after > 0
    slots.enter("bob")
    slots.leave("ada")
    slots.enter("ada")
    slots.leave("ada")
    slots.leave("ada")
    assert slots._active == {"bob": 1}
