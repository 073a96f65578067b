"""Logging for the ``jupyter_dsagent.*`` logger tree, and the server's Prometheus metrics.

Every module logs through ``logging.getLogger(__name__)``; :func:`setup_logging`
attaches one handler to the package's root logger, so level, format and the secret
filter apply to all of them. Kernels log to the process's original stderr (the
server's console), never into a notebook's output.

:func:`metrics` registers our collectors on prometheus_client's default registry, the
one Jupyter Server's ``/metrics`` endpoint serves. It imports prometheus_client on
first use only, so ``%load_ext`` in a kernel does not pay for it.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .redaction import redact, redact_text

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from prometheus_client.metrics import MetricWrapperBase

__all__ = [
    "PACKAGE_LOGGER",
    "JSONFormatter",
    "Metrics",
    "RedactingFilter",
    "metrics",
    "setup_logging",
]

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


# -- metrics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    """The collectors the HTTP handlers update."""

    uploads: Counter  # labels: kind, outcome (accepted | rejected)
    upload_bytes: Counter
    upload_rejections: Counter  # labels: code
    request_seconds: Histogram  # labels: route (the pattern, not the path), method


# Uploads can take minutes, so the default buckets (up to 10 s) get a longer tail.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
_metrics: Metrics | None = None
_metrics_lock = threading.Lock()
_C = TypeVar("_C", bound="MetricWrapperBase")


def _registered(kind: type[_C], name: str, documentation: str, **kwargs: Any) -> _C:
    """The collector registered under ``name``, created only if there is none yet.

    prometheus_client refuses a second collector with the same name; a reloaded module
    (or a second server in one test process) must reuse the first one instead.
    """
    from prometheus_client import REGISTRY

    existing = REGISTRY._names_to_collectors.get(name)
    if existing is None:
        return kind(name, documentation, **kwargs)
    if not isinstance(existing, kind):
        raise TypeError(f"the metric {name} is already registered as {type(existing).__name__}")
    return existing


def metrics() -> Metrics:
    """The process's metrics, registered on the default Prometheus registry on first call."""
    global _metrics
    with _metrics_lock:
        if _metrics is None:
            from prometheus_client import Counter, Histogram

            _metrics = Metrics(
                uploads=_registered(
                    Counter,
                    "dsagent_uploads_total",
                    "Uploads that reached the server, by kind and outcome.",
                    labelnames=("kind", "outcome"),
                ),
                upload_bytes=_registered(
                    Counter,
                    "dsagent_upload_bytes_total",
                    "File bytes received by the upload endpoint, accepted or not.",
                ),
                upload_rejections=_registered(
                    Counter,
                    "dsagent_upload_rejections_total",
                    "Refused uploads, by stable error code.",
                    labelnames=("code",),
                ),
                request_seconds=_registered(
                    Histogram,
                    "dsagent_request_seconds",
                    "Time to answer a jupyter_dsagent HTTP request, by route and method.",
                    labelnames=("route", "method"),
                    buckets=_REQUEST_BUCKETS,
                ),
            )
        return _metrics
