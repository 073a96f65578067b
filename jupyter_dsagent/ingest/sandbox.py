"""Parse untrusted files in warm worker processes with memory, CPU and time limits.

A decoder bug, a decompression bomb or an infinite loop must become a validation
error (``resource_limit``), never a dead server or kernel. Each worker is a spawned
process (safe from threaded parents) with ``RLIMIT_AS``; before each task its CPU
soft limit is set to what it has used so far plus the task's budget, so the kernel
kills a runaway with SIGXCPU; the parent waits at most the wall-clock budget and
kills the worker past it. Workers are kept warm between tasks because starting one
(and importing pandas/Pillow in it) costs far more than most validations; a worker
is replaced after a failure or after ``max_tasks`` tasks.

Tasks are named; the worker resolves only names from its table, so nothing else can
be asked to run there.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any

from ..exceptions import IngestError, ResourceLimitError

__all__ = ["TASKS", "Sandbox"]

log = logging.getLogger(__name__)

#: Validators that may run in the worker: name -> "module:function".
TASKS: dict[str, str] = {
    "delimited": "jupyter_dsagent.ingest.delimited:inspect_delimited",
    "json": "jupyter_dsagent.ingest.columnar:inspect_json",
    "parquet": "jupyter_dsagent.ingest.columnar:inspect_parquet",
    "xlsx": "jupyter_dsagent.ingest.xlsx:inspect_xlsx",
    "image": "jupyter_dsagent.ingest.image:sanitize_image",
    "zip": "jupyter_dsagent.ingest.archive:safe_unzip",
}
# Native libraries start one thread per core and reserve address space for each;
# one is plenty for validating a file and keeps RLIMIT_AS meaningful.
_SINGLE_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "ARROW_NUM_THREADS",
    "RAYON_NUM_THREADS",
)


def _worker_main(conn: Connection, memory_bytes: int, tasks: Mapping[str, str]) -> None:
    """Loop in the worker: receive (task, args, cpu_seconds), send back the outcome."""
    import resource

    for var in _SINGLE_THREAD_ENV:
        os.environ[var] = "1"
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resolved: dict[str, Callable[..., Any]] = {}
    while True:
        try:
            name, args, cpu_seconds = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = int(usage.ru_utime + usage.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (used + cpu_seconds, resource.RLIM_INFINITY))
        try:
            if name not in resolved:
                module, _, function = tasks[name].partition(":")
                resolved[name] = getattr(importlib.import_module(module), function)
            outcome: tuple[Any, ...] = ("ok", resolved[name](*args))
        except IngestError as exc:
            outcome = ("refused", type(exc).__name__, exc.code, exc.message)
        except MemoryError:
            outcome = ("limit", "it needed more memory than the sandbox allows")
        except RecursionError:
            outcome = ("limit", "it is nested too deeply to check")
        except Exception as exc:  # a validator bug: refuse the file, keep the details in the log
            outcome = ("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        conn.send(outcome)
        if outcome[0] in ("limit", "bug"):
            return  # the heap may be in a bad state; the parent starts a fresh worker


class _Worker:
    def __init__(self, memory_bytes: int, tasks: Mapping[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child_conn, memory_bytes, dict(tasks)),
            daemon=True,
            name="dsagent-sandbox",
        )
        self.process.start()
        child_conn.close()
        self.tasks_done = 0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class Sandbox:
    """A small pool of warm, limited worker processes; :meth:`run` is thread-safe."""

    def __init__(
        self,
        *,
        memory_bytes: int,
        cpu_seconds: int,
        wall_seconds: float,
        workers: int = 2,
        max_tasks: int = 200,
        tasks: Mapping[str, str] | None = None,
    ) -> None:
        self.memory_bytes = memory_bytes
        self.cpu_seconds = cpu_seconds
        self.wall_seconds = wall_seconds
        self.max_tasks = max_tasks
        self.tasks = dict(TASKS if tasks is None else tasks)
        self._slots: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(workers):
            self._slots.put(None)  # started lazily, on first use
        self._closed = threading.Event()

    def run(self, task: str, *args: Any) -> Any:
        """Run ``task`` on ``args`` in a worker and return its result.

        Raises the validator's own IngestError, or ResourceLimitError when the worker
        ran out of memory, CPU or time, or crashed.
        """
        if task not in self.tasks:
            raise ValueError(f"{task!r} is not a sandbox task")
        if self._closed.is_set():
            raise RuntimeError("the sandbox is closed")
        worker = self._slots.get() or _Worker(self.memory_bytes, self.tasks)
        healthy = False
        try:
            outcome = self._exchange(worker, task, args)
            healthy = outcome[0] in ("ok", "refused")
            return self._unpack(task, outcome)
        finally:
            worker.tasks_done += 1
            if healthy and worker.tasks_done < self.max_tasks and not self._closed.is_set():
                self._slots.put(worker)
            else:
                worker.kill()
                self._slots.put(None)

    def _exchange(self, worker: _Worker, task: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            worker.conn.send((task, args, self.cpu_seconds))
            if not worker.conn.poll(self.wall_seconds):
                raise ResourceLimitError(
                    f"Checking the file took longer than {self.wall_seconds:g} seconds, the "
                    "limit; it was refused."
                )
            outcome: tuple[Any, ...] = worker.conn.recv()
            return outcome
        except (EOFError, OSError, BrokenPipeError):
            worker.process.join(timeout=5)
            raise ResourceLimitError(_death_message(worker.process.exitcode)) from None

    def _unpack(self, task: str, outcome: tuple[Any, ...]) -> Any:
        status = outcome[0]
        if status == "ok":
            return outcome[1]
        if status == "refused":
            _, class_name, code, message = outcome
            raise _ingest_error_class(class_name)(message, code=code)
        if status == "limit":
            raise ResourceLimitError(f"The file was refused: {outcome[1]}.")
        log.error("Validator %r failed on an upload: %s\n%s", task, outcome[1], outcome[2])
        raise ResourceLimitError(
            f"The file could not be checked safely ({outcome[1][:200]}); it was refused."
        )

    def close(self) -> None:
        """Stop every idle worker; later runs raise."""
        self._closed.set()
        while True:
            try:
                worker = self._slots.get_nowait()
            except queue.Empty:
                return
            if worker is not None:
                worker.kill()


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        signum = -exitcode
        if signum == signal.SIGXCPU:
            return "Checking the file used more CPU time than allowed; it was refused."
        if signum == signal.SIGKILL:
            return "Checking the file needed more memory than allowed; it was refused."
        return f"The file parser crashed (signal {signal.Signals(signum).name}); it was refused."
    return f"The file parser stopped unexpectedly (exit code {exitcode}); it was refused."


def _ingest_error_class(name: str) -> type[IngestError]:
    from .. import exceptions

    found = getattr(exceptions, name, None)
    if isinstance(found, type) and issubclass(found, IngestError):
        return found
    return IngestError
