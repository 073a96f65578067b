"""Interrupt the worker's main thread at a wall-clock time, even inside a library's fit.

A ``SIGALRM`` handler raises :class:`Cutoff`, a ``BaseException`` so that the engines'
own ``except Exception`` (AutoGluon skips a failing model and goes on) cannot swallow
it. While armed, the alarm fires again every ``REPEAT`` seconds in case a library
swallowed it anyway. Used in the worker process only, from its main thread.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType, TracebackType

__all__ = ["Alarm", "Cutoff"]

REPEAT = 0.25


class Cutoff(BaseException):
    """The step ran past its time and was interrupted."""


class Alarm:
    """``with Alarm(when): step()`` raises Cutoff in ``step`` once ``when`` has passed.

    ``postpone``, asked when the alarm goes off, may name a later time instead (once):
    the fit uses it to let a first model finish rather than end with none.
    """

    def __init__(self, when: float, postpone: Callable[[], float | None] | None = None) -> None:
        self.when = when
        self.postpone = postpone
        self.armed = False

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        if not self.armed:
            return
        later = self.postpone() if self.postpone is not None else None
        self.postpone = None
        if later is not None and later > time.time():
            self.when = later
            signal.setitimer(signal.ITIMER_REAL, later - time.time(), REPEAT)
            return
        raise Cutoff(f"interrupted at its cut-off ({self.when:.2f})")

    def __enter__(self) -> Alarm:
        delay = self.when - time.time()
        if delay <= 0:
            raise Cutoff("no time left")
        self.armed = True
        signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, delay, REPEAT)
        return self

    def disarm(self) -> None:
        """Stop the alarm; safe to call twice, and from an ``except Cutoff`` block."""
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.disarm()
