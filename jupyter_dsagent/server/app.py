"""The server extension application: validates settings, opens the runtime and the
ingestor at start, registers the HTTP routes and closes the sandbox at stop."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.extension.application import ExtensionApp

from ..config import load_config
from ..datadir import reachable_by_contents
from ..exceptions import DataDirError, DSAgentError
from ..ingest import Ingestor, Limits
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
        )

    def initialize_handlers(self) -> None:
        # ExtensionApp prefixes each pattern with the server's base_url.
        self.handlers.extend(ROUTES)

    async def stop_extension(self) -> None:
        """Stop the sandbox's worker processes and close the databases."""
        if self.ingestor is not None:
            self.ingestor.close()
            self.ingestor = None
        if self.runtime is not None:
            self.runtime.audit.close()
