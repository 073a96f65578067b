"""The only importer of litellm: the model gateway's library, and token counting.

:class:`LLMService` applies the model policy, token limit, budgets, rate limit and
audit to every model call and makes it through litellm's Router; the server's HTTP
gateway and a kernel without a server (:func:`direct_service`) both use it. litellm
is imported lazily (see :mod:`.seam`), so importing this package stays cheap.
"""

from __future__ import annotations

from jupyter_dsagent.llm.factory import direct_service, open_service
from jupyter_dsagent.llm.kernel_env import (
    GATEWAY_TOKEN_VARIABLE,
    GATEWAY_URL_VARIABLE,
    KernelEnvironment,
)
from jupyter_dsagent.llm.keys import KeyRing
from jupyter_dsagent.llm.responses import Completion, Route
from jupyter_dsagent.llm.service import LLMService
from jupyter_dsagent.llm.streaming import AsyncStream, Stream
from jupyter_dsagent.llm.tokens import count_prompt_tokens, count_tokens
from jupyter_dsagent.llm.usage import UsageStore

__all__ = [
    "GATEWAY_TOKEN_VARIABLE",
    "GATEWAY_URL_VARIABLE",
    "AsyncStream",
    "Completion",
    "KernelEnvironment",
    "KeyRing",
    "LLMService",
    "Route",
    "Stream",
    "UsageStore",
    "count_prompt_tokens",
    "count_tokens",
    "direct_service",
    "open_service",
]
