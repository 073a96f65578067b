"""The usage report: tokens and cost by user and model, and what each budget has left."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .budgets import Budgets
from .usage import UsageStore

__all__ = ["usage_report"]


def _totals() -> dict[str, Any]:
    return {"calls": 0, "tokens_in": 0, "tokens_out": 0, "tokens": 0, "cost_usd": 0.0}


def _add(into: dict[str, Any], row: dict[str, Any]) -> None:
    into["calls"] += row["calls"]
    into["tokens_in"] += row["tokens_in"]
    into["tokens_out"] += row["tokens_out"]
    into["tokens"] += row["tokens_in"] + row["tokens_out"]
    into["cost_usd"] = round(into["cost_usd"] + row["cost"], 10)


def usage_report(store: UsageStore, budgets: Budgets, *, actor: str) -> dict[str, Any]:
    """Totals (all time and today, UTC) overall, by user pseudonym, by model and by both;
    and, for ``actor`` and the server, every budget that is set with what is left."""
    today = store.today()
    overall = {"total": _totals(), "today": _totals()}
    by_user: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"total": _totals(), "today": _totals(), "by_model": defaultdict(_totals)}
    )
    by_model: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"total": _totals(), "today": _totals()}
    )
    for row in store.rows():
        periods = ("total", "today") if row["day"] == today else ("total",)
        for period in periods:
            _add(overall[period], row)
            _add(by_user[row["actor"]][period], row)
            _add(by_model[row["model"]][period], row)
        _add(by_user[row["actor"]]["by_model"][row["model"]], row)
    spent = store.spent(actor)
    remaining = []
    for limit in budgets.limits:
        used = spent[(limit.scope, limit.period)].of(limit.unit)
        remaining.append(
            {
                "scope": limit.scope,
                "period": limit.period,
                "unit": limit.unit,
                "limit": limit.amount,
                "used": used,
                "remaining": max(0.0, limit.amount - used),
                "setting": limit.setting,
            }
        )
    return {
        "user": actor,
        "day": today,
        **overall,
        "by_user": {
            user: {**values, "by_model": dict(values["by_model"])}
            for user, values in by_user.items()
        },
        "by_model": dict(by_model),
        "budgets": remaining,
    }
