"""Safe ZIP extraction: real archives, hand-built attacks, and random input.

Hostile archives are built here with ``struct`` (never shipped); each refusal must leave
the destination empty and nothing written anywhere else.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import shutil
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_dsagent.exceptions import ArchiveError, IngestError
from jupyter_dsagent.ingest import archive
from jupyter_dsagent.ingest.archive import (
    ByteBudget,
    ExtractedMember,
    Extraction,
    Skipped,
    check_zip_structure,
    safe_unzip,
)
from jupyter_dsagent.ingest.limits import Limits
from tests.paths import SHARED_DATA

LIMITS = Limits.default()
MiB = 1 << 20
MEMBER_FILE = re.compile(r"\d{5}\.member")

# -- a ZIP writer that will write anything ----------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One entry as the writer lays it out; every field may lie."""

    name: str | bytes
    data: bytes = b""
    method: int = zipfile.ZIP_STORED
    flags: int = 0
    mode: int = stat.S_IFREG | 0o644
    create_system: int = 3
    payload: bytes | None = None  # the compressed bytes, when not derived from data
    size: int | None = None  # declared uncompressed size, in both headers
    crc: int | None = None
    zip64: bool = False  # sizes only in ZIP64 extra fields

    @property
    def raw_name(self) -> bytes:
        if isinstance(self.name, bytes):
            return self.name
        return self.name.encode("utf-8")

    @property
    def all_flags(self) -> int:
        utf8 = isinstance(self.name, str) and not self.name.isascii()
        return self.flags | (0x800 if utf8 else 0)

    @property
    def compressed(self) -> bytes:
        if self.payload is not None:
            return self.payload
        if self.method == zipfile.ZIP_DEFLATED:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            return packer.compress(self.data) + packer.flush()
        return self.data

    def fields(self) -> tuple[int, int, int]:
        crc = zlib.crc32(self.data) if self.crc is None else self.crc
        size = len(self.data) if self.size is None else self.size
        return crc, len(self.compressed), size

    def sizes_and_extra(self) -> tuple[int, int, int, bytes]:
        """CRC, the two size fields and the extra field, as ZIP64 writes them when asked."""
        crc, csize, usize = self.fields()
        if not self.zip64:
            return crc, csize, usize, b""
        return crc, 0xFFFFFFFF, 0xFFFFFFFF, struct.pack("<HHQQ", 1, 16, usize, csize)

    def local_header(self) -> bytes:
        crc, csize, usize, extra = self.sizes_and_extra()
        name = self.raw_name
        header = struct.pack(
            "<4s2B4HL2L2H",
            b"PK\x03\x04",
            45 if self.zip64 else 20,
            0,
            self.all_flags,
            self.method,
            0,
            0x21,
            crc,
            csize,
            usize,
            len(name),
            len(extra),
        )
        return header + name + extra

    def central_header(self, offset: int) -> bytes:
        crc, csize, usize, extra = self.sizes_and_extra()
        name = self.raw_name
        header = struct.pack(
            "<4s4B4HL2L5H2L",
            b"PK\x01\x02",
            20,
            self.create_system,
            45 if self.zip64 else 20,
            0,
            self.all_flags,
            self.method,
            0,
            0x21,
            crc,
            csize,
            usize,
            len(name),
            len(extra),
            0,
            0,
            0,
            self.mode << 16,
            offset,
        )
        return header + name + extra


def end_record(count: int, cd_size: int, cd_offset: int, comment: bytes = b"") -> bytes:
    return (
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, len(comment))
        + comment
    )


def build_zip(
    entries: Sequence[Entry], *, prefix: bytes = b"", offsets_from: int = 0, comment: bytes = b""
) -> bytes:
    """Entries, central directory and end record; ``offsets_from`` shifts stored offsets."""
    body = bytearray()
    offsets = []
    for entry in entries:
        offsets.append(len(body) + offsets_from)
        body += entry.local_header() + entry.compressed
    directory = b"".join(e.central_header(o) for e, o in zip(entries, offsets, strict=True))
    end = end_record(len(entries), len(directory), len(body) + offsets_from, comment)
    return prefix + bytes(body) + directory + end


def central_offset(data: bytes) -> int:
    """Where the central directory starts, for archives without a comment."""
    return int(struct.unpack_from("<L", data, len(data) - 22 + 16)[0])


def patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def zeros_member(mib: int) -> tuple[bytes, int]:
    """Raw deflate of ``mib`` MiB of zeros, built without compressing them all.

    After a full flush the compressor starts afresh, so every further MiB of zeros
    compresses to the same bytes; the CRC is still computed over the real data.
    """
    chunk = bytes(MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    repeated = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.compress(chunk) + packer.flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return first + repeated * (mib - 2) + last, crc


# -- helpers ----------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[Path, tuple[int, int] | None]:
    """Every path under root, with size and mtime for files (folders change when used)."""
    return {
        p: (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None
        for p in root.rglob("*")
    }


def write(tmp_path: Path, data: bytes, name: str = "upload.zip") -> Path:
    source = tmp_path / "in"
    source.mkdir(parents=True, exist_ok=True)
    path = source / name
    path.write_bytes(data)
    return path


def dest(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir(exist_ok=True)
    return path


def refused(
    path: Path, tmp_path: Path, limits: Limits = LIMITS, budget: ByteBudget | None = None
) -> ArchiveError:
    """Run safe_unzip expecting a refusal; prove it wrote nothing that survived."""
    out = dest(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(ArchiveError) as caught:
        safe_unzip(path, out, limits, budget=budget)
    assert list(out.iterdir()) == []
    assert snapshot(tmp_path) == before
    return caught.value


def refused_bytes(data: bytes, tmp_path: Path, limits: Limits = LIMITS) -> ArchiveError:
    return refused(write(tmp_path, data), tmp_path, limits)


def extracted(data: bytes, tmp_path: Path, limits: Limits = LIMITS) -> Extraction:
    return safe_unzip(write(tmp_path, data), dest(tmp_path), limits)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- real archives ----------------------------------------------------------------------------


def test_bike_sharing_zip_yields_its_three_files_under_generated_names(tmp_path: Path) -> None:
    out = dest(tmp_path)
    result = safe_unzip(SHARED_DATA / "zips" / "Bike-Sharing-Dataset.zip", out, LIMITS)
    sizes = {m.name: m.size for m in result.members}
    assert sizes == {"Readme.txt": 5607, "day.csv": 57569, "hour.csv": 1156736}
    assert result.skipped == ()
    for member in result.members:
        assert member.path.parent == out
        assert MEMBER_FILE.fullmatch(member.path.name)
        assert member.path.stat().st_size == member.size
        assert stat.S_IMODE(member.path.stat().st_mode) == 0o600
        assert 0 < member.compressed_size < member.size
    assert sorted(out.iterdir()) == sorted(m.path for m in result.members)


def test_diabetes_zip_skips_macos_metadata_and_folders_and_extracts_exact_bytes(
    tmp_path: Path,
) -> None:
    result = safe_unzip(SHARED_DATA / "large" / "dataset_diabetes.zip", dest(tmp_path), LIMITS)
    members = {m.name: m for m in result.members}
    assert set(members) == {
        "dataset_diabetes/IDs_mapping.csv",
        "dataset_diabetes/diabetic_data.csv",
    }
    skipped = {s.name: s.reason for s in result.skipped}
    assert skipped["dataset_diabetes/"] == "directory"
    macos = [name for name in skipped if name.startswith("__MACOSX/")]
    assert len(macos) == 3
    assert all("macOS metadata" in skipped[name] for name in macos)
    data = members["dataset_diabetes/diabetic_data.csv"].path
    assert sha256(data) == sha256(SHARED_DATA / "large" / "diabetic_data.csv")
    ids = members["dataset_diabetes/IDs_mapping.csv"].path
    assert sha256(ids) == sha256(SHARED_DATA / "large" / "IDs_mapping.csv")


@pytest.mark.parametrize("fixture", ["zip-slip.zip", "zip-slip-win.zip"])
def test_zip_slip_fixtures_are_refused_before_anything_is_written(
    fixture: str, tmp_path: Path
) -> None:
    error = refused(SHARED_DATA / "malicious" / fixture, tmp_path)
    assert error.code == "zip_path_traversal"
    assert error.http_status == 422


def test_overlap_bomb_fixture_is_refused_by_every_layer_of_checks(tmp_path: Path) -> None:
    bomb = SHARED_DATA / "malicious" / "zipbomb_overlap_zbsm_style.zip"
    # With the defaults, its 251 entries are already too many (read from the end record).
    assert refused(bomb, tmp_path).code == "zip_too_many_entries"
    error = refused(bomb, tmp_path, Limits.default(max_zip_entries=1000))
    assert error.code == "zip_bomb"
    assert error.message == "The ZIP would expand to 546.4 GB; the limit is 500.0 MB."
    lifted = Limits.default(
        max_zip_entries=1000, max_zip_uncompressed_bytes=10**12, max_zip_ratio=10_000.0
    )
    error = refused(bomb, tmp_path, lifted)
    assert error.code == "zip_bomb"
    assert "overlap" in error.message


def test_recursive_bomb_fixture_gives_one_level_of_plain_zip_members(tmp_path: Path) -> None:
    out = dest(tmp_path)
    result = safe_unzip(SHARED_DATA / "malicious" / "zipbomb_recursive_Challenge9.zip", out, LIMITS)
    assert len(result.members) == 9
    assert {m.size for m in result.members} == {95275}
    assert all(m.name.endswith(".zip") for m in result.members)
    assert all(m.path.read_bytes()[:4] == b"PK\x03\x04" for m in result.members)


def test_recursive_bomb_fixture_is_bounded_by_a_small_budget(tmp_path: Path) -> None:
    path = SHARED_DATA / "malicious" / "zipbomb_recursive_Challenge9.zip"
    budget = ByteBudget(300_000)
    assert refused(path, tmp_path, budget=budget).code == "zip_bomb"
    assert budget.remaining == 300_000


def test_one_budget_counts_every_level_of_nesting(tmp_path: Path) -> None:
    budget = ByteBudget(1_500_000)
    outer = safe_unzip(
        SHARED_DATA / "malicious" / "zipbomb_recursive_Challenge9.zip",
        dest(tmp_path),
        LIMITS,
        budget=budget,
    )
    assert budget.remaining == 1_500_000 - 9 * 95275
    inner = tmp_path / "inner"
    inner.mkdir()
    with pytest.raises(ArchiveError) as caught:
        safe_unzip(outer.members[0].path, inner, LIMITS, budget=budget)
    assert caught.value.code == "zip_bomb"
    assert list(inner.iterdir()) == []


@pytest.mark.parametrize("fixture", ["zip-slip.tar", "zip-slip-win.tar"])
def test_tar_archives_are_not_zips(fixture: str, tmp_path: Path) -> None:
    assert refused(SHARED_DATA / "malicious" / fixture, tmp_path).code == "zip_invalid"


def test_extraction_is_plain_picklable_data(tmp_path: Path) -> None:
    result = safe_unzip(SHARED_DATA / "zips" / "Bike-Sharing-Dataset.zip", dest(tmp_path), LIMITS)
    assert pickle.loads(pickle.dumps(result)) == result
    infos = check_zip_structure(SHARED_DATA / "zips" / "Bike-Sharing-Dataset.zip", LIMITS)
    assert [i.filename for i in pickle.loads(pickle.dumps(infos))] == [
        "Readme.txt",
        "day.csv",
        "hour.csv",
    ]


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "a/../../evil.txt",
        "a/b/..",
        "..\\evil.txt",
        "a\\..\\..\\evil.txt",
        "/etc/passwd",
        "\\evil.txt",
        "C:evil.txt",
        "C:/Windows/evil.txt",
        "c:\\evil.txt",
        "//server/share/evil.txt",
        "\\\\server\\share\\evil.txt",
        "a/.../evil.txt",
        "a/.. /evil.txt",
        "\uff0e\uff0e/evil.txt",  # fullwidth dots: Windows "best fit" makes them '..'
        "a\uff3cevil.txt",  # fullwidth backslash
    ],
)
def test_every_spelling_of_zip_slip_is_refused(name: str, tmp_path: Path) -> None:
    data = build_zip([Entry("good.txt", b"fine"), Entry(name, b"evil")])
    assert refused_bytes(data, tmp_path).code == "zip_path_traversal"


@pytest.mark.parametrize(
    "name",
    [
        "a\x00b.csv",
        "tab\there.csv",
        "line\nbreak.csv",
        "bell\x07.csv",
        "del\x7f.csv",
        "c1\x85.csv",
        "evil\u202etxt.csv",  # right-to-left override: shows as "evilvsc.txt"
    ],
)
def test_control_characters_in_names_are_refused(name: str, tmp_path: Path) -> None:
    error = refused_bytes(build_zip([Entry(name, b"x")]), tmp_path)
    assert error.code == "zip_invalid"
    assert "control character" in error.message


@pytest.mark.parametrize(
    "name",
    ["", "x" * 256 + ".csv", "/".join(["d" * 200] * 6), "./"],
)
def test_empty_and_overlong_names_are_refused(name: str, tmp_path: Path) -> None:
    entry = Entry(name, b"" if name.endswith("/") else b"x")
    assert refused_bytes(build_zip([entry]), tmp_path).code == "zip_invalid"


def test_invalid_utf8_in_a_name_flagged_utf8_is_refused(tmp_path: Path) -> None:
    entry = Entry(b"caf\xe9.csv", b"x", flags=0x800)
    assert refused_bytes(build_zip([entry]), tmp_path).code == "zip_invalid"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("data.csv", "data.csv"),
        ("Data.csv", "data.csv"),
        ("DIR/a.csv", "dir/A.csv"),
        ("caf\u00e9.csv", unicodedata.normalize("NFD", "caf\u00e9.csv")),
        ("a.csv", "./a.csv"),
        ("dir", "dir/"),
    ],
)
def test_names_that_collide_on_some_file_system_are_refused(
    first: str, second: str, tmp_path: Path
) -> None:
    data = build_zip([Entry(first, b"1"), Entry(second, b"" if second.endswith("/") else b"2")])
    error = refused_bytes(data, tmp_path)
    assert error.code == "zip_invalid"


