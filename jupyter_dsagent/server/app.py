"""The server extension application: validates settings and opens the runtime at start."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.extension.application import ExtensionApp

from ..config import load_config
from ..datadir import reachable_by_contents
from ..exceptions import DataDirError, DSAgentError
from ..runtime import Runtime, start_runtime

__all__ = ["DSAgentExtension"]


class DSAgentExtension(ExtensionApp):
    """jupyter_dsagent inside Jupyter Server; settings come from ``c.DSAgent`` and env."""

    name = "jupyter_dsagent"
    description = "Safe uploads, audit log and LLM gateway for the jupyter_dsagent agent."

    runtime: Runtime | None = None

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
            self.runtime = start_runtime(settings, process="server")
        except DSAgentError as exc:
            # One sentence for the person reading the console; the server decides
            # (reraise_server_extension_failures) whether this stops it.
            self.log.error("jupyter_dsagent is disabled: %s", exc.message)
            raise
        self.settings["dsagent_runtime"] = self.runtime
