"""The litellm Router built from the catalog, the keys and the reliability settings.

Retries with backoff on 429, 5xx and timeouts, ordered fallbacks, cooldown of a failing
deployment and the per-attempt timeout are litellm's; we only describe the
deployments. The one addition is a cap on the wait between retries
(``retry_max_wait_seconds``), so a provider's long Retry-After cannot hold a request
longer than the administrator allows.
"""

from __future__ import annotations

import functools
from typing import Any

from ..config import DSAgent
from ..exceptions import ModelNotConfigured
from .catalog import ModelCatalog
from .keys import KeyRing
from .seam import litellm

__all__ = ["build_router", "deployment_params", "provider_of"]


def provider_of(model: str) -> str:
    """The litellm provider of ``model`` (``openai`` for ``openai/gpt-4o-mini``)."""
    module = litellm()
    try:
        _, provider, _, _ = module.get_llm_provider(model=model)
    except module.BadRequestError:  # what litellm raises for a provider it does not know
        raise ModelNotConfigured(
            f"The configured model {model!r} names no provider litellm knows; write it as "
            "provider/model, for example openai/gpt-4o-mini or ollama/llama3.1."
        ) from None
    return str(provider)


def deployment_params(
    name: str, catalog: ModelCatalog, keys: KeyRing, settings: DSAgent
) -> dict[str, Any]:
    """litellm parameters of one deployment: model, base URL, key and timeouts."""
    params: dict[str, Any] = {
        "model": name,
        "timeout": settings.model_timeout_seconds,
        "stream_timeout": settings.model_timeout_seconds,
        # The Router retries; the provider SDK's own retries would multiply its count.
        "max_retries": 0,
        # A fallback of another provider may not take every OpenAI parameter (seed, ...).
        "drop_params": True,
    }
    if name in catalog.api_bases:
        params["api_base"] = catalog.api_bases[name]
    key = keys.for_provider(provider_of(name), primary=name == catalog.primary)
    if key is not None:
        params["api_key"] = key
    return params


@functools.cache
def _router_class() -> type:
    base = litellm().Router

    class CappedWaitRouter(base):  # type: ignore[misc, valid-type]
        """litellm's Router with an upper bound on the wait before a retry."""

        max_retry_wait: float = 60.0

        def _time_to_sleep_before_retry(self, *args: Any, **kwargs: Any) -> float:
            wait = super()._time_to_sleep_before_retry(*args, **kwargs)
            return float(min(wait, self.max_retry_wait))

    return CappedWaitRouter


def build_router(catalog: ModelCatalog, keys: KeyRing, settings: DSAgent) -> Any:
    """A Router over every model of ``catalog``, each falling back along the chain."""
    names = catalog.names()
    model_list = [
        {"model_name": name, "litellm_params": deployment_params(name, catalog, keys, settings)}
        for name in names
    ]
    fallbacks = [{name: chain} for name in names if (chain := catalog.fallbacks_of(name))]
    router = _router_class()(
        model_list=model_list,
        fallbacks=fallbacks,
        max_fallbacks=max(1, len(names)),
        num_retries=settings.model_retries,
        timeout=settings.model_timeout_seconds,
        stream_timeout=settings.model_timeout_seconds,
        allowed_fails=settings.cooldown_after_failures,
        cooldown_time=settings.cooldown_seconds,
    )
    router.max_retry_wait = settings.retry_max_wait_seconds
    return router