def test_ordinary_unusual_names_are_kept_as_the_person_wrote_them(tmp_path: Path) -> None:
    names = ["résumé.csv", "データ/表.csv", "data 10:30.csv", "a..b.csv", "x/.hidden.csv"]
    result = extracted(build_zip([Entry(n, n.encode()) for n in names]), tmp_path)
    assert [m.name for m in result.members] == names
    assert [m.path.read_bytes().decode() for m in result.members] == names
    assert all(MEMBER_FILE.fullmatch(m.path.name) for m in result.members)


def test_macos_junk_is_skipped_with_a_note(tmp_path: Path) -> None:
    entries = [
        Entry("data/", mode=stat.S_IFDIR | 0o755),
        Entry("data/a.csv", b"a\n1\n"),
        Entry("data/.DS_Store", b"junk"),
        Entry("data/._a.csv", b"junk"),
        Entry("__MACOSX/data/x", b"junk"),
    ]
    result = extracted(build_zip(entries), tmp_path)
    assert [m.name for m in result.members] == ["data/a.csv"]
    reasons = [s.reason for s in result.skipped]
    assert reasons[0] == "directory"
    assert len(reasons) == 4
    assert all("macOS" in r for r in reasons[1:])


# -- entry types, encryption and methods ------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        (stat.S_IFLNK | 0o777, "symbolic link"),
        (stat.S_IFIFO | 0o644, "FIFO"),
        (stat.S_IFCHR | 0o644, "character device"),
        (stat.S_IFBLK | 0o644, "block device"),
        (stat.S_IFSOCK | 0o644, "socket"),
    ],
)
def test_links_and_special_files_are_refused(mode: int, words: str, tmp_path: Path) -> None:
    data = build_zip([Entry("ok.csv", b"a"), Entry("link", b"/etc/passwd", mode=mode)])
    error = refused_bytes(data, tmp_path)
    assert error.code == "zip_symlink"
    assert words in error.message


