"""Data directory: created private, refused when open to others or reachable by the browser."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_dsagent.datadir import SUBDIRS, DataDir, reachable_by_contents
from jupyter_dsagent.exceptions import DataDirError


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask of 0 would give 0777 directories to a plain mkdir."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_creates_the_tree_with_mode_0700(data_dir: Path, permissive_umask: None) -> None:
    prepared = DataDir.prepare(data_dir)
    assert prepared.root == data_dir.resolve()
    assert mode(data_dir) == 0o700
    for name in SUBDIRS:
        assert mode(data_dir / name) == 0o700
    assert prepared.audit_db == data_dir / "audit.sqlite"
    assert prepared.quarantine == data_dir / "quarantine"


def test_preparing_twice_is_harmless(data_dir: Path) -> None:
    assert DataDir.prepare(data_dir) == DataDir.prepare(data_dir)


@pytest.mark.parametrize("unsafe_mode", [0o770, 0o707, 0o777, 0o720])
def test_refuses_a_group_or_world_writable_dir(data_dir: Path, unsafe_mode: int) -> None:
    data_dir.mkdir(parents=True)
    data_dir.chmod(unsafe_mode)
    with pytest.raises(DataDirError, match=f"mode {unsafe_mode:04o}.*chmod 700") as caught:
        DataDir.prepare(data_dir)
    assert caught.value.code == "data_dir_unsafe"
    assert mode(data_dir) == unsafe_mode  # refused, not silently changed


def test_refuses_an_unsafe_subdirectory(data_dir: Path) -> None:
    DataDir.prepare(data_dir)
    (data_dir / "ready").chmod(0o777)
    with pytest.raises(DataDirError, match="ready"):
        DataDir.prepare(data_dir)


def test_readable_by_others_is_allowed_with_a_warning(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o755)
    DataDir.prepare(data_dir)
    assert "other users can read" in caplog.text


def test_refuses_a_file_in_its_place(data_dir: Path) -> None:
    data_dir.parent.mkdir(parents=True)
    data_dir.write_text("not a directory")
    with pytest.raises(DataDirError, match="not a directory"):
        DataDir.prepare(data_dir)


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a directory to another user")
def test_refuses_a_directory_owned_by_someone_else(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, mode=0o700)
    os.chown(data_dir, 65534, 65534)
    with pytest.raises(DataDirError, match="belongs to user id 65534"):
        DataDir.prepare(data_dir)


def test_symlinked_data_dir_is_checked_at_its_target(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o777)
    target.chmod(0o777)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(DataDirError, match="mode 0777"):
        DataDir.prepare(link)


def test_relative_path_is_refused() -> None:
    with pytest.raises(DataDirError, match="absolute"):
        DataDir.prepare("relative/dsagent")


@pytest.mark.parametrize(
    ("relative", "allow_hidden", "reachable"),
    [
        ("data/dsagent", False, True),
        (".local/share/jupyter/dsagent", False, False),
        ("work/.dsagent", False, False),
        (".local/share/jupyter/dsagent", True, True),
        ("../outside/dsagent", False, False),
    ],
)
def test_reachable_by_contents(
    tmp_path: Path, relative: str, allow_hidden: bool, reachable: bool
) -> None:
    root = tmp_path / "notebooks"
    root.mkdir()
    assert reachable_by_contents(root / relative, root, allow_hidden=allow_hidden) is reachable


def test_a_link_from_outside_into_the_root_is_reachable(tmp_path: Path) -> None:
    root = tmp_path / "notebooks"
    (root / "visible").mkdir(parents=True)
    (tmp_path / "innocent").symlink_to(root / "visible")
    assert reachable_by_contents(tmp_path / "innocent", root, allow_hidden=False)
