"""The private data directory shared by the server and kernels.

Layout: ``quarantine/`` (bytes being received and checked), ``ready/`` (validated
files), ``thumbnails/``, ``runs/`` (AutoML), ``catalog.sqlite``, ``audit.sqlite``.
It must belong to the current user and be closed to everyone else, and it must lie
where the Contents API (and so the browser's file browser) cannot reach it.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from .exceptions import DataDirError, InsufficientStorage

__all__ = ["SUBDIRS", "DataDir", "reachable_by_contents"]

SUBDIRS = ("quarantine", "ready", "thumbnails", "runs")
PRIVATE_MODE = 0o700

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataDir:
    """A checked data directory; build it with :meth:`prepare`."""

    root: Path

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def ready(self) -> Path:
        return self.root / "ready"

    @property
    def thumbnails(self) -> Path:
        return self.root / "thumbnails"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def audit_db(self) -> Path:
        return self.root / "audit.sqlite"

    @property
    def catalog_db(self) -> Path:
        return self.root / "catalog.sqlite"

    def free_bytes(self) -> int:
        """Free space on the data directory's file system, for the disk-space guard."""
        return shutil.disk_usage(self.root).free

    def ensure_space(self, incoming: int, floor: int) -> None:
        """Refuse to take ``incoming`` bytes when that would leave less than ``floor`` free.

        A full disk breaks SQLite writes (the audit log) and every other user of the
        file system, so uploads stop while a margin is left; ``floor`` 0 turns this off.
        """
        if floor <= 0:
            return
        free = self.free_bytes()
        if free - incoming < floor:
            raise InsufficientStorage(
                f"Not enough disk space for this upload: {free:,} bytes are free, it needs "
                f"{incoming:,} and {floor:,} must stay free (DSAgent.min_free_disk_bytes)."
            )

    @classmethod
    def prepare(cls, path: str | os.PathLike[str]) -> DataDir:
        """Create the directory tree with mode 0700, or check an existing one.

        Raises DataDirError when a directory belongs to another user or can be written
        by group or others: we refuse to run there rather than silently change it.
        """
        root = Path(path).expanduser()
        if not root.is_absolute():
            raise DataDirError(f"The data directory {str(root)!r} must be an absolute path.")
        _make_private_dir(root, parents=True)
        root = root.resolve()
        for name in SUBDIRS:
            _make_private_dir(root / name, parents=False)
        return cls(root)


def _make_private_dir(path: Path, *, parents: bool) -> None:
    """mkdir with mode 0700 (regardless of umask), then check what is there."""
    try:
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(path, PRIVATE_MODE)
        os.chmod(path, PRIVATE_MODE)  # mkdir's mode is filtered by the umask
    except FileExistsError:
        pass
    except OSError as exc:
        raise DataDirError(
            f"The data directory {path} could not be created: {exc.strerror}."
        ) from None
    _check_private_dir(path)


def _check_private_dir(path: Path) -> None:
    info = os.stat(path)  # follows a symlink: the target is what must be private
    if not stat.S_ISDIR(info.st_mode):
        raise DataDirError(f"The data directory {path} exists but is not a directory.")
    if info.st_uid != os.getuid():
        raise DataDirError(
            f"The data directory {path} belongs to user id {info.st_uid}, not to you "
            f"({os.getuid()}); refusing to keep uploads and the audit log there."
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise DataDirError(
            f"The data directory {path} has mode {stat.S_IMODE(info.st_mode):04o}: other users "
            f"can write to it. Run 'chmod 700 {path}' or choose another DSAgent.data_dir."
        )
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "The data directory %s has mode %04o: other users can read uploads. "
            "Consider 'chmod 700 %s'.",
            path,
            stat.S_IMODE(info.st_mode),
            path,
        )


def reachable_by_contents(data_dir: Path, contents_root: Path, *, allow_hidden: bool) -> bool:
    """True when the Contents API (the file browser) could list or write ``data_dir``.

    The Contents API serves everything under its root except hidden paths (unless
    ``allow_hidden``), so the data dir is safe outside the root or under a hidden part.
    """
    data_dir, contents_root = data_dir.resolve(), contents_root.resolve()
    if not data_dir.is_relative_to(contents_root):
        return False
    if allow_hidden:
        return True
    relative = data_dir.relative_to(contents_root)
    return not any(part.startswith(".") for part in relative.parts)
