"""The worker's process group: start it in a session of its own, and stop all of it.

The worker is started with ``start_new_session=True``, so it and everything it starts
(joblib/loky workers, native helpers) share one process group that can be signalled at
once. Descendants are also tracked by parentage while the run goes on, so one that
moved to a group of its own is stopped too. Stopping is SIGTERM, a short grace, then
SIGKILL, and waits until no member is left alive.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

import psutil

__all__ = ["ProcessGroup", "group_members", "worker_environment"]

#: Native thread pools sized to the run's cores.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "LOKY_MAX_CPU_COUNT",
)
#: Credentials a worker never needs; they are not passed on.
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$", re.IGNORECASE)
STOP_GRACE = 0.5
STOP_WAIT = 1.0


def worker_environment(cpus: int) -> dict[str, str]:
    """The kernel's environment minus credentials, with thread pools and the GPU probe tamed."""
    env = {name: value for name, value in os.environ.items() if not _SECRET_NAME.search(name)}
    for name in THREAD_VARIABLES:
        env[name] = str(cpus)
    # Idle OpenMP threads sleep instead of spinning: on a shared machine spinning threads
    # wait for cores other processes hold, and LightGBM slows down tenfold.
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["MALLOC_ARENA_MAX"] = "2"  # each glibc arena reserves address space RLIMIT_AS counts
    env["CUDA_VISIBLE_DEVICES"] = ""  # nothing probes for a GPU we do not use
    env["PYTHONWARNINGS"] = "ignore"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_members(pgid: int) -> list[psutil.Process]:
    """Live processes (not zombies) of process group ``pgid``."""
    found = []
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) == pgid:
                process = psutil.Process(pid)
                if _alive(process):
                    found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return found


class ProcessGroup:
    """A worker started in its own session, and the processes it started."""

    def __init__(
        self, argv: list[str], *, cwd: Path, log_path: Path | None, env: dict[str, str]
    ) -> None:
        """Start ``argv``; output to ``log_path``, or (a standby) nowhere and stdin a pipe."""
        with contextlib.ExitStack() as stack:
            log = (
                stack.enter_context(open(log_path, "ab"))
                if log_path is not None
                else subprocess.DEVNULL
            )
            self.process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL if log_path is not None else subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        self.pgid = self.process.pid
        self.descendants: dict[int, psutil.Process] = {}

    def hand_over(self, run_dir: Path) -> bool:
        """Give a standby worker its run (it reads the directory from its stdin).

        False when the standby is gone, so the caller starts a fresh worker.
        """
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{run_dir}\n".encode())
            self.process.stdin.close()
        except BrokenPipeError:
            return False
        return True

    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def pid(self) -> int:
        return self.process.pid

    def track(self) -> None:
        """Remember the worker's current descendants, wherever their group is."""
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.pid).children(recursive=True):
                self.descendants.setdefault(child.pid, child)

    def members(self) -> list[psutil.Process]:
        """Live processes of the run: its group and the descendants seen."""
        found = {p.pid: p for p in group_members(self.pgid)}
        for pid, process in self.descendants.items():
            if pid not in found and _alive(process):
                found[pid] = process
        return list(found.values())

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)
        for process in self.descendants.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signum)

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL what is left after a grace, and reap the worker."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()  # a standby reads end-of-file and exits anyway
        if self.process.poll() is None:
            self.track()
        self._signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(self.members(), timeout=STOP_GRACE)
        if alive:
            self._signal(signal.SIGKILL)
            psutil.wait_procs(alive, timeout=STOP_WAIT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_WAIT)

    def reap_stragglers(self) -> None:
        """After the worker exited by itself: kill anything it left behind."""
        leftover = self.members()
        if leftover:
            self._signal(signal.SIGKILL)
            psutil.wait_procs(leftover, timeout=STOP_WAIT)

    def wait(self, timeout: float) -> int | None:
        """The worker's exit status, or None if it is still running after ``timeout``."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
