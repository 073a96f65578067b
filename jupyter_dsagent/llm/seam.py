"""The one place litellm is imported, configured once for this project.

Importing litellm costs seconds and, unless told otherwise, fetches its model cost
map over the network; every user in the package gets it through :func:`litellm`,
which imports it on first use with the local cost map, no Hugging Face tokenizer
downloads (token counts fall back to tiktoken), no "Give Feedback" banners, and the
secret filter on litellm's own loggers, so what litellm logs, debug output included,
is masked like our own lines.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import warnings
from typing import Any

from ..observability import RedactingFilter

__all__ = ["LITELLM_LOGGERS", "close_async_resources", "close_sync_clients", "litellm"]

#: The loggers litellm writes to (its core, the Router, and the proxy code it ships).
LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


@functools.cache
def litellm() -> Any:
    """The litellm module, imported and configured on first call."""
    # Without this, importing litellm fetches its model cost map over the network.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # litellm's types make pydantic warn about TypedDict qualifiers while it imports:
    # noise for the people reading the server log, and an error where warnings are.
    warnings.filterwarnings(
        "ignore",
        message=r"Items? .* on TypedDict class .* `ReadOnly` qualifier",
        category=UserWarning,
    )
    # litellm reads pydantic's model_fields (and the like) from instances in responses;
    # pydantic 2.11 warns each time, into a notebook when the kernel calls directly.
    warnings.filterwarnings(
        "ignore",
        message=r"Accessing the 'model_\w+' attribute on the instance is deprecated",
        module=r"litellm\.",
    )
    import litellm as module

    module.suppress_debug_info = True
    # A model name containing "llama-3" would otherwise download a tokenizer from the
    # Hugging Face hub in the middle of a request.
    module.disable_hf_tokenizer_download = True
    _mask_litellm_logs()
    return module


def _mask_litellm_logs() -> None:
    """Put the secret filter on litellm's loggers and on the handlers it attached."""
    redacting = RedactingFilter()
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        logger.addFilter(redacting)
        for handler in logger.handlers:
            handler.addFilter(redacting)


def close_sync_clients() -> None:
    """Close the synchronous HTTP clients litellm cached (the direct path's), so none is
    left for the garbage collector to find with its socket open."""
    cache = litellm().in_memory_llm_clients_cache
    for key, client in list(cache.cache_dict.items()):
        close = getattr(client, "close", None)
        if close is not None and not inspect.iscoroutinefunction(close):
            with contextlib.suppress(Exception):
                close()
            cache.cache_dict.pop(key, None)


async def close_async_resources() -> None:
    """Close what litellm keeps for the running event loop (its cached HTTP clients and
    its logging worker) and the synchronous clients too: a server stopping, or a loop
    ending, must leave no connection open."""
    module = litellm()
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await GLOBAL_LOGGING_WORKER.stop()
    await module.close_litellm_async_clients()
    close_sync_clients()
    module.in_memory_llm_clients_cache.flush_cache()
