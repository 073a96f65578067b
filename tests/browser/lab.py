"""A real JupyterLab in a subprocess, with private Jupyter folders, for the browser tests.

Each server gets its own config, data, runtime, settings, workspaces, IPython and
jupyter_dsagent data folders under one temporary directory, so nothing from the
developer's machine (or another test module) leaks in. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

__all__ = ["KERNELSPEC", "Lab", "start_lab"]

START_SECONDS = 120.0
STOP_SECONDS = 15.0
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Lab:
    """A running JupyterLab (or Notebook 7): where it listens, its token and its folders."""

    app: str
    url: str
    token: str
    root: Path
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    _log: Any = field(repr=False, default=None)

    def notebook(self, name: str, cells: list[str] | None = None) -> str:
        """Write a notebook (with a kernelspec, so no kernel dialog) and return its lab URL."""
        notebook = new_notebook(
            metadata={"kernelspec": dict(KERNELSPEC)},
            cells=[new_code_cell(source) for source in (cells or ["x = 1"])],
        )
        nbformat.validate(notebook)
        nbformat.write(notebook, self.root / name)
        if self.app == "notebook":
            return f"{self.url}notebooks/{name}?token={self.token}"
        # ?reset: start from an empty workspace, not the notebooks earlier tests left open.
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the server's REST API with the token; the decoded JSON reply (or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self) -> None:
        """Stop every session's kernel, so tests do not pile up kernels on shared CPUs."""
        for session in self.api("GET", "api/sessions"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"api/sessions/{session['id']}")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_SECONDS)
        if self._log is not None:
            self._log.close()


def _clean_environment(base: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DSAGENT_", "JUPYTER", "IPYTHON"))
        and not key.endswith("_API_KEY")
        and key != "PYTHONPATH"
    }
    folders = {
        "HOME": "home",
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
        "DSAGENT_DATA_DIR": "dsagent",
    }
    for variable, name in folders.items():
        path = base / name
        path.mkdir(parents=True, exist_ok=True)
        env[variable] = str(path)
    (base / "dsagent").chmod(0o700)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _quiet_settings(settings: Path) -> None:
    """No news pop-up: it would cover the panel in screenshots and steal clicks."""
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"}), encoding="utf-8"
    )


_APP_OPTIONS = {
    "jupyterlab": [
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # window.jupyterapp, so tests can wait on kernel states and run commands.
        "--LabApp.expose_app_in_browser=True",
    ],
    "notebook": ["--JupyterNotebookApp.expose_app_in_browser=True"],
}


def start_lab(
    base: Path, extra_env: Mapping[str, str] | None = None, *, app: str = "jupyterlab"
) -> Lab:
    """Start JupyterLab (``app="notebook"``: Notebook 7) in ``base``; return once
    ``/api/status`` answers."""
    base.mkdir(parents=True, exist_ok=True)
    env = _clean_environment(base, extra_env or {})
    _quiet_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    root = base / "notebooks"
    root.mkdir(exist_ok=True)
    port, token = _free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/"
    log_path = base / "jupyterlab.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            app,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            "--allow-root",
            *_APP_OPTIONS[app],
            f"--ServerApp.root_dir={root}",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lab = Lab(app, url, token, root, Path(env["DSAGENT_DATA_DIR"]), log_path, process, log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lab.stop()
            raise RuntimeError(f"JupyterLab exited early:\n{lab.log_text()[-4000:]}")
        with contextlib.suppress(OSError):
            lab.api("GET", "api/status")
            return lab
        time.sleep(0.5)
    lab.stop()
    raise RuntimeError(
        f"JupyterLab did not answer within {START_SECONDS} s:\n{lab.log_text()[-4000:]}"
    )
