"""A real ``jupyter server`` subprocess with jupyter_dsagent, for load, fault and benchmark runs.

Unlike the pytest-jupyter fixtures in ``conftest.py`` (an in-process server), this is a
separate process in its own process group, so it can be measured (``/proc`` RSS) and
killed (SIGKILL mid-upload) like a real deployment. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .wire import CONTENT_TYPE, FORM_TAIL, file_head

__all__ = [
    "LiveServer",
    "Uploaded",
    "csv_block",
    "csv_stream",
    "free_port",
    "live_server",
    "rss_kib",
    "stream_size",
]

START_SECONDS = 60.0
STOP_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) of ``pid``, in KiB, from ``/proc``."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


ROW_BYTES = 32  # "dddddddd,dddddddddd,dddddddddddd\n"
HEADER = b"key,left,right\n"


def csv_rows(seed: int, size: int) -> np.ndarray:
    """Fixed-width CSV rows of random digits (``size // ROW_BYTES`` of them) as a
    ``(rows, ROW_BYTES)`` uint8 array; different for every seed."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(ord("0"), ord("9") + 1, size=(size // ROW_BYTES, ROW_BYTES), dtype=np.uint8)
    rows[:, 8] = rows[:, 19] = ord(",")
    rows[:, -1] = ord("\n")
    return rows


def csv_block(seed: int, size: int) -> bytes:
    """About ``size`` bytes of valid CSV: a header, then rows of random digits."""
    return HEADER + csv_rows(seed, size - len(HEADER)).tobytes()


def csv_stream(size: int, block_bytes: int = 1_000_000, seed: int = 0) -> Iterator[bytes]:
    """About ``size`` bytes of valid CSV made cheaply: one random block of rows repeated,
    each copy with its number in the first column so no two rows repeat.

    The total is ``len(HEADER)`` plus whole blocks: see :func:`stream_size`."""
    rows = csv_rows(seed, block_bytes)
    yield HEADER
    for index in range(size // len(rows.tobytes())):
        # Eight digits of the block number lead each row of this copy.
        rows[:, :8] = np.frombuffer(f"{index:08d}".encode(), dtype=np.uint8)
        yield rows.tobytes()


def stream_size(size: int, block_bytes: int = 1_000_000) -> int:
    """How many bytes :func:`csv_stream` yields for these arguments."""
    block = (block_bytes // ROW_BYTES) * ROW_BYTES
    return len(HEADER) + (size // block) * block


@dataclass
class Uploaded:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LiveServer:
    """A running server: its process, port, token and data directory."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    data_dir: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def connection(self, timeout: float = 120.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def get_json(self, path: str) -> tuple[int, Any]:
        conn = self.connection(timeout=30.0)
        try:
            conn.request("GET", path, headers=self.auth)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def upload(
        self, filename: str, pieces: Iterable[bytes], size: int, timeout: float = 300.0
    ) -> Uploaded:
        """POST a one-file form whose file part is ``pieces`` (``size`` bytes in all),
        streamed with a Content-Length, never held whole in memory."""
        head = file_head(filename)
        conn = self.connection(timeout=timeout)
        try:
            conn.putrequest("POST", "/dsagent/api/uploads")
            for name, value in {
                **self.auth,
                "Content-Type": CONTENT_TYPE,
                "Content-Length": str(len(head) + size + len(FORM_TAIL)),
            }.items():
                conn.putheader(name, value)
            conn.endheaders()
            conn.send(head)
            for piece in pieces:
                conn.send(piece)
            conn.send(FORM_TAIL)
            response = conn.getresponse()
            body = json.loads(response.read() or b"null")
            return Uploaded(response.status, body, dict(response.getheaders()))
        finally:
            conn.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the whole process group (server and sandbox workers); SIGKILL if slow."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_SECONDS)
        # Sandbox workers share the group; make sure none outlives the server.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _environment(home: Path, data_dir: Path, settings: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DSAGENT_", "JUPYTER_")) and not key.endswith("_API_KEY")
    }
    for name in ("config", "data", "runtime"):
        (home / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        DSAGENT_DATA_DIR=str(data_dir),
        DSAGENT_LOG_LEVEL="WARNING",
        **settings,
    )
    return env


def start(home: Path, data_dir: Path, settings: Mapping[str, str] | None = None) -> LiveServer:
    """Start a server on a free loopback port; return once ``/api/status`` answers."""
    token = secrets.token_hex(16)
    port = free_port()
    root = home / "notebooks"
    root.mkdir(parents=True, exist_ok=True)
    log_path = home / f"server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.token={token}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.jpserver_extensions={'jupyter_dsagent': True}",
        "--ServerApp.reraise_server_extension_failures=True",
        "--allow-root",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            env=_environment(home, data_dir, settings or {}),
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
    server = LiveServer(process, port, token, data_dir, log_path)
    try:
        _wait_ready(server)
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    return server


def _wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited at start:\n{server.log_text()[-4000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            status, _ = server.get_json("/api/status")
            if status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"the server did not answer in {START_SECONDS} s:\n{server.log_text()}")


@contextlib.contextmanager
def live_server(
    home: Path, data_dir: Path, settings: Mapping[str, str] | None = None
) -> Iterator[LiveServer]:
    """``start`` a server and stop its process group on the way out, whatever happens."""
    server = start(home, data_dir, settings)
    try:
        yield server
    finally:
        server.stop()
