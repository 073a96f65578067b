"""The profiler's threads: two for a large frame, none for a small one.

Sorts, counts, hashes of numbers and SHA-1 over buffers release the GIL, so two columns
worked on at once use two cores; more threads would add memory for little gain on most
machines.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["THREADED_MIN_ROWS", "THREADS", "column_pool"]

#: Columns worked on at the same time.
THREADS = 2
#: Frames (or samples) with fewer rows build their columns one by one in the caller's
#: thread: such a column takes less time than handing it to a thread.
THREADED_MIN_ROWS = 20_000
_Result = TypeVar("_Result")


class _InlineExecutor(Executor):
    """Runs each call at once, in the calling thread."""

    def submit(self, fn: Callable[..., _Result], /, *args: Any, **kwargs: Any) -> Future[_Result]:
        future: Future[_Result] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # raised again by .result(), as a pool would
            future.set_exception(exc)
        return future


class _Threads(ThreadPoolExecutor):
    """A thread pool that runs calls in the caller's thread once a thread fails to start
    (under a tight address-space limit, as in the AutoML worker, a stack may not fit)."""

    def __init__(self) -> None:
        super().__init__(THREADS, thread_name_prefix="dsagent-profile")
        self._inline: _InlineExecutor | None = None

    def submit(self, fn: Callable[..., _Result], /, *args: Any, **kwargs: Any) -> Future[_Result]:
        if self._inline is None:
            try:
                return super().submit(fn, *args, **kwargs)
            except RuntimeError:
                if self._shutdown:
                    raise
                self._inline = _InlineExecutor()
        return self._inline.submit(fn, *args, **kwargs)


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on (Linux)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def column_pool(rows: int) -> Executor:
    """Threads for a frame of ``rows`` rows, or the caller's thread for a short one."""
    if rows < THREADED_MIN_ROWS or _usable_cores() < 2:
        return _InlineExecutor()
    return _Threads()
