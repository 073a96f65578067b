"""Usage and budgets in SQLite: reserved before a call, charged after, shared by processes."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from jupyter_dsagent.config import load_config
from jupyter_dsagent.exceptions import BudgetExhausted
from jupyter_dsagent.llm.budgets import Budgets, seconds_until_next_day, utc_day
from jupyter_dsagent.llm.usage import HOLD_SECONDS, UsageStore

DAY_ONE = 1_790_000_000.0  # 2026-09-21, 14:13:20 UTC


class Clock:
    def __init__(self, now: float = DAY_ONE) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def budgets(**settings: object) -> Budgets:
    return Budgets.from_settings(
        load_config(environ={f"DSAGENT_{k.upper()}": str(v) for k, v in settings.items()})
    )


def test_without_budgets_nothing_is_held_and_charges_still_add_up(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite")
    hold = store.reserve("u_a", tokens=10, cost=0.1, budgets=Budgets())
    assert not hold.held
    store.charge(hold, model="openai/a", tokens_in=10, tokens_out=5, cost=0.25)
    store.charge(
        store.reserve("u_a", tokens=1, cost=0, budgets=Budgets()),
        model="openai/a",
        tokens_in=1,
        tokens_out=1,
        cost=0.0,
    )
    [row] = store.rows()
    assert (row["calls"], row["tokens_in"], row["tokens_out"], row["cost"]) == (2, 11, 6, 0.25)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_a_users_total_token_budget_counts_reservations_and_charges(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite")
    limits = budgets(user_token_budget=100)
    first = store.reserve("u_a", tokens=40, cost=0, budgets=limits)
    second = store.reserve("u_a", tokens=40, cost=0, budgets=limits)  # in flight together
    with pytest.raises(BudgetExhausted, match="this request needs about 40 tokens and 20 tokens"):
        store.reserve("u_a", tokens=40, cost=0, budgets=limits)
    store.release(second)  # failed upstream: nothing used
    store.charge(first, model="m", tokens_in=40, tokens_out=50, cost=0)
    with pytest.raises(BudgetExhausted) as refused:
        store.reserve("u_a", tokens=20, cost=0, budgets=limits)
    assert "DSAgent.user_token_budget" in refused.value.message
    assert refused.value.retry_after is None  # a total budget does not come back
    store.reserve("u_b", tokens=90, cost=0, budgets=limits)  # another user is not affected


def test_daily_budgets_start_again_at_midnight_utc(tmp_path: Path) -> None:
    clock = Clock()
    store = UsageStore(tmp_path / "usage.sqlite", clock=clock)
    limits = budgets(user_daily_cost_budget=0.5, server_token_budget=1000)
    store.charge(
        store.reserve("u_a", tokens=10, cost=0.1, budgets=limits),
        model="m",
        tokens_in=10,
        tokens_out=10,
        cost=0.5,
    )
    with pytest.raises(BudgetExhausted, match="daily cost budget") as refused:
        store.reserve("u_a", tokens=10, cost=0.01, budgets=limits)
    assert refused.value.retry_after == pytest.approx(seconds_until_next_day(DAY_ONE))
    clock.now = DAY_ONE + seconds_until_next_day(DAY_ONE) + 1
    assert utc_day(clock.now) != utc_day(DAY_ONE)
    store.reserve("u_a", tokens=10, cost=0.01, budgets=limits)
    assert store.spent("u_a")[("user", "day")].tokens == 10
    assert store.spent("u_a")[("server", "total")].tokens == 30


def test_the_servers_budget_covers_every_user(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite")
    limits = budgets(server_daily_token_budget=100)
    store.charge(
        store.reserve("u_a", tokens=60, cost=0, budgets=limits),
        model="m",
        tokens_in=60,
        tokens_out=0,
        cost=0,
    )
    with pytest.raises(BudgetExhausted, match="This server's daily token budget"):
        store.reserve("u_b", tokens=60, cost=0, budgets=limits)


def test_reservations_of_a_dead_process_expire(tmp_path: Path) -> None:
    clock = Clock()
    store = UsageStore(tmp_path / "usage.sqlite", clock=clock)
    limits = budgets(user_token_budget=100)
    store.reserve("u_a", tokens=100, cost=0, budgets=limits)  # never charged nor released
    with pytest.raises(BudgetExhausted):
        store.reserve("u_a", tokens=1, cost=0, budgets=limits)
    clock.now += HOLD_SECONDS + 1
    store.reserve("u_a", tokens=1, cost=0, budgets=limits)


def reserve_until_refused(path: str, tries: int) -> int:
    store = UsageStore(path, busy_timeout=60)
    limits = budgets(server_token_budget=100)
    granted = 0
    for _ in range(tries):
        try:
            store.reserve(f"u_{os.getpid()}", tokens=10, cost=0, budgets=limits)
            granted += 1
        except BudgetExhausted:
            pass
    store.close()
    return granted


def test_processes_reserving_at_once_never_overspend_the_budget(tmp_path: Path) -> None:
    path = str(tmp_path / "usage.sqlite")
    UsageStore(path).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        granted = pool.starmap(reserve_until_refused, [(path, 8)] * 4)
    assert sum(granted) == 10  # 100 tokens in reservations of 10, over 32 attempts
