"""The model gateway over HTTP: an OpenAI-compatible endpoint in front of litellm's Router.

``POST /dsagent/api/llm/v1/chat/completions`` (streamed as server-sent events when the
request says ``"stream": true``), ``GET /dsagent/api/llm/v1/models`` and
``GET /dsagent/api/llm/usage``. The handlers only parse, call
:class:`~jupyter_dsagent.llm.LLMService` and render: policy, limits, budgets and audit
live there, so a kernel calling models without a server obeys the same rules.

Two credentials open these endpoints (and only these): Jupyter's own authentication,
and the gateway token the server generates at start and gives the kernels it starts
as ``DSAGENT_GATEWAY_TOKEN``. A request bearing the gateway token acts as the user the
server runs for and is authorized for ``jupyter_dsagent:llm`` and nothing else, so a
kernel never needs Jupyter's token, which would open the whole server API.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth import Authorizer, User
from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from ..exceptions import BadRequest, BudgetExhausted, DSAgentError, UploadTooLarge
from ..ingest.quarantine import human_bytes
from ..llm import LLMService, Route
from ..runtime import current_user
from .base import LLM_RESOURCE, DSAgentHandler

__all__ = ["ChatCompletionsHandler", "GatewayHandler", "ModelsHandler", "UsageHandler"]

_BEARER_SCHEMES = frozenset({"bearer", "token"})
_BODY_SLACK_BYTES = 64 * 1024


class GatewayTokenAuthorizer(Authorizer):
    """What the gateway token may do: use the model gateway, nothing else."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource == LLM_RESOURCE


_GATEWAY_TOKEN_AUTHORIZER = GatewayTokenAuthorizer()


class GatewayHandler(DSAgentHandler):
    """Base of the gateway's handlers: Jupyter's authentication, or the gateway token."""

    auth_resource = LLM_RESOURCE
    _via_gateway_token = False

    @property
    def llm(self) -> LLMService:
        service: LLMService = self.settings["dsagent_llm"]
        return service

    @property
    def authorizer(self) -> Authorizer:
        if self._via_gateway_token:
            return _GATEWAY_TOKEN_AUTHORIZER
        return super().authorizer

    async def prepare(self) -> None:  # type: ignore[override]
        if not self._bears_gateway_token():
            await super().prepare()  # Jupyter's checks: identity, XSRF, origin
            return
        if not self.check_host():  # the DNS-rebinding guard applies to every credential
            raise web.HTTPError(403)
        self.current_user = self._jupyter_current_user = User(username=current_user())
        self._via_gateway_token = self._identity_checked = True
        self.rate_limiter.acquire(self.username)
        if not self.accepts_body():
            self._refuse_body()

    def _bears_gateway_token(self) -> bool:
        """True when ``Authorization: Bearer <gateway token>`` (or ``token …``) is sent.

        Only the header counts: tokens in URLs end up in logs.
        """
        expected: str = self.settings.get("dsagent_gateway_token") or ""
        scheme, _, credential = self.request.headers.get("Authorization", "").partition(" ")
        if not expected or scheme.lower() not in _BEARER_SCHEMES:
            return False
        return hmac.compare_digest(credential.strip().encode(), expected.encode())

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, BudgetExhausted) and exc.retry_after is not None:
            self.set_header("Retry-After", str(max(1, math.ceil(exc.retry_after))))
        super().write_error(status_code, **kwargs)

    def set_route_headers(self, route: Route) -> None:
        for name, value in route.headers().items():
            self.set_header(name, value)


class ChatCompletionsHandler(GatewayHandler):
    """``POST``: OpenAI chat completions, plain or streamed, tool calls passed through."""

    route = "/dsagent/api/llm/v1/chat/completions"

    _body: bytearray
    _client_gone = False

    def accepts_body(self) -> bool:
        return self.request.method == "POST"

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.request.method != "POST":
            return
        # Authorized on the headers alone, like uploads: nobody's body is read for nothing.
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "write", self.auth_resource)
        )
        if not allowed:
            raise web.HTTPError(
                403, f"User is not authorized to write on resource: {self.auth_resource}."
            )
        limit = self.llm.settings.max_gateway_body_bytes
        declared = self.request.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise UploadTooLarge(self._too_large_message(limit))
        # Tornado's own cap is the backstop behind ours, which answers in JSON.
        self.request.connection.set_max_body_size(limit + _BODY_SLACK_BYTES)  # type: ignore[union-attr]
        self._body = bytearray()

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._body += chunk
        limit = self.llm.settings.max_gateway_body_bytes
        if len(self._body) > limit:
            exc = UploadTooLarge(self._too_large_message(limit))
            self.log_exception(type(exc), exc, exc.__traceback__)
            self.send_error(exc.http_status, exc_info=(type(exc), exc, exc.__traceback__))

    @staticmethod
    def _too_large_message(limit: int) -> str:
        return (
            f"The request body is larger than {human_bytes(limit)}, the limit "
            "(DSAgent.max_gateway_body_bytes)."
        )

    @web.authenticated
    @authorized
    async def post(self) -> None:
        if self._finished:  # refused while the body arrived
            return
        try:
            payload = json.loads(bytes(self._body) or b"null")
        except ValueError:
            raise BadRequest("The request body is not valid JSON.") from None
        if isinstance(payload, dict) and payload.get("stream") is True:
            await self._stream(payload)
            return
        completion = await self.llm.acomplete(payload, user=self.username)
        self.set_route_headers(completion.route)
        self.finish(json.dumps(completion))

    async def _stream(self, payload: dict[str, Any]) -> None:
        stream = await self.llm.astream(payload, user=self.username)  # refusals: JSON errors
        self.set_route_headers(stream.route)
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # proxies must not hold chunks back
        try:
            async for chunk in stream:
                if self._client_gone:
                    break
                await self._send_event(chunk)
            else:
                await self._send_event("[DONE]")
        except StreamClosedError:
            self._client_gone = True
        except DSAgentError as exc:  # the stream broke after it began: tell the client
            if not self._client_gone:
                self.log_exception(type(exc), exc, exc.__traceback__)
                self.error_code = exc.code
                with contextlib.suppress(StreamClosedError):
                    await self._send_event(exc.to_dict())
                    self.finish()
                return
        finally:
            await stream.aclose()  # charges and audits what was sent if it stopped early
        if not self._client_gone:
            self.finish()

    async def _send_event(self, data: Any) -> None:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        self.write(f"data: {text}\n\n".encode())
        await self.flush()

    def on_connection_close(self) -> None:
        self._client_gone = True
        super().on_connection_close()


class ModelsHandler(GatewayHandler):
    """``GET``: the models this user may name, OpenAI's list format; empty when none is set."""

    route = "/dsagent/api/llm/v1/models"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(json.dumps(self.llm.models()))


class UsageHandler(GatewayHandler):
    """``GET``: tokens and cost by user (pseudonym) and model, and the budgets left."""

    route = "/dsagent/api/llm/usage"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        user = self.username
        await self.llm.drain()  # the charges of calls that just ended are counted
        report = await IOLoop.current().run_in_executor(
            None, lambda: self.llm.usage_report(user=user)
        )
        self.finish(json.dumps(report))
