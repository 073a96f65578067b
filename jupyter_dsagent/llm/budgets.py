"""Token and cost budgets: one user's and the whole server's, per UTC day and in total.

A budget of 0 is no limit. :class:`Budgets` holds the limits that are set;
:class:`~jupyter_dsagent.llm.usage.UsageStore` checks them against what was spent
(and what calls in flight have reserved) before each call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from ..config import DSAgent

__all__ = ["Budgets", "Limit", "Spent", "seconds_until_next_day", "utc_day"]

Scope = Literal["user", "server"]
Period = Literal["day", "total"]
Unit = Literal["tokens", "usd"]


def utc_day(now: float) -> str:
    """The UTC date of the unix time ``now``, as budgets count days (``2026-11-21``)."""
    return datetime.fromtimestamp(now, timezone.utc).date().isoformat()


def seconds_until_next_day(now: float) -> float:
    """Seconds from ``now`` until 00:00 UTC, when daily budgets start again."""
    moment = datetime.fromtimestamp(now, timezone.utc)
    midnight = datetime.combine(
        moment.date() + timedelta(days=1), datetime.min.time(), timezone.utc
    )
    return (midnight - moment).total_seconds()


@dataclass(frozen=True)
class Spent:
    """Tokens (in and out) and dollars spent, reservations of calls in flight included."""

    tokens: int = 0
    cost: float = 0.0

    def of(self, unit: Unit) -> float:
        return self.tokens if unit == "tokens" else self.cost


@dataclass(frozen=True)
class Limit:
    """One budget: whose, for how long, in what, how much, and the setting that set it."""

    scope: Scope
    period: Period
    unit: Unit
    amount: float
    setting: str

    def describe(self, value: float) -> str:
        return f"{value:,.0f} tokens" if self.unit == "tokens" else f"${value:,.4f}"

    def refusal(self, spent: float, needed: float) -> str:
        """The sentence a refused request gets: whose budget, how much is left, what to do."""
        whose = "Your" if self.scope == "user" else "This server's"
        period = "daily" if self.period == "day" else "total"
        kind = "token" if self.unit == "tokens" else "cost"
        left = max(0.0, self.amount - spent)
        when = (
            "It starts again at 00:00 UTC."
            if self.period == "day"
            else "Ask the administrator to raise it."
        )
        detail = (
            f"{self.describe(spent)} of {self.describe(self.amount)} are spent"
            if left <= 0
            else f"this request needs about {self.describe(needed)} and "
            f"{self.describe(left)} of {self.describe(self.amount)} are left"
        )
        return (
            f"{whose} {period} {kind} budget for model calls is exhausted: {detail} "
            f"(DSAgent.{self.setting}). {when}"
        )


@dataclass(frozen=True)
class Budgets:
    """The budgets that are set (a 0 setting is no limit)."""

    limits: tuple[Limit, ...] = ()

    @classmethod
    def from_settings(cls, settings: DSAgent) -> Budgets:
        candidates: list[tuple[Scope, Period, Unit, str]] = [
            ("user", "total", "tokens", "user_token_budget"),
            ("user", "total", "usd", "user_cost_budget"),
            ("user", "day", "tokens", "user_daily_token_budget"),
            ("user", "day", "usd", "user_daily_cost_budget"),
            ("server", "total", "tokens", "server_token_budget"),
            ("server", "total", "usd", "server_cost_budget"),
            ("server", "day", "tokens", "server_daily_token_budget"),
            ("server", "day", "usd", "server_daily_cost_budget"),
        ]
        return cls(
            tuple(
                Limit(scope, period, unit, float(getattr(settings, name)), name)
                for scope, period, unit, name in candidates
                if getattr(settings, name) > 0
            )
        )

    def __bool__(self) -> bool:
        return bool(self.limits)

    @property
    def cost_limited(self) -> bool:
        """Whether a budget is in dollars (then a call's price is estimated before it)."""
        return any(limit.unit == "usd" for limit in self.limits)
