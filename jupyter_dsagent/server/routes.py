"""The URL table of the extension, and the answer for paths that match none of it."""

from __future__ import annotations

from typing import Any

from ..exceptions import NotFoundError
from .audit import AuditHandler, AuditVerifyHandler
from .base import DSAgentHandler
from .health import HealthHandler
from .llm import ChatCompletionsHandler, ModelsHandler, UsageHandler
from .uploads import ThumbnailHandler, UploadHandler, UploadsHandler

__all__ = ["ROUTES", "UnknownPathHandler"]


class UnknownPathHandler(DSAgentHandler):
    """Anything under ``/dsagent/api`` that no route matches: a JSON 404.

    It implements no method: after authentication its ``prepare()`` answers 404 for
    every method, before any body is read. (Anonymous requests still get 403 first.)
    """

    def accepts_body(self) -> bool:
        return True  # never read: prepare() answers first

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        raise NotFoundError("There is no jupyter_dsagent endpoint at this path.")


# Ids are captured loosely ([^/]+) and checked by the handler, so a malformed id
# gets the same JSON 404 as an unknown one. Patterns are relative to base_url.
ROUTES: list[tuple[str, type[Any]]] = [
    (r"/dsagent/api/uploads", UploadsHandler),
    (r"/dsagent/api/uploads/([^/]+)", UploadHandler),
    (r"/dsagent/api/uploads/([^/]+)/thumbnail", ThumbnailHandler),
    (r"/dsagent/api/audit", AuditHandler),
    (r"/dsagent/api/audit/verify", AuditVerifyHandler),
    (r"/dsagent/api/health", HealthHandler),
    (r"/dsagent/api/llm/v1/chat/completions", ChatCompletionsHandler),
    (r"/dsagent/api/llm/v1/models", ModelsHandler),
    (r"/dsagent/api/llm/usage", UsageHandler),
    (r"/dsagent/api(?:/.*)?", UnknownPathHandler),  # last: the catch-all
]
