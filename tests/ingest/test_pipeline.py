"""The whole path, over real shared data and generated attacks: quarantine → validate → ready.

After every refusal: the error carries its stable code, nothing is left in quarantine,
nothing new is in ready/, nothing was written outside the data dir, and the audit log
holds the refusal with its reason.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from jupyter_dsagent.exceptions import BadRequest, IngestError
from jupyter_dsagent.ingest.load import load, resolve
from jupyter_dsagent.ingest.pipeline import Ingestor

from ..paths import SHARED_DATA
from .manifest import PROPER_READS

pytestmark = pytest.mark.slow

GPS_PHOTOS = [
    "gps_nikon_DSCN0010.jpg",
    "gps_nikon_DSCN0021.jpg",
    "gps_iphone6_hdr.jpg",
    "gps_iphone11_IMG_5195.HEIC",
]
HOSTILE: dict[str, set[str]] = {
    "malicious/zip-slip.zip": {"zip_path_traversal"},
    "malicious/zip-slip-win.zip": {"zip_path_traversal"},
    "malicious/zip-slip.tar": {"type_not_allowed"},
    "malicious/zip-slip-win.tar": {"type_not_allowed"},
    # 251 entries: refused by count before its overlaps are even looked at
    "malicious/zipbomb_overlap_zbsm_style.zip": {"zip_too_many_entries"},
    "malicious/zipbomb_recursive_Challenge9.zip": {"zip_bomb", "zip_nested_too_deep"},
    "malicious/pillow_decompression_bomb.gif": {"image_too_many_pixels"},
    "malicious/pillow_decompression_bomb_extents.gif": {"image_too_many_pixels", "image_invalid"},
    "malicious/pillow_decompression_bomb.ico": {"type_not_allowed"},
    "malicious/pillow_reallybig.bmp": {"type_not_allowed"},
    "messy/pd_speech_features_ACTUALLY_HTML.csv": {"content_mismatch"},
}


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def assert_refused_cleanly(
    ingestor: Ingestor, outside: Path, before: set[Path], run: Callable[[], object], codes: set[str]
) -> IngestError:
    ready_before = set(ingestor.data.ready.iterdir())
    with pytest.raises(IngestError) as caught:
        run()
    assert caught.value.code in codes, caught.value.message
    assert list(ingestor.data.quarantine.iterdir()) == []
    assert set(ingestor.data.ready.iterdir()) == ready_before
    assert {p for p in tree(outside) if ingestor.data.root not in p.parents} - before == set()
    [audit] = ingestor.audit.query(kind="upload.rejected", limit=1)
    assert audit.details["code"] == caught.value.code
    assert audit.outcome == "denied"
    return caught.value


@pytest.mark.parametrize("relative", sorted(PROPER_READS))
def test_every_shared_table_is_accepted_and_loads_like_its_proper_read(
    ingestor: Ingestor, relative: str
) -> None:
    path = SHARED_DATA / relative
    record = ingestor.ingest(path, path.name, actor="ada")
    expected = pd.read_csv(path, **PROPER_READS[relative], low_memory=False)  # type: ignore[arg-type]
    assert (record.metadata["rows"], record.metadata["columns"]) == expected.shape
    assert (ingestor.data.ready / record.path).is_file()
    loaded = load(record.id, ingestor=ingestor, actor="ada")
    assert loaded.shape == expected.shape
    assert [str(c) for c in loaded.columns] == [str(c) for c in expected.columns]
    pd.testing.assert_series_equal(loaded.iloc[0], expected.iloc[0], check_names=False)
    [audit] = ingestor.audit.query(kind="upload.accepted", limit=1)
    assert audit.subject == record.id and audit.details["sha256"] == record.sha256
    assert list(ingestor.data.quarantine.iterdir()) == []


@pytest.mark.parametrize("name", GPS_PHOTOS)
def test_gps_is_gone_from_every_gps_photo(ingestor: Ingestor, name: str) -> None:
    record = ingestor.ingest(SHARED_DATA / "images" / name, name, actor="ada")
    assert record.kind == "image"
    assert record.metadata["gps_removed"] is True
    assert any(w.code == "gps_removed" for w in record.warnings)
    with Image.open(ingestor.data.ready / record.path) as stored:
        exif = stored.getexif()
        assert 0x8825 not in exif and not exif.get_ifd(0x8825)
    assert ingestor.catalog.thumbnail_path(record.id).is_file()


REFUSED_IMAGES = {"piexif_notjpeg_empty.jpg": "empty_upload"}  # a 0-byte file


@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED_DATA / "images").iterdir()))
def test_every_shared_image_is_accepted_clean_or_refused_with_its_code(
    ingestor: Ingestor, name: str
) -> None:
    path = SHARED_DATA / "images" / name
    if name in REFUSED_IMAGES:
        with pytest.raises(IngestError) as caught:
            ingestor.ingest(path, name, actor="ada")
        assert caught.value.code == REFUSED_IMAGES[name]
        assert list(ingestor.data.quarantine.iterdir()) == []
        return
    record = ingestor.ingest(path, name, actor="ada")
    stored = (ingestor.data.ready / record.path).read_bytes()
    for marker in (b"Exif\x00\x00", b"GPS", b"ICC_PROFILE", b"http://ns.adobe.com/xap"):
        assert marker not in stored
    assert record.metadata["output_format"] in ("JPEG", "PNG")


def test_bike_sharing_zip_becomes_member_records(ingestor: Ingestor) -> None:
    path = SHARED_DATA / "zips/Bike-Sharing-Dataset.zip"
    record = ingestor.ingest(path, path.name, actor="ada")
    names = {child.name for child in record.children}
    assert {"day.csv", "hour.csv"} <= names
    day = next(c for c in record.children if c.name == "day.csv")
    assert (day.metadata["rows"], day.metadata["columns"]) == (731, 16)
    assert day.parent == record.id
    assert load("hour.csv", ingestor=ingestor, actor="ada").shape == (17379, 17)
    assert ingestor.catalog.list()[0].id == record.id


def test_mac_zip_skips_macos_junk_with_a_note(ingestor: Ingestor) -> None:
    path = SHARED_DATA / "large/dataset_diabetes.zip"
    record = ingestor.ingest(path, path.name, actor="ada")
    assert sorted(c.name for c in record.children) == [
        "dataset_diabetes/IDs_mapping.csv",
        "dataset_diabetes/diabetic_data.csv",
    ]
    [note] = [w for w in record.warnings if w.code == "members_skipped"]
    assert "__MACOSX" in note.message
    member = next(c for c in record.children if c.name.endswith("diabetic_data.csv"))
    assert (
        member.sha256
        == resolve(SHARED_DATA / "large/diabetic_data.csv", ingestor=ingestor, actor="ada").sha256
    )


@pytest.mark.parametrize("relative", sorted(HOSTILE))
def test_every_hostile_file_is_refused_with_its_code(
    ingestor: Ingestor, tmp_path: Path, relative: str
) -> None:
    path = SHARED_DATA / relative
    before = tree(tmp_path)
    assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(path, path.name, actor="eve"),
        HOSTILE[relative],
    )


# -- generated attacks ---------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_nested_zip_three_deep_is_refused(ingestor: Ingestor, tmp_path: Path) -> None:
    inner = zip_bytes({"data.csv": b"a,b\n1,2\n"})
    for level in range(3):
        inner = zip_bytes({f"level{level}.zip": inner})
    before = tree(tmp_path)
    assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(inner), "nested.zip", actor="eve"),
        {"zip_nested_too_deep"},
    )


def test_one_nested_level_is_accepted_within_the_default_depth(ingestor: Ingestor) -> None:
    payload = zip_bytes({"inner.zip": zip_bytes({"data.csv": b"a,b\n1,2\n"})})
    record = ingestor.ingest(io.BytesIO(payload), "outer.zip", actor="ada")
    [inner] = record.children
    assert inner.kind == "zip" and inner.children[0].name == "data.csv"


def test_nested_levels_share_one_expansion_budget(make_ingestor: Callable[..., Ingestor]) -> None:
    """Each level fits the limit alone; together they do not."""
    import random

    rng = random.Random(1)

    def table(n_bytes: int) -> bytes:  # random digits: compresses about 2:1, no ratio alarm
        rows = [f"{rng.random():.12f},{rng.random():.12f}" for _ in range(n_bytes // 30)]
        return ("a,b\n" + "\n".join(rows) + "\n").encode()

    inner = zip_bytes({"p1.csv": table(60_000), "p2.csv": table(60_000)})
    payload = zip_bytes({"inner.zip": inner, "top.csv": table(50_000)})
    alone = make_ingestor(max_zip_uncompressed_bytes=150_000)
    assert alone.ingest(io.BytesIO(inner), "inner.zip", actor="ada").metadata["members"] == 2
    with pytest.raises(IngestError) as caught:
        alone.ingest(io.BytesIO(payload), "outer.zip", actor="eve")
    assert caught.value.code == "zip_bomb"


def test_a_zip_appended_to_a_jpeg_does_not_survive(ingestor: Ingestor) -> None:
    photo = (SHARED_DATA / "images/gps_nikon_DSCN0010.jpg").read_bytes()
    polyglot = photo + zip_bytes({"evil.csv": b"=cmd|' /C calc'!A0\n"})
    record = ingestor.ingest(io.BytesIO(polyglot), "holiday.jpg", actor="eve")
    stored = (ingestor.data.ready / record.path).read_bytes()
    assert b"PK\x03\x04" not in stored and b"evil.csv" not in stored


def test_png_claiming_100000_by_100000_pixels_is_refused(
    ingestor: Ingestor, tmp_path: Path
) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )
    before = tree(tmp_path)
    assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(png), "huge.png", actor="eve"),
        {"image_too_many_pixels"},
    )


def test_truncated_jpeg_is_refused(ingestor: Ingestor, tmp_path: Path) -> None:
    photo = (SHARED_DATA / "images/gps_nikon_DSCN0021.jpg").read_bytes()
    before = tree(tmp_path)
    assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(photo[: len(photo) // 2]), "cut.jpg", actor="eve"),
        {"image_invalid"},
    )


def test_a_member_whose_content_contradicts_its_name_refuses_the_archive(
    ingestor: Ingestor, tmp_path: Path
) -> None:
    payload = zip_bytes({"ok.csv": b"a,b\n1,2\n", "table.csv": b"<html><script>x</script>"})
    before = tree(tmp_path)
    error = assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(payload), "mixed.zip", actor="eve"),
        {"content_mismatch"},
    )
    assert "table.csv" in error.message


def test_members_of_unaccepted_types_are_skipped_with_a_note(ingestor: Ingestor) -> None:
    payload = zip_bytes({"data.csv": b"a,b\n1,2\n", "run.sh": b"#!/bin/sh\n", "README": b"hi"})
    record = ingestor.ingest(io.BytesIO(payload), "bundle.zip", actor="ada")
    assert [c.name for c in record.children] == ["data.csv"]
    [note] = record.warnings
    assert "run.sh" in note.message and "README" in note.message


def test_upload_over_the_size_limit_is_cut_off(
    make_ingestor: Callable[..., Ingestor], tmp_path: Path
) -> None:
    ingestor = make_ingestor(max_upload_bytes=10_000)
    before = tree(tmp_path)
    error = assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(b"a,b\n" + b"1,2\n" * 10_000), "big.csv", actor="eve"),
        {"too_large"},
    )
    assert error.http_status == 413


def test_empty_upload_is_refused(ingestor: Ingestor, tmp_path: Path) -> None:
    before = tree(tmp_path)
    assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(b""), "e.csv", actor="eve"),
        {"empty_upload"},
    )


def test_zip_uploads_can_be_turned_off(make_ingestor: Callable[..., Ingestor]) -> None:
    ingestor = make_ingestor(safe_unzip=False)
    with pytest.raises(IngestError) as caught:
        ingestor.ingest(io.BytesIO(zip_bytes({"a.csv": b"a\n1\n"})), "a.zip", actor="ada")
    assert caught.value.code == "type_not_allowed"


def test_client_file_name_is_never_a_path(ingestor: Ingestor, tmp_path: Path) -> None:
    record = ingestor.ingest(io.BytesIO(b"a,b\n1,2\n"), "../../../.bashrc.csv", actor="eve")
    assert record.name == "bashrc.csv"
    assert record.path == f"{record.id}.csv"
    assert not (tmp_path / ".bashrc.csv").exists()


# -- load() and files that skipped our upload ------------------------------------------------


def test_workspace_file_is_validated_before_it_is_read(
    ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    (workspace / "sales.csv").write_bytes("city;amount\nKöln;1,5\n".encode("cp1252"))
    frame = load("sales.csv", ingestor=ingestor, actor="ada")
    assert frame.to_dict("list") == {"city": ["Köln"], "amount": [1.5]}
    assert ingestor.catalog.find("sales.csv") is not None
    load("sales.csv", ingestor=ingestor, actor="ada")
    assert len(ingestor.catalog.list()) == 1  # the same bytes are not stored twice
    (workspace / "page.csv").write_bytes(b"<!DOCTYPE html><html></html>")
    with pytest.raises(IngestError) as caught:
        load("page.csv", ingestor=ingestor, actor="ada")
    assert caught.value.code == "content_mismatch"


def test_load_of_an_unknown_name_is_not_found(ingestor: Ingestor) -> None:
    with pytest.raises(LookupError, match=r"no upload or file called 'nothing\.csv'"):
        load("nothing.csv", ingestor=ingestor, actor="ada")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("https://example.com/data.csv", "is a URL"),
        ("file:///etc/passwd", "is a URL"),
        ("s3://bucket/key.parquet", "is a URL"),
        (None, "not a NoneType"),
        (3, "not a int"),
    ],
)
def test_load_refuses_urls_and_non_names_with_a_sentence(
    ingestor: Ingestor, name: object, words: str
) -> None:
    with pytest.raises(BadRequest, match=words):
        load(name, ingestor=ingestor, actor="ada")  # type: ignore[arg-type]


def test_delete_removes_files_rows_and_is_audited(ingestor: Ingestor) -> None:
    record = ingestor.ingest(SHARED_DATA / "zips/Bike-Sharing-Dataset.zip", "b.zip", actor="ada")
    assert ingestor.delete(record.id, actor="ada") == record
    assert list(ingestor.data.ready.iterdir()) == []
    assert ingestor.catalog.get(record.children[0].id) is None
    [audit] = ingestor.audit.query(kind="upload.deleted")
    assert audit.subject == record.id
    assert ingestor.audit.verify().ok


def test_failure_while_recording_leaves_nothing_in_ready(
    ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_add(record: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ingestor.catalog, "add", broken_add)
    with pytest.raises(OSError, match="disk full"):
        ingestor.ingest(SHARED_DATA / "zips/Bike-Sharing-Dataset.zip", "b.zip", actor="ada")
    assert list(ingestor.data.ready.iterdir()) == []
    assert list(ingestor.data.quarantine.iterdir()) == []


CRASHER = """
import sys
from pathlib import Path
from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.ingest.limits import Limits
from jupyter_dsagent.ingest.pipeline import Ingestor
data = DataDir.prepare(sys.argv[1])
ingestor = Ingestor(data, Limits.default(), AuditLog(data.audit_db))
while True:
    ingestor.ingest(Path(sys.argv[2]), "bikes.zip", actor="crash")
