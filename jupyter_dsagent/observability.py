"""Logging for the ``jupyter_dsagent.*`` logger tree: JSON or text, always redacted.

Every module logs through ``logging.getLogger(__name__)``; :func:`setup_logging`
attaches one handler to the package's root logger, so level, format and the secret
filter apply to all of them. Kernels log to the process's original stderr (the
server's console), never into a notebook's output.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Any

from .redaction import redact, redact_text

__all__ = ["PACKAGE_LOGGER", "JSONFormatter", "RedactingFilter", "setup_logging"]

PACKAGE_LOGGER = "jupyter_dsagent"
_HANDLER_NAME = "jupyter_dsagent"
# LogRecord attributes that are not user-supplied ``extra`` fields.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Masks credentials in the message, its arguments and any ``extra`` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact_text(str(record.msg))
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, redact({key: value})[key])
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
            record.exc_info = None
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS:
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Configure the package logger; calling it again replaces the previous setup."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    for handler in list(logger.handlers):
        if handler.get_name() == _HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.__stderr__)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("[%(levelname)1.1s %(asctime)s %(name)s] %(message)s", "%H:%M:%S")
        )
    logger.addHandler(handler)
    logger.setLevel(level)
    # Our handler writes every line once; the root logger must not repeat it unredacted.
    logger.propagate = False
