"""Health endpoint: component checks, 503 when a required one fails."""

from __future__ import annotations

import functools
import json

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.ioloop import IOLoop

from ..health import check_health
from ..models import ErrorDetail
from .base import HEALTH_RESOURCE, DSAgentHandler

__all__ = ["HealthHandler"]


class HealthHandler(DSAgentHandler):
    """``GET``: ``{"ok", "checks": {name: {"ok", "detail", "required"}}}``.

    A 503 also carries the usual ``error`` member, so clients that only look for
    the error body on a 5xx still find one.
    """

    auth_resource = HEALTH_RESOURCE
    route = "/dsagent/api/health"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        runtime = self.runtime
        run = functools.partial(
            check_health,
            runtime.data,
            runtime.audit,
            min_free_bytes=runtime.settings.min_free_disk_bytes,
            model=runtime.settings.model,
            # The gateway holds the keys it found (they may be gone from os.environ).
            environ=dict.fromkeys(self.settings["dsagent_llm"].keys.names(), "set"),
        )
        # The checks touch the disk and SQLite, which may wait on a lock.
        health = await IOLoop.current().run_in_executor(None, run)
        body = health.to_dict()
        if not health.ok:
            failed = [n for n, c in health.checks.items() if c.required and not c.ok]
            body["error"] = ErrorDetail(
                code="unhealthy", message=f"Failing checks: {', '.join(failed)}."
            ).model_dump()
            self.set_status(503)
        self.finish(json.dumps(body))
