"""How a run's time limit is shared out, so the result arrives by the deadline.

All times are wall-clock seconds since the epoch (``time.time()``), the one clock the
kernel and the worker process share. Counted from the moment ``automl()`` is called:

    start ─ worker start-up ─ engine fit ─ fit cut-off ─ evaluation ─ importance ─ deadline
                               (soft limit: a share of the time left)              │
                                         the kernel kills the group at deadline + KILL_GRACE

Engines treat their own time limit as a wish (AutoGluon overruns it by seconds), so the
engine gets a share of the time left before the cut-off; at the cut-off the worker
interrupts the fit and keeps the models that finished (a fit with no finished model yet
may go on into importance's time, so that the run ends with a model if at all possible);
evaluation and importance are interrupted at the deadline; the kernel kills the whole
process group at deadline + KILL_GRACE whatever happens, and uses what the worker saved
by then.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FINISH_MARGIN", "KILL_GRACE", "MIN_ENGINE_SECONDS", "SELF_KILL_GRACE", "Budget"]

#: Seconds after the deadline at which the kernel kills the run's process group.
KILL_GRACE = 1.0
#: Seconds after the deadline at which the worker kills its own group, should the
#: kernel be gone (restarted, crashed) and unable to.
SELF_KILL_GRACE = 2.5
#: Evaluation and importance stop this long before the deadline, leaving time to write.
FINISH_MARGIN = 0.3
#: Seconds (plus a share of the limit) kept for predicting the holdout, scoring it and
#: writing the result.
EVALUATION_BASE = 1.0
EVALUATION_SHARE = 0.05
#: The shortest time limit an engine is given (see Budget.engine_limit).
MIN_ENGINE_SECONDS = 3.0
#: Permutation importance never takes more than this share of the time limit.
IMPORTANCE_SHARE = 0.1


@dataclass(frozen=True)
class Budget:
    """The time plan of one run."""

    started_at: float
    time_limit: float
    importance_seconds: float
    engine_share: float

    @property
    def deadline(self) -> float:
        """When the result must be ready."""
        return self.started_at + self.time_limit

    @property
    def importance_limit(self) -> float:
        """Longest time permutation importance may take."""
        return min(self.importance_seconds, IMPORTANCE_SHARE * self.time_limit)

    @property
    def evaluation_reserve(self) -> float:
        return EVALUATION_BASE + EVALUATION_SHARE * self.time_limit

    @property
    def fit_cutoff(self) -> float:
        """When a fit still running is interrupted."""
        return self.deadline - self.evaluation_reserve - self.importance_limit

    @property
    def first_model_cutoff(self) -> float:
        """How long a fit that has no finished model yet may go on: importance's time is
        given up, so that the run ends with a model rather than with none."""
        return self.deadline - self.evaluation_reserve

    @property
    def finish_by(self) -> float:
        """When evaluation steps still running are interrupted."""
        return self.deadline - FINISH_MARGIN

    @property
    def kill_at(self) -> float:
        """When the kernel kills the process group."""
        return self.deadline + KILL_GRACE

    def engine_limit(self, now: float) -> float:
        """The engine's own (soft) time limit when its fit starts at ``now``.

        Never below MIN_ENGINE_SECONDS: with less, AutoGluon skips every model, while
        the cut-off (postponed until a first model is done) still bounds the fit.
        """
        return max(MIN_ENGINE_SECONDS, self.engine_share * (self.fit_cutoff - now))
