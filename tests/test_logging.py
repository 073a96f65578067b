"""Logs: one logger tree, JSON or text, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from jupyter_dsagent.observability import PACKAGE_LOGGER, setup_logging

FAKE_KEY = "sk-" + "live" + "X" * 30


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(PACKAGE_LOGGER)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield stream
    logger.handlers[:], logger.level, logger.propagate = saved


def test_json_lines_carry_time_level_logger_message_and_extras(captured: io.StringIO) -> None:
    setup_logging("INFO", "json", stream=captured)
    logging.getLogger("jupyter_dsagent.audit").info("appended %d records", 3, extra={"run": "r1"})
    logging.getLogger("jupyter_dsagent.audit").debug("not shown at INFO")
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO"
    assert entry["logger"] == "jupyter_dsagent.audit"
    assert entry["message"] == "appended 3 records"
    assert entry["run"] == "r1"
    assert entry["time"].endswith("Z")


def test_text_format(captured: io.StringIO) -> None:
    setup_logging("DEBUG", "text", stream=captured)
    logging.getLogger("jupyter_dsagent.x").debug("hello")
    assert captured.getvalue().rstrip().endswith("jupyter_dsagent.x] hello")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_secrets_are_masked_in_messages_args_extras_and_tracebacks(
    captured: io.StringIO, fmt: str
) -> None:
    setup_logging("INFO", fmt, stream=captured)
    log = logging.getLogger("jupyter_dsagent.llm")
    log.info("calling with key %s", FAKE_KEY)
    log.info("header", extra={"authorization": f"Bearer {FAKE_KEY}", "url": "https://u:pw12345@h/"})
    try:
        raise RuntimeError(f"provider said: invalid key {FAKE_KEY}")
    except RuntimeError:
        log.exception("call failed")
    output = captured.getvalue()
    assert "X" * 30 not in output
    assert "pw12345" not in output
    assert "call failed" in output and "RuntimeError" in output


def test_setup_twice_does_not_duplicate_lines(captured: io.StringIO) -> None:
    setup_logging("INFO", "text", stream=captured)
    setup_logging("INFO", "text", stream=captured)
    logging.getLogger("jupyter_dsagent").info("once")
    assert captured.getvalue().count("once") == 1


def test_package_modules_log_under_the_package_tree() -> None:
    import jupyter_dsagent.config
    import jupyter_dsagent.datadir
    import jupyter_dsagent.runtime

    for module in (jupyter_dsagent.config, jupyter_dsagent.datadir, jupyter_dsagent.runtime):
        assert module.log.name.startswith(PACKAGE_LOGGER + ".")
