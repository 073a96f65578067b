"""What ``%load_ext jupyter_dsagent`` does in a kernel."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..config import load_config, read_jupyter_config
from ..exceptions import DSAgentError
from ..runtime import start_runtime
from .comm import register as register_comm
from .magics import DSAgentMagics
from .session import session_for

__all__ = ["load"]


def load(ipython: Any) -> None:
    """Validate settings, open the runtime, register ``%dsagent`` and the sidebar's comm.

    A bad setting is shown as one sentence (a UsageError), not a traceback.
    """
    try:
        config, origins = read_jupyter_config()
        runtime = start_runtime(
            load_config(config=config, config_origins=origins), process="kernel"
        )
    except DSAgentError as exc:
        raise UsageError(f"jupyter_dsagent cannot start: {exc.message}") from None
    session = session_for(ipython, runtime)
    ipython.register_magics(DSAgentMagics(ipython, runtime=runtime, session=session))
    register_comm(ipython, session)