def test_a_symlink_written_by_zipfile_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../etc/passwd")
    assert refused_bytes(buffer.getvalue(), tmp_path).code == "zip_symlink"


def test_a_folder_entry_that_carries_data_is_refused(tmp_path: Path) -> None:
    data = build_zip([Entry("dir/", b"hidden", mode=stat.S_IFDIR | 0o755)])
    assert refused_bytes(data, tmp_path).code == "zip_invalid"


@pytest.mark.parametrize(
    "entry",
    [
        Entry("secret.csv", b"x", flags=0x0001),
        Entry("secret.csv", b"x", flags=0x0040),
        Entry("secret.csv", b"x", method=99),
    ],
    ids=["traditional", "strong", "aes"],
)
def test_encrypted_entries_are_refused(entry: Entry, tmp_path: Path) -> None:
    error = refused_bytes(build_zip([entry]), tmp_path)
    assert error.code == "zip_encrypted"
    assert "password-protected; upload it unencrypted" in error.message


def test_encryption_flagged_only_in_the_local_header_is_refused(tmp_path: Path) -> None:
    data = patched(build_zip([Entry("a.csv", b"x")]), 6, "<H", 0x0001)
    assert refused_bytes(data, tmp_path).code == "zip_encrypted"


@pytest.mark.parametrize(
    ("method", "words"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
)
def test_compression_other_than_stored_and_deflate_is_refused(
    method: int, words: str, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        zf.writestr("a.csv", "a,b\n" * 1000)
    error = refused_bytes(buffer.getvalue(), tmp_path)
    assert error.code == "zip_invalid"
    assert words in error.message


def test_deflate64_is_refused_by_name(tmp_path: Path) -> None:
    error = refused_bytes(build_zip([Entry("a.csv", payload=b"\x00" * 8, method=9)]), tmp_path)
    assert error.code == "zip_invalid"
    assert "Deflate64" in error.message


# -- counts, sizes and bombs ------------------------------------------------------------------


def forbid_zipfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if zipfile gets to build ZipInfo objects."""

    def no_zipinfo_please(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile parsed the central directory")

    monkeypatch.setattr(zipfile, "ZipFile", no_zipinfo_please)


def test_ten_thousand_entries_are_refused_from_the_end_record_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build_zip([Entry(f"f{i}.csv", b"x") for i in range(10_000)])
    path = write(tmp_path, data)
    forbid_zipfile(monkeypatch)
    error = refused(path, tmp_path)
    assert error.code == "zip_too_many_entries"
    assert error.message == "The ZIP holds 10,000 entries; the limit is 200."


def test_an_end_record_that_understates_the_entries_is_caught_before_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build_zip([Entry(f"f{i}.csv", b"x") for i in range(10_000)])
    end = len(data) - 22
    data = patched(patched(data, end + 8, "<H", 1), end + 10, "<H", 1)
    path = write(tmp_path, data)
    forbid_zipfile(monkeypatch)
    assert refused(path, tmp_path).code == "zip_invalid"


@pytest.fixture(scope="module")
def gigabyte_of_zeros() -> tuple[bytes, int]:
    return zeros_member(1024)


@pytest.mark.parametrize(
    ("max_bytes", "words"),
    [
        (500_000_000, "would expand to 1.1 GB; the limit is 500.0 MB"),
        (2 * 10**9, "ratio over 100:1"),
    ],
)
def test_a_gigabyte_of_zeros_is_refused_without_decompressing_a_byte(
    max_bytes: int, words: str, gigabyte_of_zeros: tuple[bytes, int], tmp_path: Path
) -> None:
    payload, crc = gigabyte_of_zeros
    entry = Entry("zeros.csv", method=zipfile.ZIP_DEFLATED, payload=payload, size=1 << 30, crc=crc)
    path = write(tmp_path, build_zip([entry]))
    limits = Limits.default(max_zip_uncompressed_bytes=max_bytes)
    budget = ByteBudget(max_bytes)
    error = refused(path, tmp_path, limits, budget)
    assert error.code == "zip_bomb"
    assert words in error.message
    assert budget.remaining == budget.total


def test_a_gigabyte_of_zeros_declared_as_one_mebibyte_stops_at_one_mebibyte(
    gigabyte_of_zeros: tuple[bytes, int], tmp_path: Path
) -> None:
    payload, crc = gigabyte_of_zeros
    entry = Entry("zeros.csv", method=zipfile.ZIP_DEFLATED, payload=payload, size=MiB, crc=crc)
    budget = ByteBudget(LIMITS.max_zip_uncompressed_bytes)
    error = refused(write(tmp_path, build_zip([entry])), tmp_path, budget=budget)
    assert error.code == "zip_invalid"
    assert budget.total - budget.remaining <= MiB


def test_the_counted_ratio_check_stops_a_member_after_a_few_mebibytes(
    gigabyte_of_zeros: tuple[bytes, int], tmp_path: Path
) -> None:
    """Declared sizes refuse first; this drives the streaming check behind them directly."""
    payload, crc = gigabyte_of_zeros
    entry = Entry("zeros.csv", method=zipfile.ZIP_DEFLATED, payload=payload, size=1 << 30, crc=crc)
    path = write(tmp_path, build_zip([entry]))
    limits = Limits.default(max_zip_uncompressed_bytes=2 * 10**9, max_zip_ratio=3.0)
    received: list[int] = []
    with archive._open_zip(path) as zf, pytest.raises(ArchiveError) as caught:
        [info] = zf.infolist()
        archive._stream_member(
            zf, info, limits, ByteBudget(10**12), lambda c: received.append(len(c))
        )
    assert caught.value.code == "zip_bomb"
    assert "ratio over 3:1" in caught.value.message
    assert sum(received) < 20 * MiB


def test_a_highly_compressed_member_within_the_configured_ratio_is_extracted(
    tmp_path: Path,
) -> None:
    payload, crc = zeros_member(3)
    entry = Entry("zeros.csv", method=zipfile.ZIP_DEFLATED, payload=payload, size=3 * MiB, crc=crc)
    result = extracted(build_zip([entry]), tmp_path, Limits.default(max_zip_ratio=10_000.0))
    assert result.members[0].size == 3 * MiB
    assert result.members[0].path.read_bytes() == bytes(3 * MiB)


def test_the_budget_counts_all_members_together(tmp_path: Path) -> None:
    entries = [Entry(f"part{i}.bin", bytes(range(256)) * 1600) for i in range(3)]  # 3 x 409,600
    path = write(tmp_path, build_zip(entries))
    budget = ByteBudget(1_000_000)
    assert refused(path, tmp_path, budget=budget).code == "zip_bomb"
    small = Limits.default(max_zip_uncompressed_bytes=1_000_000)
    assert refused(path, tmp_path, small).code == "zip_bomb"
    assert len(safe_unzip(path, dest(tmp_path), LIMITS, budget=ByteBudget(1_228_800)).members) == 3


def test_byte_budget_refuses_what_it_does_not_have() -> None:
    budget = ByteBudget(10)
    budget.take(4)
    budget.take(6)
    assert budget.remaining == 0
    with pytest.raises(ArchiveError) as caught:
        budget.take(1)
    assert caught.value.code == "zip_bomb"
    assert budget.remaining == 0
    with pytest.raises(ValueError, match="negative"):
        ByteBudget(-1)


LOCAL_FIELDS = {"crc": 14, "csize": 18, "usize": 22}
CENTRAL_FIELDS = {"crc": 16, "csize": 20, "usize": 24}


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("central", "usize", 1000),
        ("central", "usize", 600_000),
        ("local", "usize", 1000),
        ("local", "usize", 600_000),
        ("both", "usize", 1000),
        ("both", "usize", 600_000),
        ("both", "usize", 0xFFFFFFF0),
        ("central", "csize", 10_000_000),
        ("both", "csize", 100),
        ("both", "csize", 250_000),
        ("central", "crc", 0xDEADBEEF),
        ("both", "crc", 0xDEADBEEF),
    ],
)
def test_lying_sizes_and_checksums_are_refused_as_damaged_or_bombs(
    where: str, field: str, value: int, tmp_path: Path
) -> None:
    text = "".join(f"{i},{i * i % 9973},row {i}\n" for i in range(20_000)).encode()
    data = build_zip([Entry("a.csv", text[:300_000], method=zipfile.ZIP_DEFLATED)])
    cd = central_offset(data)
    if where in ("local", "both"):
        data = patched(data, LOCAL_FIELDS[field], "<L", value)
    if where in ("central", "both"):
        data = patched(data, cd + CENTRAL_FIELDS[field], "<L", value)
    assert refused_bytes(data, tmp_path).code in {"zip_invalid", "zip_bomb"}


def test_a_checksum_error_in_a_later_member_removes_the_earlier_ones(tmp_path: Path) -> None:
    entries = [Entry("a.csv", b"a" * 5000), Entry("b.csv", b"b" * 5000)]
    data = bytearray(build_zip(entries))
    data[data.index(b"b" * 10) + 100] = ord("c")
    error = refused_bytes(bytes(data), tmp_path)
    assert error.code == "zip_invalid"
    assert "'b.csv'" in error.message


# -- layout: overlap, prepended and appended data ---------------------------------------------


def test_entries_that_share_bytes_are_refused_as_a_bomb(tmp_path: Path) -> None:
    inner = Entry("b.csv", b"shared data " * 100)
    quoted = inner.local_header() + inner.compressed
    outer = Entry("a.csv", quoted)  # a's data is b's whole record: both are consistent
    first = outer.local_header()
    body = first + quoted
    directory = outer.central_header(0) + inner.central_header(len(first))
    data = body + directory + end_record(2, len(directory), len(body))
    error = refused_bytes(data, tmp_path)
    assert error.code == "zip_bomb"
    assert "overlap" in error.message


def test_an_entry_reaching_into_the_central_directory_is_refused(tmp_path: Path) -> None:
    entry = Entry("a.csv", b"x" * 100)
    data = build_zip([entry])
    cd = central_offset(data)
    grown = len(entry.compressed) + 20
    for offset in (18, cd + 20):
        data = patched(data, offset, "<L", grown)
    for offset in (22, cd + 24):
        data = patched(data, offset, "<L", grown)
    assert refused_bytes(data, tmp_path).code == "zip_bomb"


def test_local_and_central_names_must_agree(tmp_path: Path) -> None:
    data = build_zip([Entry("a.csv", b"1")])
    data = data.replace(b"a.csv", b"b.csv", 1)  # the local header comes first
    assert refused_bytes(data, tmp_path).code == "zip_invalid"


def test_bytes_prepended_to_an_archive_are_refused(tmp_path: Path) -> None:
    stub = b"#!/bin/sh\necho self-extracting\nexit 0\n"
    naive = build_zip([Entry("a.csv", b"1")], prefix=stub)
    assert refused_bytes(naive, tmp_path).code == "zip_invalid"
    adjusted = build_zip([Entry("a.csv", b"1")], prefix=stub, offsets_from=len(stub))
    error = refused_bytes(adjusted, tmp_path)
    assert error.code == "zip_invalid"
    assert "before its first entry" in error.message


@pytest.mark.parametrize("suffix", [b"x", b"PK\x05\x06", b"\x00" * 100])
def test_bytes_appended_to_an_archive_are_refused(suffix: bytes, tmp_path: Path) -> None:
    data = build_zip([Entry("a.csv", b"1")]) + suffix
    assert refused_bytes(data, tmp_path).code == "zip_invalid"


def test_a_truncated_archive_is_refused(tmp_path: Path) -> None:
    data = build_zip([Entry("a.csv", b"1" * 1000)])
    for cut in (1, 30, 1000):
        assert refused_bytes(data[:-cut], tmp_path).code == "zip_invalid"


def test_a_multi_part_archive_is_refused(tmp_path: Path) -> None:
    data = build_zip([Entry("a.csv", b"1")])
    assert refused_bytes(patched(data, len(data) - 22 + 4, "<H", 1), tmp_path).code == "zip_invalid"


def test_a_comment_of_the_largest_size_is_accepted(tmp_path: Path) -> None:
    data = build_zip([Entry("a.csv", b"1")], comment=b"c" * 0xFFFF)
    assert [m.name for m in extracted(data, tmp_path).members] == ["a.csv"]


def test_zip64_sizes_in_extra_fields_are_read_and_checked(tmp_path: Path) -> None:
    entry = Entry("big.csv", b"a,b\n" * 1000, method=zipfile.ZIP_DEFLATED, zip64=True)
    data = build_zip([entry])
    assert [m.size for m in extracted(data, tmp_path / "honest").members] == [4000]
    local_usize = 30 + len(b"big.csv") + 4
    lying = patched(data, local_usize, "<Q", 3999)
    assert refused_bytes(lying, tmp_path / "lying").code == "zip_invalid"


def test_an_empty_archive_extracts_nothing(tmp_path: Path) -> None:
    assert extracted(build_zip([]), tmp_path) == Extraction((), ())


# -- formats the writer of an archive may choose ----------------------------------------------


def test_a_nested_zip_is_extracted_as_a_plain_member(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("deep.csv", "a,b\n1,2\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner.zip", inner.getvalue())
    result = extracted(outer.getvalue(), tmp_path)
    assert [m.name for m in result.members] == ["inner.zip"]
    assert result.members[0].path.read_bytes() == inner.getvalue()


def test_zip64_entries_written_by_zipfile_are_accepted(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("a.csv", "b.csv"):
            with zf.open(name, "w", force_zip64=True) as member:
                member.write(b"x,y\n" * 10_000)
    result = extracted(buffer.getvalue(), tmp_path)
    assert [(m.name, m.size) for m in result.members] == [("a.csv", 40_000), ("b.csv", 40_000)]


def zip64_end(data: bytes, entries: int) -> bytes:
    """Replace the end record of ``data`` with a ZIP64 record, locator and a masked end."""
    cd_size, cd_offset = struct.unpack_from("<2L", data, len(data) - 22 + 12)
    body = data[:-22]
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size, cd_offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    masked = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + record + locator + masked


def test_a_zip64_end_record_is_read(tmp_path: Path) -> None:
    data = zip64_end(build_zip([Entry("a.csv", b"1"), Entry("b.csv", b"2")]), 2)
    assert [m.name for m in extracted(data, tmp_path).members] == ["a.csv", "b.csv"]


def test_a_zip64_end_record_counting_too_many_entries_is_refused(tmp_path: Path) -> None:
    data = zip64_end(build_zip([Entry("a.csv", b"1")]), 10**12)
    assert refused_bytes(data, tmp_path).code == "zip_too_many_entries"


class Unseekable(io.RawIOBase):
    """Makes zipfile write data descriptors, as streaming writers do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:
        self.data += b
        return len(b)


def streamed_zip() -> bytes:
    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", "a,b\n" * 500)
        zf.writestr("b.csv", "c,d\n" * 500)
    return bytes(sink.data)


def test_entries_with_data_descriptors_are_accepted(tmp_path: Path) -> None:
    data = streamed_zip()
    assert data.count(b"PK\x07\x08") == 2
    result = extracted(data, tmp_path)
    assert [m.path.read_bytes() for m in result.members] == [b"a,b\n" * 500, b"c,d\n" * 500]


def test_a_data_descriptor_that_disagrees_is_refused(tmp_path: Path) -> None:
    data = streamed_zip()
    at = data.index(b"PK\x07\x08")
    assert refused_bytes(patched(data, at + 4, "<L", 0), tmp_path).code == "zip_invalid"


def test_existing_files_in_the_destination_are_never_overwritten(tmp_path: Path) -> None:
    out = dest(tmp_path)
    (out / "00000.member").write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        safe_unzip(write(tmp_path, build_zip([Entry("a.csv", b"theirs")])), out, LIMITS)
    assert (out / "00000.member").read_bytes() == b"mine"


# -- random input -----------------------------------------------------------------------------

NAME_ALPHABET = st.sampled_from(list("ab/\\.:_ -\x00\x01\u00e9\u65e5\u202e\uff0e"))
ENTRY = st.tuples(
    st.text(NAME_ALPHABET, max_size=10),
    st.binary(max_size=300),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    st.sampled_from([stat.S_IFREG | 0o644, stat.S_IFDIR | 0o755, stat.S_IFLNK | 0o777, 0]),
)
CORRUPTION = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=3)
RANDOM_INPUT = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def check_outcome(data: bytes, tmp_path: Path) -> None:
    """safe_unzip either extracts into dest only, or refuses with an IngestError and cleans up."""
    work = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    work.mkdir()
    path = work / "upload.zip"
    path.write_bytes(data)
    out = work / "out"
    out.mkdir()
    before = snapshot(tmp_path)
    try:
        result = safe_unzip(path, out, LIMITS)
    except IngestError:
        assert list(out.iterdir()) == []
        assert snapshot(tmp_path) == before
        shutil.rmtree(work)
        return
    created = set(snapshot(tmp_path)) - set(before)
    assert created == {m.path for m in result.members}
    for member in result.members:
        assert member.path.parent == out
        assert member.path.stat().st_size == member.size
        assert ".." not in member.name.split("/")
        assert "\\" not in member.name
        assert not member.name.startswith("/")
    shutil.rmtree(work)


@RANDOM_INPUT
@given(data=st.binary(max_size=2000), zip_like=st.booleans())
def test_random_bytes_only_ever_raise_ingest_errors(
    data: bytes, zip_like: bool, tmp_path: Path
) -> None:
    check_outcome((b"PK\x03\x04" if zip_like else b"") + data, tmp_path)


@RANDOM_INPUT
@given(entries=st.lists(ENTRY, max_size=5), corruption=CORRUPTION)
def test_random_archives_extract_safely_or_are_refused(
    entries: list[tuple[str, bytes, int, int]],
    corruption: list[tuple[int, int]],
    tmp_path: Path,
) -> None:
    built = [Entry(name, data, method=method, mode=mode) for name, data, method, mode in entries]
    data = bytearray(build_zip(built))
    for position, value in corruption:
        data[position % len(data)] = value
    check_outcome(bytes(data), tmp_path)


@RANDOM_INPUT
@given(entries=st.lists(ENTRY, min_size=1, max_size=3), cut=st.integers(min_value=1))
def test_random_archives_cut_short_are_handled_safely(
    entries: list[tuple[str, bytes, int, int]], cut: int, tmp_path: Path
) -> None:
    built = [Entry(name, data, method=method, mode=mode) for name, data, method, mode in entries]
    data = build_zip(built)
    check_outcome(data[: cut % len(data)], tmp_path)


# -- batches and member hashes ------------------------------------------------------------------


def test_members_carry_the_sha256_of_the_bytes_written(tmp_path: Path) -> None:
    result = safe_unzip(SHARED_DATA / "zips" / "Bike-Sharing-Dataset.zip", dest(tmp_path), LIMITS)
    assert result.resume is None
    for member in result.members:
        assert member.sha256 == sha256(member.path)


def test_batches_extract_the_same_members_as_one_call(tmp_path: Path) -> None:
    entries = [Entry(f"dir/{i}/", b"") for i in range(2)] + [
        Entry(f"part{i}.csv", f"a,b\n{i},{i}\n".encode() * 100) for i in range(5)
    ]
    path = write(tmp_path, build_zip(entries))
    whole = safe_unzip(path, dest(tmp_path), LIMITS)
    batches_dir = tmp_path / "batches"
    batches_dir.mkdir()
    budget = ByteBudget(LIMITS.max_zip_uncompressed_bytes)
    members: list[ExtractedMember] = []
    skipped: list[Skipped] = []
    start: int | None = 0
    calls = 0
    while start is not None:
        batch = safe_unzip(path, batches_dir, LIMITS, budget, start, 1)
        members += batch.members
        skipped += batch.skipped
        start, calls = batch.resume, calls + 1
    assert calls == 5  # one member per batch: each is at least the batch size
    assert [(m.name, m.size, m.sha256) for m in members] == [
        (m.name, m.size, m.sha256) for m in whole.members
    ]
    assert [m.path.name for m in members] == [m.path.name for m in whole.members]
    assert skipped == list(whole.skipped)
    assert budget.remaining == LIMITS.max_zip_uncompressed_bytes - sum(m.size for m in members)


def test_a_later_batch_is_refused_when_the_rest_exceeds_the_budget(tmp_path: Path) -> None:
    entries = [Entry(f"part{i}.bin", bytes(range(256)) * 1600) for i in range(3)]  # 3 x 409,600
    path = write(tmp_path, build_zip(entries))
    first = safe_unzip(path, dest(tmp_path), LIMITS, ByteBudget(1_228_800), 0, 1)
    assert (len(first.members), first.resume) == (1, 1)
    later = tmp_path / "later"
    later.mkdir()
    with pytest.raises(ArchiveError) as caught:
        safe_unzip(path, later, LIMITS, ByteBudget(2 * 409_600 - 1), 1, 1)
    assert caught.value.code == "zip_bomb"
    assert list(later.iterdir()) == []
