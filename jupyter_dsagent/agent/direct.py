"""The model client for a kernel with no server: the gateway's own service, in-process.

Plain IPython has no gateway to call, so the agent uses the same ``LLMService`` the
gateway runs (same Router settings, policy, budgets, rate limit and audit), with the
provider keys of this process's environment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..exceptions import DSAgentError
from .client import ModelError, ModelReply, collect, streaming_request, usage_rows

__all__ = ["DirectClient"]


class DirectClient:
    """Calls ``LLMService.stream`` as ``user``."""

    def __init__(self, service: Any, *, user: str, model: str | None = None) -> None:
        self.service = service
        self.user = user
        self._model = model or None

    @classmethod
    def for_runtime(cls, runtime: Any, *, user: str) -> DirectClient:
        from ..llm import direct_service

        service = direct_service(runtime.settings, runtime.audit)
        return cls(service, user=user, model=runtime.settings.model)

    @property
    def model(self) -> str | None:
        if self._model is None:
            offered = self.service.models().get("data") or []
            self._model = str(offered[0]["id"]) if offered else None
        return self._model

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ModelReply:
        request = streaming_request(self.model, messages, tools)
        try:
            stream = self.service.stream(request, user=self.user)
            try:
                return collect(stream, on_delta=on_delta, cancel=cancel)
            finally:
                stream.close()
        except ModelError:
            raise
        except DSAgentError as exc:
            raise ModelError(exc.message, code=exc.code) from None

    def usage(self) -> dict[str, Any]:
        return usage_rows(self.service.usage_report(user=self.user))
