"""Catalog: records with their members, lookup, deletion with files, crash reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_dsagent.ingest.store import Catalog
from jupyter_dsagent.models import UploadRecord, UploadWarning


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    (tmp_path / "ready").mkdir()
    (tmp_path / "thumbnails").mkdir()
    return Catalog(tmp_path / "catalog.sqlite", tmp_path / "ready", tmp_path / "thumbnails")


def record(
    catalog: Catalog,
    upload_id: str,
    name: str,
    kind: str = "csv",
    children: list[UploadRecord] | None = None,
    created: str = "2026-01-01T00:00:00Z",
    sha: str = "0",
) -> UploadRecord:
    children = [child.model_copy(update={"parent": upload_id}) for child in children or []]
    made = UploadRecord(
        id=upload_id,
        name=name,
        kind=kind,
        size=3,
        sha256=sha * 64,
        created=created,
        path=f"{upload_id}.{kind}",
        metadata={"rows": 1},
        warnings=[UploadWarning(code="formula_cells", message="1 cell")],
        children=children,
    )
    (catalog.ready_dir / made.path).write_bytes(b"a,b")
    return made


def test_add_get_find_and_list(catalog: Catalog) -> None:
    first = record(catalog, "a" * 32, "data.csv", created="2026-01-01T00:00:00Z")
    second = record(catalog, "b" * 32, "data.csv", created="2026-01-02T00:00:00Z")
    catalog.add(first)
    catalog.add(second)
    assert catalog.get(first.id) == first
    assert catalog.find("data.csv") == second  # newest of that name
    assert catalog.find(first.id) == first
    assert catalog.find("missing.csv") is None
    assert [r.id for r in catalog.list()] == [second.id, first.id]


def test_archives_keep_their_members_in_order(catalog: Catalog) -> None:
    members = [record(catalog, f"{i}" * 32, f"m{i}.csv") for i in range(3)]
    archive = record(catalog, "z" * 32, "a.zip", kind="zip", children=members)
    catalog.add(archive)
    assert catalog.get(archive.id) == archive
    assert [r.id for r in catalog.list()] == [archive.id]  # members are not top-level
    assert catalog.find("m1.csv") == archive.children[1]
    assert archive.children[1].parent == archive.id


def test_delete_removes_rows_files_and_thumbnails(catalog: Catalog) -> None:
    member = record(catalog, "1" * 32, "m.csv")
    archive = record(catalog, "z" * 32, "a.zip", kind="zip", children=[member])
    catalog.add(archive)
    catalog.thumbnail_path(member.id).write_bytes(b"jpg")
    assert catalog.delete(archive.id) == archive
    assert catalog.get(archive.id) is None and catalog.get(member.id) is None
    assert list(catalog.ready_dir.iterdir()) == []
    assert list(catalog.thumbnails_dir.iterdir()) == []
    assert catalog.delete(archive.id) is None


def test_reconcile_removes_orphan_files_and_rows_without_files(catalog: Catalog) -> None:
    kept = record(catalog, "a" * 32, "kept.csv")
    lost = record(catalog, "b" * 32, "lost.csv")
    catalog.add(kept)
    catalog.add(lost)
    (catalog.ready_dir / lost.path).unlink()  # e.g. removed by hand
    (catalog.ready_dir / "c.csv").write_bytes(b"renamed but never recorded")
    (catalog.thumbnails_dir / "d.jpg").write_bytes(b"orphan thumbnail")
    assert catalog.reconcile() == (2, 1)
    assert [r.id for r in catalog.list()] == [kept.id]
    assert [p.name for p in catalog.ready_dir.iterdir()] == [kept.path]


def test_find_same_matches_name_and_bytes(catalog: Catalog) -> None:
    item = record(catalog, "a" * 32, "d.csv", sha="1")
    catalog.add(item)
    assert catalog.find_same("d.csv", "1" * 64) == item
    assert catalog.find_same("d.csv", "2" * 64) is None
    assert catalog.find_same("e.csv", "1" * 64) is None
