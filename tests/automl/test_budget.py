"""The time plan leaves room, in order, for the fit, evaluation, importance and the kill."""

from __future__ import annotations

import pytest

from jupyter_dsagent.automl import process, run
from jupyter_dsagent.automl.budget import KILL_GRACE, MIN_ENGINE_SECONDS, Budget


@pytest.mark.parametrize("limit", [5, 20, 60, 600])
def test_the_steps_come_in_order_before_the_deadline(limit: int) -> None:
    budget = Budget(started_at=1000.0, time_limit=limit, importance_seconds=10, engine_share=0.85)
    assert 1000.0 < budget.fit_cutoff <= budget.first_model_cutoff < budget.finish_by
    assert budget.finish_by < budget.deadline < budget.kill_at
    assert budget.deadline == 1000.0 + limit
    assert budget.importance_limit <= min(10, limit / 10)
    expected = max(MIN_ENGINE_SECONDS, 0.85 * (budget.fit_cutoff - 1002.0))
    assert budget.engine_limit(1002.0) == pytest.approx(expected)
    assert budget.engine_limit(budget.fit_cutoff + 1) == MIN_ENGINE_SECONDS


def test_a_killed_run_is_over_within_three_seconds_of_its_deadline() -> None:
    # After the deadline: the kill grace, one poll, then SIGTERM, a grace, SIGKILL and a wait.
    worst = KILL_GRACE + run.POLL_SECONDS + process.STOP_GRACE + process.STOP_WAIT
    assert worst < 3.0
