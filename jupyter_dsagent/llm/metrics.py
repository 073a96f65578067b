"""Prometheus collectors of the model gateway, on the registry Jupyter Server serves.

Every label value is bounded: ``model`` is one of the configured models or
``other``, ``outcome`` an audit outcome and ``code`` a stable error code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..observability import _registered

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

__all__ = ["LLMMetrics", "llm_metrics"]

# Model calls take from a fraction of a second to minutes.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


@dataclass(frozen=True)
class LLMMetrics:
    calls: Counter  # labels: model (the one that answered, or the one asked), outcome
    tokens: Counter  # labels: model, direction (in | out)
    cost: Counter  # labels: model; US dollars from litellm's cost map
    errors: Counter  # labels: model, code
    latency: Histogram  # labels: model; seconds from admission to the last byte

    def call(
        self,
        model: str,
        outcome: str,
        *,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cost: float = 0.0,
        seconds: float | None = None,
    ) -> None:
        self.calls.labels(model=model, outcome=outcome).inc()
        if tokens_in:
            self.tokens.labels(model=model, direction="in").inc(tokens_in)
        if tokens_out:
            self.tokens.labels(model=model, direction="out").inc(tokens_out)
        if cost:
            self.cost.labels(model=model).inc(cost)
        if seconds is not None:
            self.latency.labels(model=model).observe(seconds)

    def error(self, model: str, code: str) -> None:
        self.errors.labels(model=model, code=code).inc()


_metrics: LLMMetrics | None = None
_lock = threading.Lock()


def llm_metrics() -> LLMMetrics:
    """The process's gateway collectors, registered on first call."""
    global _metrics
    with _lock:
        if _metrics is None:
            from prometheus_client import Counter, Histogram

            _metrics = LLMMetrics(
                calls=_registered(
                    Counter,
                    "dsagent_llm_calls_total",
                    "Model calls through the gateway, by model and outcome.",
                    labelnames=("model", "outcome"),
                ),
                tokens=_registered(
                    Counter,
                    "dsagent_llm_tokens_total",
                    "Tokens of model calls, by model and direction (in, out).",
                    labelnames=("model", "direction"),
                ),
                cost=_registered(
                    Counter,
                    "dsagent_llm_cost_usd_total",
                    "Cost of model calls in US dollars (litellm's cost map), by model.",
                    labelnames=("model",),
                ),
                errors=_registered(
                    Counter,
                    "dsagent_llm_errors_total",
                    "Refused or failed model calls, by model and stable error code.",
                    labelnames=("model", "code"),
                ),
                latency=_registered(
                    Histogram,
                    "dsagent_llm_latency_seconds",
                    "Time of a model call through the gateway, by model.",
                    labelnames=("model",),
                    buckets=_LATENCY_BUCKETS,
                ),
            )
        return _metrics
