"""Fixtures for the agent's tests: a real kernel driven by nbclient, one per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode


class NotebookSession:
    """A real IPython kernel executing cells appended to one notebook, as a person would.

    ``run`` executes a new cell and returns it with its outputs; a cell that raises
    fails the test unless ``allow_error`` is set. Every cell is kept, so the notebook
    can be validated (and read) at the end.
    """

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.notebook = nbformat.v4.new_notebook()
        self.client = NotebookClient(
            self.notebook,
            kernel_name="python3",
            timeout=300,
            resources={"metadata": {"path": str(workdir)}},
        )
        self._kernel = self.client.setup_kernel(env=env)
        self._kernel.__enter__()

    def run(self, source: str, *, allow_error: bool = False) -> NotebookNode:
        cell = nbformat.v4.new_code_cell(source)
        if allow_error:
            cell.metadata["tags"] = ["raises-exception"]
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        return cell

    def close(self) -> None:
        self._kernel.__exit__(None, None, None)
        nbformat.validate(self.notebook)


def kernel_environment(root: Path) -> dict[str, str]:
    """The test process's environment minus settings and keys, with private data and
    config directories under ``root`` and the inline matplotlib backend."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DSAGENT_") and not key.endswith("_API_KEY")
    }
    for name in ("data", "config", "ipython", "jupyter_data"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env.update(
        DSAGENT_DATA_DIR=str(root / "data" / "dsagent"),
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_DATA_DIR=str(root / "jupyter_data"),
        IPYTHONDIR=str(root / "ipython"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    return env


@pytest.fixture(scope="module")
def notebook_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookSession]:
    """One real kernel for the whole test module (starting kernels is the slow part)."""
    root = tmp_path_factory.mktemp("kernel")
    workdir = root / "work"
    workdir.mkdir()
    session = NotebookSession(workdir, kernel_environment(root))
    yield session
    session.close()
