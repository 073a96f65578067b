"""The server extension application: validates settings, opens the runtime, the ingestor
and the model gateway at start, registers the HTTP routes and closes them at stop.

The gateway's hand-over to kernels happens here: the provider keys leave the server's
environment (``keep_keys_from_kernels``) and the gateway's URL and token enter it, so
every kernel or terminal the server starts from then on inherits the latter only.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from ..config import load_config
from ..datadir import reachable_by_contents
from ..exceptions import DataDirError, DSAgentError
from ..ingest import Ingestor, Limits
from ..llm import KernelEnvironment, LLMService, open_service
from ..llm.metrics import llm_metrics
from ..redaction import register_secret
from ..runtime import Runtime, start_runtime
from ..throttle import ConcurrencyLimit, RateLimiter
from .routes import ROUTES

__all__ = ["DSAgentExtension"]


class DSAgentExtension(ExtensionApp):
    """jupyter_dsagent inside Jupyter Server; settings come from ``c.DSAgent`` and env."""

    name = "jupyter_dsagent"
    description = "Safe uploads, audit log and LLM gateway for the jupyter_dsagent agent."

    runtime: Runtime | None = None
    ingestor: Ingestor | None = None
    llm: LLMService | None = None
    kernel_env: KernelEnvironment | None = None
    gateway_token: str = ""

    def initialize_settings(self) -> None:
        try:
            settings = load_config(parent=self)
            data_dir = Path(settings.data_dir).expanduser()
            serverapp = self.serverapp
            assert serverapp is not None, "initialize_settings runs after linking to the server"
            root_dir = Path(serverapp.root_dir)
            allow_hidden = bool(getattr(serverapp.contents_manager, "allow_hidden", False))
            if reachable_by_contents(data_dir, root_dir, allow_hidden=allow_hidden):
                raise DataDirError(
                    f"The data directory {data_dir} is inside the notebook root "
                    f"{root_dir} and visible to the file browser; "
                    "set DSAgent.data_dir to a hidden path or one outside the root."
                )
            self.runtime = runtime = start_runtime(settings, process="server")
            self.ingestor = Ingestor(runtime.data, Limits.from_settings(settings), runtime.audit)
            # No upload can be in flight yet: clear what an interrupted one left behind.
            self.ingestor.sweep()
            self._open_gateway(runtime)
        except DSAgentError as exc:
            # One sentence for the person reading the console; the server decides
            # (reraise_server_extension_failures) whether this stops it.
            self.log.error("jupyter_dsagent is disabled: %s", exc.message)
            raise
        self.settings.update(
            dsagent_runtime=runtime,
            dsagent_ingestor=self.ingestor,
            dsagent_rate_limiter=RateLimiter(settings.requests_per_minute_per_user),
            dsagent_upload_slots=ConcurrencyLimit(settings.max_concurrent_uploads_per_user),
            dsagent_llm=self.llm,
            dsagent_gateway_token=self.gateway_token,
        )

    def _open_gateway(self, runtime: Runtime) -> None:
        """Hold the provider keys, build the gateway and offer it to future kernels."""
        settings = runtime.settings
        self.kernel_env = KernelEnvironment(os.environ)
        keys = self.kernel_env.take_keys(remove=settings.keep_keys_from_kernels)
        self.llm = open_service(
            settings, runtime.audit, runtime.data.root, keys, metrics=llm_metrics()
        )
        # Valid for /dsagent/api/llm/* only, and only while this server runs.
        self.gateway_token = secrets.token_urlsafe(32)
        register_secret(self.gateway_token)
        self._offer_gateway()
        if self.llm.catalog.configured:
            # Importing litellm takes seconds: do it now, off the event loop.
            threading.Thread(target=self._warm_up, name="dsagent-llm-warm-up", daemon=True).start()

    def _offer_gateway(self) -> None:
        serverapp = self.serverapp
        assert serverapp is not None and self.kernel_env is not None
        if serverapp.sock:
            self.log.warning(
                "jupyter_dsagent: the server listens on a Unix socket, which kernels cannot "
                "reach over HTTP; they will call models directly, without the server's keys."
            )
            return
        self.kernel_env.offer_gateway(gateway_url(serverapp), self.gateway_token)

    def _warm_up(self) -> None:
        assert self.llm is not None
        try:
            self.llm.warm_up()
        except DSAgentError as exc:
            self.log.error("jupyter_dsagent: the model gateway cannot call models: %s", exc.message)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """The server is bound now: give kernels the port it really got."""
        if self.kernel_env is not None:
            self._offer_gateway()

    def initialize_handlers(self) -> None:
        # ExtensionApp prefixes each pattern with the server's base_url.
        self.handlers.extend(ROUTES)

    async def stop_extension(self) -> None:
        """Stop the sandbox's worker processes and close the databases."""
        if self.ingestor is not None:
            self.ingestor.close()
            self.ingestor = None
        if self.llm is not None:
            await self.llm.aclose()
            self.llm = None
        if self.kernel_env is not None:
            self.kernel_env.restore()
            self.kernel_env = None
        if self.runtime is not None:
            self.runtime.audit.close()


def gateway_url(serverapp: Any) -> str:
    """The gateway's OpenAI base URL as a kernel on this machine reaches it."""
    host = serverapp.ip
    if host in ("", "0.0.0.0", "*", "localhost"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if serverapp.certfile else "http"
    path = url_path_join(serverapp.base_url, "dsagent/api/llm/v1")
    return f"{scheme}://{host}:{serverapp.port}{path}"
