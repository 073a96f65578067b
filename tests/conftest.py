"""Shared fixtures: every test runs with private Jupyter paths and a clean environment."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scripted_llm import ScriptedLLM

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(autouse=True)
def isolated_environment(jp_environ: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No DSAGENT_* setting or provider key from the developer's shell leaks into a test."""
    for var in list(os.environ):
        if var.startswith("DSAGENT_") or var.endswith("_API_KEY"):
            monkeypatch.delenv(var)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir path that does not exist yet (DataDir.prepare creates it)."""
    return tmp_path / "private" / "dsagent"


@pytest.fixture(autouse=True)
def restore_package_logging() -> Iterator[None]:
    """Start-up code reconfigures the package logger; give the next test a clean one."""
    logger = logging.getLogger("jupyter_dsagent")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def scripted_llm() -> Iterator[ScriptedLLM]:
    """A started OpenAI-compatible server on 127.0.0.1 that answers from a script."""
    with ScriptedLLM() as llm:
        yield llm
