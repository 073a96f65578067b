"""The notebook's Python API: ``import jupyter_dsagent as dsa; dsa.load("sales.csv")``.

Settings come from the same Jupyter config files and environment as the server's,
so a kernel enforces the same limits and writes to the same catalog and audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import load_config, read_jupyter_config
from .ingest import Ingestor, ingestor_for
from .ingest.load import load as load_upload
from .models import UploadRecord
from .runtime import current_user

__all__ = ["ask", "load", "uploads"]


def _ingestor() -> Ingestor:
    config, origins = read_jupyter_config()
    return ingestor_for(load_config(config=config, config_origins=origins))


def load(name_or_id: str | Path) -> Any:
    """Load an upload as a DataFrame (tables) or a cleaned PIL image (images).

    ``name_or_id`` is an upload id, an upload's name (a ZIP member's path counts), or
    a file in the working directory, which is validated like an upload before it is
    read: being in the workspace is never taken as safe.

    Raises
    ------
    NotFoundError
        Nothing of that name.
    IngestError
        The file was refused; ``.code`` and ``.message`` say why.
    """
    return load_upload(name_or_id, ingestor=_ingestor(), actor=current_user())


def uploads(limit: int = 100) -> list[UploadRecord]:
    """The newest uploads, archives with their members."""
    return _ingestor().catalog.list(limit=limit)


def ask(question: str) -> Any:
    """Ask the agent about the DataFrames in this notebook; returns the ``Answer``.

    In a notebook it shares the conversation with ``%dsagent ask`` and the sidebar.
    The answer displays as Markdown with its suggested cells; nothing is run.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("dsa.ask needs IPython or a Jupyter kernel; run it in a notebook.")
    from .kernel.session import session_for

    return session_for(shell).ask(question)
