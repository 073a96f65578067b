"""Start-up shared by the server extension and the kernel extension.

Both validate the same settings, prepare the same data directory and write to the
same audit log, so a limit or a record means the same thing wherever it is applied.
"""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import dataclass

from ._version import __version__
from .audit import AuditLog
from .config import DSAgent
from .datadir import DataDir
from .observability import setup_logging

__all__ = ["Runtime", "current_user", "start_runtime"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """What every front door needs: validated settings, the data dir, the audit log."""

    settings: DSAgent
    data: DataDir
    audit: AuditLog


def current_user() -> str:
    """The person this process acts for: the hub's user name, else the OS account."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def start_runtime(settings: DSAgent, *, process: str) -> Runtime:
    """Configure logging, prepare the data dir and open the audit log.

    ``settings`` must already be validated. Writes a ``config.loaded`` record and logs
    the chain head, which the platform's log collection keeps as an outside checkpoint.
    """
    # A kernel's log lines reach the notebook under the cell; there, only warnings and
    # errors belong, unless the person chose a level.
    quiet_kernel = process == "kernel" and settings.source_of("log_level") == "default"
    setup_logging("WARNING" if quiet_kernel else settings.log_level, settings.log_format)
    data = DataDir.prepare(settings.data_dir)
    audit = AuditLog(data.audit_db)
    audit.append(
        "config.loaded",
        actor=current_user(),
        subject=process,
        details={"version": __version__, "pid": os.getpid(), "settings": settings.non_defaults()},
    )
    head = audit.head()
    log.info(
        "jupyter_dsagent %s ready in %s; data dir %s; audit chain head %s "
        "(check later with: jupyter dsagent audit verify --checkpoint %s)",
        __version__,
        process,
        data.root,
        head,
        head,
    )
    return Runtime(settings=settings, data=data, audit=audit)