"""


def test_a_killed_process_leaves_a_consistent_store_after_start_up_sweep(
    ingestor: Ingestor, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time

    archive = SHARED_DATA / "zips/Bike-Sharing-Dataset.zip"
    for delay in (0.3, 0.9, 1.5, 2.2, 3.0):
        process = subprocess.Popen(
            [sys.executable, "-c", CRASHER, str(ingestor.data.root), str(archive)]
        )
        time.sleep(delay)
        process.kill()
        process.wait()
        ingestor.sweep()
        assert list(ingestor.data.quarantine.iterdir()) == []
        rows = {r.path for top in ingestor.catalog.list(limit=1000) for r in [top, *top.children]}
        files = {p.name for p in ingestor.data.ready.iterdir()}
        assert rows == files
        for top in ingestor.catalog.list(limit=1000):
            assert {c.name for c in top.children} >= {"day.csv", "hour.csv"}
    assert ingestor.audit.verify().ok


def test_sweep_clears_quarantine_leftovers(ingestor: Ingestor) -> None:
    (ingestor.data.quarantine / "abc.part").write_bytes(b"half an upload")
    (ingestor.data.ready / "orphan.csv").write_bytes(b"a\n")
    ingestor.sweep()
    assert list(ingestor.data.quarantine.iterdir()) == []
    assert list(ingestor.data.ready.iterdir()) == []


def test_stored_files_are_private(ingestor: Ingestor) -> None:
    record = ingestor.ingest(io.BytesIO(b"a,b\n1,2\n"), "p.csv", actor="ada")
    assert oct(os.stat(ingestor.data.ready / record.path).st_mode & 0o777) == "0o600"


def test_every_published_file_is_synced_before_its_rename_and_the_rows(
    ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_dsagent.ingest import pipeline

    synced: set[int] = set()
    events: list[str] = []
    real_fsync, real_replace, real_add = os.fsync, os.replace, ingestor.catalog.add

    def fsync(fd: int) -> None:
        real_fsync(fd)
        synced.add(os.fstat(fd).st_ino)

    def replace(source: Path, target: Path) -> None:
        assert os.stat(source).st_ino in synced, f"{source} renamed before it was synced"
        real_replace(source, target)
        events.append("rename")

    def add(record: object) -> None:
        assert os.stat(ingestor.data.ready).st_ino in synced, "rows written before the renames"
        events.append("rows")
        real_add(record)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(pipeline.os, "replace", replace)
    monkeypatch.setattr(ingestor.catalog, "add", add)
    path = SHARED_DATA / "zips/Bike-Sharing-Dataset.zip"
    record = ingestor.ingest(path, path.name, actor="ada")
    photo = ingestor.ingest(SHARED_DATA / "images/gps_nikon_DSCN0010.jpg", "p.jpg", actor="ada")
    assert events.count("rename") == 1 + len(record.children) + 2  # photo: image, thumbnail
    assert events.count("rows") == 2 and events[-1] == "rows"
    assert photo.kind == "image"


def test_zip_members_are_checked_side_by_side_but_reported_in_archive_order(
    ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_dsagent.ingest import pipeline

    monkeypatch.setattr(pipeline, "_ZIP_BATCH_BYTES", 1)  # one member per extraction batch
    members = {
        f"{name}.csv" if name[0] != "s" else name: f"a,b\n{i},{i}\n".encode()
        for i, name in enumerate(["c", "skip.sh", "a", "skip2.exe", "b", "e", "d"])
    }
    record = ingestor.ingest(io.BytesIO(zip_bytes(members)), "many.zip", actor="ada")
    assert [c.name for c in record.children] == ["c.csv", "a.csv", "b.csv", "e.csv", "d.csv"]
    [note] = record.warnings
    assert note.message.index("skip.sh") < note.message.index("skip2.exe")
    assert record.metadata["uncompressed_bytes"] == sum(len(v) for k, v in members.items())
    for child in record.children:
        stored = (ingestor.data.ready / child.path).read_bytes()
        assert child.sha256 == hashlib.sha256(stored).hexdigest()
        assert stored == members[child.name]


def test_the_first_bad_member_in_archive_order_is_the_one_reported(
    ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from jupyter_dsagent.ingest import pipeline

    monkeypatch.setattr(pipeline, "_ZIP_BATCH_BYTES", 1)
    html = b"<html><script>x</script>"
    members = {"ok.csv": b"a,b\n1,2\n", "first.csv": html, "second.csv": html, "z.csv": b"a\n1\n"}
    before = tree(tmp_path)
    error = assert_refused_cleanly(
        ingestor,
        tmp_path,
        before,
        lambda: ingestor.ingest(io.BytesIO(zip_bytes(members)), "bad.zip", actor="eve"),
        {"content_mismatch"},
    )
    assert "first.csv" in error.message
