"""Safe ZIP extraction: every structural check first, then counted, streamed output.

Python's ``zipfile`` trusts what an archive says about itself (3.11.7 has no overlap
check, CVE-2024-0450), so the structure is checked here from the raw records, before
``zipfile`` builds a ``ZipInfo``; ``zipfile`` then only decompresses members already
known to be sound. Member names are never used as paths: output files get generated
names inside the destination directory. Nested archives are extracted as plain bytes;
the pipeline recurses, passing one :class:`ByteBudget` down every level.

Members are hashed as they are written (in a helper thread, while the next chunk is
inflated), and a large archive can be extracted in batches (``start``/``batch_bytes``),
so the pipeline can validate the members of one batch while the next is inflated.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

from ..exceptions import ArchiveError, IngestError
from .limits import Limits
from .quarantine import CHUNK_BYTES, human_bytes, write_all

__all__ = [
    "ByteBudget",
    "ExtractedMember",
    "Extraction",
    "Skipped",
    "check_zip_structure",
    "safe_unzip",
]

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIG = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")
_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_EOCD64_SIG = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIG = b"PK\x03\x04"
_DESCRIPTOR_SIG = b"PK\x07\x08"
_DESCRIPTORS = (struct.Struct("<LLL"), struct.Struct("<LQQ"))
# zipfile looks for the end record in this window; searching the same one means both
# of us find the same record.
_END_SEARCH = (1 << 16) + _EOCD.size
_ZIP64_EXTRA_ID = 0x0001
_ZIP64_MARK = 0xFFFFFFFF

_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_PATCHED = 0x0020
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
_FLAG_MASKED_HEADER = 0x2000
_ANY_ENCRYPTION = _FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION | _FLAG_MASKED_HEADER
_METHOD_AES = 99
_ALLOWED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_METHOD_NAMES = {
    1: "Shrink",
    6: "Implode",
    9: "Deflate64",
    12: "bzip2",
    14: "LZMA",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
}

# Hosts whose external attributes carry a Unix mode (3 = Unix, 19 = macOS).
_UNIX_HOSTS = frozenset({3, 19})
_SPECIAL_TYPES = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO (named pipe)",
    stat.S_IFSOCK: "socket",
}
_MAX_NAME = 1024
_MAX_NAME_PART = 255
# Small members may legitimately compress far beyond the ratio (a file of spaces); the
# ratio only starts to count once a member has produced this much.
_RATIO_GRACE = CHUNK_BYTES
_DRIVE = re.compile(r"[A-Za-z]:")
# Characters that reorder or break the displayed name without being visible.
_INVISIBLE_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)
_MACOS_METADATA = "macOS metadata (__MACOSX/, ._*, .DS_Store)"
_DIRECTORY = "directory"

# What zipfile (and zlib under it) raise on malformed input; all mean "damaged archive".
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    struct.error,
    OSError,
    UnicodeError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OverflowError,
    KeyError,
    IndexError,
)


class ByteBudget:
    """Bytes an upload may still expand to, shared across nested archives.

    The pipeline hands the same budget to every level of nesting, so a ZIP of ZIPs is
    counted against one ``max_zip_uncompressed_bytes``, not one per level.
    """

    def __init__(self, total: int) -> None:
        if total < 0:
            raise ValueError(f"a byte budget cannot be negative, got {total}")
        self.total = total
        self.remaining = total

    def take(self, n: int) -> None:
        """Spend ``n`` bytes, or refuse the archive when they are not left."""
        if n < 0:
            raise ValueError(f"cannot take a negative number of bytes, got {n}")
        if n > self.remaining:
            raise ArchiveError(
                f"The archive expands to more than {human_bytes(self.total)} in total, "
                f"nested archives included; the limit is {human_bytes(self.total)}.",
                code="zip_bomb",
            )
        self.remaining -= n

    def __repr__(self) -> str:
        return f"ByteBudget(total={self.total}, remaining={self.remaining})"


@dataclass(frozen=True)
class ExtractedMember:
    """One extracted member: its name in the archive, where its bytes are now, their
    SHA-256 (taken while writing them)."""

    name: str
    path: Path
    size: int
    compressed_size: int
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """An entry that was deliberately not extracted, and why (shown to the person)."""

    name: str
    reason: str


@dataclass(frozen=True)
class Extraction:
    """What one call extracted; ``resume`` is the entry index to continue from (None: done)."""

    members: tuple[ExtractedMember, ...]
    skipped: tuple[Skipped, ...]
    resume: int | None = None


@dataclass(frozen=True)
class _EndRecord:
    entries: int
    cd_offset: int
    cd_size: int
    cd_end: int  # where the central directory must end: at the (ZIP64) end record


@dataclass(frozen=True)
class _CentralName:
    raw: bytes
    text: str


# -- errors ---------------------------------------------------------------------------------


def _invalid(message: str) -> ArchiveError:
    return ArchiveError(message, code="zip_invalid")


def _bomb(message: str) -> ArchiveError:
    return ArchiveError(message, code="zip_bomb")


def _encrypted(shown: str) -> ArchiveError:
    return ArchiveError(
        f"The ZIP entry {shown} is password-protected; upload it unencrypted.",
        code="zip_encrypted",
    )


@contextmanager
def _damaged(message: str) -> Iterator[None]:
    """Turn whatever zipfile raises on malformed input into one refusal."""
    try:
        yield
    except IngestError:
        raise
    except _PARSE_ERRORS as exc:
        raise _invalid(message) from exc


def _show(name: str, limit: int = 60) -> str:
    """A member name fit for a message: invisible characters escaped, length clipped."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


# -- the end record and the central directory -------------------------------------------------


def _read_exact(handle: BinaryIO, offset: int, n: int) -> bytes:
    handle.seek(offset)
    data = handle.read(n)
    if len(data) != n:
        raise _invalid("The ZIP archive is truncated; a record runs past the end of the file.")
    return data


def _find_end_record(handle: BinaryIO, size: int) -> int:
    """Offset of the end-of-central-directory record, chosen exactly as zipfile does."""
    not_zip = _invalid("The file is not a ZIP archive (it has no ZIP end record).")
    if size < _EOCD.size:
        raise not_zip
    last = _read_exact(handle, size - _EOCD.size, _EOCD.size)
    if last.startswith(_EOCD_SIG) and last.endswith(b"\x00\x00"):
        return size - _EOCD.size
    start = max(size - _END_SEARCH, 0)
    found = _read_exact(handle, start, size - start).rfind(_EOCD_SIG)
    if found < 0:
        raise not_zip
    return start + found


def _read_end_record(handle: BinaryIO) -> _EndRecord:
    size = os.fstat(handle.fileno()).st_size
    pos = _find_end_record(handle, size)
    fields = _EOCD.unpack(_read_exact(handle, pos, _EOCD.size))
    _, disk, cd_disk, disk_entries, entries, cd_size, cd_offset, comment_length = fields
    if pos + _EOCD.size + comment_length != size:
        raise _invalid(
            "The ZIP archive's end record does not match the file's length; the file is "
            "damaged or has data appended."
        )
    if pos >= _LOCATOR.size and _read_exact(handle, pos - _LOCATOR.size, 4) == _LOCATOR_SIG:
        return _read_zip64_end_record(handle, pos)
    _require_single_disk(disk, cd_disk, disk_entries, entries)
    return _EndRecord(entries, cd_offset, cd_size, pos)


def _read_zip64_end_record(handle: BinaryIO, pos: int) -> _EndRecord:
    locator = _LOCATOR.unpack(_read_exact(handle, pos - _LOCATOR.size, _LOCATOR.size))
    _, record_disk, record_offset, disks = locator
    record_pos = pos - _LOCATOR.size - _EOCD64.size
    # zipfile assumes the ZIP64 record sits right before its locator; insist on it.
    if record_pos < 0 or record_offset != record_pos or record_disk != 0 or disks > 1:
        raise _invalid("The ZIP archive's ZIP64 end record is missing or misplaced.")
    record = _EOCD64.unpack(_read_exact(handle, record_pos, _EOCD64.size))
    signature, record_size, _, _, disk, cd_disk, disk_entries, entries, cd_size, cd_offset = record
    if signature != _EOCD64_SIG or record_size != _EOCD64.size - 12:
        raise _invalid("The ZIP archive's ZIP64 end record is damaged.")
    _require_single_disk(disk, cd_disk, disk_entries, entries)
    return _EndRecord(entries, cd_offset, cd_size, record_pos)


def _require_single_disk(disk: int, cd_disk: int, disk_entries: int, entries: int) -> None:
    if disk or cd_disk or disk_entries != entries:
        raise _invalid(
            "The ZIP archive is split across several parts; only single-file archives are accepted."
        )


def _decode_name(raw: bytes, flags: int) -> str:
    """Decode as zipfile does (UTF-8 when flagged, else CP437), refusing bad UTF-8."""
    if not flags & _FLAG_UTF8:
        return raw.decode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = _show(raw.decode("utf-8", "replace"))
        raise _invalid(f"The ZIP entry name {shown} is marked as UTF-8 but is not.") from None


def _read_central_names(handle: BinaryIO, end: _EndRecord) -> list[_CentralName]:
    """Walk the central directory's raw records, at most ``end.entries`` of them."""
    if end.cd_offset + end.cd_size != end.cd_end:
        raise _invalid(
            "The ZIP archive's central directory is not where its end record says; the "
            "file is damaged or has data added in front."
        )
    names: list[_CentralName] = []
    offset = end.cd_offset
    for _ in range(end.entries):
        if offset + _CENTRAL.size > end.cd_end:
            break
        fields = _CENTRAL.unpack(_read_exact(handle, offset, _CENTRAL.size))
        if fields[0] != _CENTRAL_SIG:
            break
        flags, name_length, extra_length, comment_length = fields[5], *fields[12:15]
        raw = _read_exact(handle, offset + _CENTRAL.size, name_length)
        names.append(_CentralName(raw, _decode_name(raw, flags)))
        offset += _CENTRAL.size + name_length + extra_length + comment_length
    if len(names) != end.entries or offset != end.cd_end:
        raise _invalid(
            "The ZIP archive's central directory does not match its end record (entry "
            "count or size); the file is damaged or altered."
        )
    return names


def _zip_infos(
    handle: BinaryIO, end: _EndRecord, names: list[_CentralName]
) -> list[zipfile.ZipInfo]:
    """Let zipfile parse the directory we walked, and make sure it read the same one."""
    unreadable = "The ZIP archive's central directory could not be read; it is damaged."
    with _damaged(unreadable), zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        start = archive.start_dir
    if start != end.cd_offset or [i.orig_filename for i in infos] != [n.text for n in names]:
        raise _invalid(
            "The ZIP archive's central directory is ambiguous; it is damaged or altered."
        )
    return infos


# -- sizes ----------------------------------------------------------------------------------


def _ratio_exceeded(expanded: int, compressed: int, limits: Limits) -> bool:
    return expanded > _RATIO_GRACE and expanded > compressed * limits.max_zip_ratio


def _ratio_refusal(info: zipfile.ZipInfo, expanded: int, limits: Limits) -> ArchiveError:
    return _bomb(
        f"The ZIP entry {_show(info.orig_filename)} expands {human_bytes(info.compress_size)} "
        f"to {human_bytes(expanded)} or more, a compression ratio over "
        f"{limits.max_zip_ratio:g}:1; the limit is {limits.max_zip_ratio:g}:1."
    )


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse early on what the headers admit to; nothing is accepted on their word."""
    total = sum(info.file_size for info in infos)
    if total > limits.max_zip_uncompressed_bytes:
        raise _bomb(
            f"The ZIP would expand to {human_bytes(total)}; the limit is "
            f"{human_bytes(limits.max_zip_uncompressed_bytes)}."
        )
    for info in infos:
        if _ratio_exceeded(info.file_size, info.compress_size, limits):
            raise _ratio_refusal(info, info.file_size, limits)


# -- names and entry types ------------------------------------------------------------------


def _is_parent_reference(part: str) -> bool:
    """``..`` and the spellings Windows reads as ``..`` (``...``, ``.. ``)."""
    return part.count(".") >= 2 and not part.strip(" .")


def _traversal(name: str) -> str | None:
    if "\\" in name:
        return "uses a backslash"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if any(_is_parent_reference(part) for part in name.split("/")):
        return "climbs out with '..'"
    return None


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in _INVISIBLE_CONTROLS


def _check_name(name: str) -> None:
    """Refuse unsafe or unreadable names; names are display data and never rewritten."""
    if not name:
        raise _invalid("The ZIP archive has an entry with an empty name.")
    shown = _show(name)
    # NFKC catches look-alikes that Windows "best fit" conversion turns into '..' or '\'.
    for form in dict.fromkeys((name, unicodedata.normalize("NFKC", name))):
        reason = _traversal(form)
        if reason is not None:
            raise ArchiveError(
                f"The ZIP entry {shown} {reason}; entry names must be relative paths "
                "that stay inside the archive.",
                code="zip_path_traversal",
            )
    if any(_is_control(ch) for ch in name):
        raise _invalid(
            f"The ZIP entry {shown} has a control character in its name; names must be "
            "printable text."
        )
    if len(name) > _MAX_NAME:
        raise _invalid(
            f"The ZIP entry {shown} has a name of {len(name):,} characters; the limit is "
            f"{_MAX_NAME:,}."
        )
    longest = max(len(part) for part in name.split("/"))
    if longest > _MAX_NAME_PART:
        raise _invalid(
            f"The ZIP entry {shown} has a folder or file name of {longest:,} characters; "
            f"the limit is {_MAX_NAME_PART}."
        )


def _unix_type(info: zipfile.ZipInfo) -> int:
    if info.create_system not in _UNIX_HOSTS:
        return 0
    return stat.S_IFMT(info.external_attr >> 16)


def _is_directory(info: zipfile.ZipInfo) -> bool:
    return info.orig_filename.endswith("/") or _unix_type(info) == stat.S_IFDIR


def _check_entry(info: zipfile.ZipInfo) -> None:
    """Only unencrypted regular files and folders, stored or deflated."""
    shown = _show(info.orig_filename)
    if info.flag_bits & _ANY_ENCRYPTION or info.compress_type == _METHOD_AES:
        raise _encrypted(shown)
    if info.flag_bits & _FLAG_PATCHED:
        raise _invalid(f"The ZIP entry {shown} uses patch data, which is not supported.")
    if info.compress_type not in _ALLOWED_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise _invalid(
            f"The ZIP entry {shown} uses {method} compression; only stored and deflate are "
            "accepted."
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise _invalid(f"The ZIP entry {shown} is stored but declares two different sizes.")
    kind = _unix_type(info)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        what = _SPECIAL_TYPES.get(kind, f"special file (type {kind:#o})")
        raise ArchiveError(
            f"The ZIP entry {shown} is a {what}; only regular files and folders are accepted.",
            code="zip_symlink",
        )
    if _is_directory(info) and info.file_size:
        raise _invalid(f"The ZIP folder entry {shown} carries data; folders must be empty.")


def _collision_key(name: str) -> str:
    """The path a case-insensitive, normalising file system would make of the name."""
    parts = [p for p in unicodedata.normalize("NFC", name).split("/") if p not in ("", ".")]
    return unicodedata.normalize("NFC", "/".join(parts).casefold())


def _check_unique(infos: list[zipfile.ZipInfo]) -> None:
    seen: dict[str, str] = {}
    for info in infos:
        name = info.orig_filename
        key = _collision_key(name)
        if not key:
            raise _invalid(f"The ZIP entry {_show(name)} has no file name.")
        other = seen.get(key)
        if other is None:
            seen[key] = name
            continue
        if other == name:
            raise _invalid(f"The ZIP archive holds two entries named {_show(name)}.")
        raise _invalid(
            f"The ZIP entries {_show(other)} and {_show(name)} name the same path when "
            "letter case and Unicode form are ignored; names must be unique."
        )


# -- layout: local headers and overlap ------------------------------------------------------


def _extra_block(extra: bytes, header_id: int) -> bytes | None:
    offset = 0
    while offset + 4 <= len(extra):
        block_id, length = struct.unpack_from("<HH", extra, offset)
        block = extra[offset + 4 : offset + 4 + length]
        if len(block) != length:
            raise _invalid("The ZIP archive has a damaged extra field in a local header.")
        if block_id == header_id:
            return block
        offset += 4 + length
    return None


def _local_sizes(csize: int, usize: int, extra: bytes) -> tuple[int, int]:
    """Sizes from a local header, taking the ZIP64 extra field when they overflow."""
    if _ZIP64_MARK not in (csize, usize):
        return csize, usize
    block = _extra_block(extra, _ZIP64_EXTRA_ID)
    if block is None or len(block) < 16:
        raise _invalid("The ZIP archive has a ZIP64 local header without its sizes.")
    usize64, csize64 = struct.unpack_from("<QQ", block)
    csize = csize64 if csize == _ZIP64_MARK else csize
    usize = usize64 if usize == _ZIP64_MARK else usize
    return csize, usize


def _descriptor_length(tail: bytes, info: zipfile.ZipInfo) -> int:
    """Length of the data descriptor at the start of ``tail``, which must agree with the
    central directory (with or without its optional signature, 32- or 64-bit sizes)."""
    expected = (info.CRC, info.compress_size, info.file_size)
    signed = tail.startswith(_DESCRIPTOR_SIG)
    for skip in (4, 0) if signed else (0,):
        for layout in _DESCRIPTORS:
            body = tail[skip : skip + layout.size]
            if len(body) == layout.size and layout.unpack(body) == expected:
                return skip + layout.size
    raise _invalid(
        f"The ZIP entry {_show(info.orig_filename)} has a data descriptor that does not "
        "match the central directory; the file is damaged or altered."
    )


def _span(
    handle: BinaryIO, info: zipfile.ZipInfo, raw_name: bytes, cd_offset: int
) -> tuple[int, int]:
    """The bytes an entry occupies, from its local header to the end of its data."""
    shown = _show(info.orig_filename)
    start = info.header_offset
    header = _LOCAL.unpack(_read_exact(handle, start, _LOCAL.size))
    signature, _, _, flags, method, _, _, crc, csize, usize, name_length, extra_length = header
    if signature != _LOCAL_SIG:
        raise _invalid(f"The ZIP entry {shown} has no valid local header; the file is damaged.")
    if flags & _ANY_ENCRYPTION:
        raise _encrypted(shown)
    if (
        _read_exact(handle, start + _LOCAL.size, name_length) != raw_name
        or method != info.compress_type
    ):
        raise _invalid(
            f"The ZIP entry {shown} has a different name or compression method in its local "
            "header; the file is damaged or altered."
        )
    extra = _read_exact(handle, start + _LOCAL.size + name_length, extra_length)
    end = start + _LOCAL.size + name_length + extra_length + info.compress_size
    if end > cd_offset:
        raise _bomb(
            f"The ZIP entry {shown} overlaps the central directory (a zip-bomb technique); "
            "entries must not share bytes."
        )
    if flags & _FLAG_DESCRIPTOR:
        descriptor = _read_exact(handle, end, min(_DESCRIPTORS[-1].size + 4, cd_offset - end))
        return start, end + _descriptor_length(descriptor, info)
    if (crc, *_local_sizes(csize, usize, extra)) != (info.CRC, info.compress_size, info.file_size):
        raise _invalid(
            f"The ZIP entry {shown} declares different sizes or checksums in its local header "
            "and in the central directory; the file is damaged or altered."
        )
    return start, end


def _check_layout(
    handle: BinaryIO, infos: list[zipfile.ZipInfo], names: list[_CentralName], cd_offset: int
) -> None:
    """Entries must tile the file from offset 0 without sharing a byte (Fifield 2019)."""
    spans = sorted(
        (_span(handle, info, name.raw, cd_offset), info.orig_filename)
        for info, name in zip(infos, names, strict=True)
    )
    first = spans[0][0][0] if spans else cd_offset
    if first:
        raise _invalid(
            f"The ZIP archive has {human_bytes(first)} of data before its first entry (a "
            "self-extracting or altered archive); only plain ZIP archives are accepted."
        )
    for ((_, previous_end), previous), ((start, _), name) in pairwise(spans):
        if start < previous_end:
            raise _bomb(
                f"The ZIP entries {_show(previous)} and {_show(name)} overlap (a zip-bomb "
                "technique); entries must not share bytes."
            )


# -- the public checks ----------------------------------------------------------------------


def _checked_infos(handle: BinaryIO, limits: Limits) -> list[zipfile.ZipInfo]:
    end = _read_end_record(handle)
    if end.entries > limits.max_zip_entries:
        raise ArchiveError(
            f"The ZIP holds {end.entries:,} entries; the limit is {limits.max_zip_entries:,}.",
            code="zip_too_many_entries",
        )
    names = _read_central_names(handle, end)
    infos = _zip_infos(handle, end, names)
    _check_declared_sizes(infos, limits)
    for info in infos:
        _check_name(info.orig_filename)
        _check_entry(info)
    _check_unique(infos)
    _check_layout(handle, infos, names, end.cd_offset)
    return infos


def check_zip_structure(path: Path, limits: Limits) -> list[zipfile.ZipInfo]:
    """All structural checks, no extraction (also used for XLSX).

    Returns the entries in central-directory order. Raises :class:`ArchiveError` with
    ``zip_too_many_entries``, ``zip_bomb``, ``zip_path_traversal``, ``zip_symlink``,
    ``zip_encrypted`` or ``zip_invalid``.
    """
    with open(path, "rb") as handle:
        return _checked_infos(handle, limits)


@contextmanager
def _open_zip(source: Path | BinaryIO) -> Iterator[zipfile.ZipFile]:
    """zipfile over an archive that already passed :func:`check_zip_structure`."""
    with _damaged("The ZIP archive could not be read; it is damaged."):
        archive = zipfile.ZipFile(source)
    with archive:
        yield archive


def _check_output(info: zipfile.ZipInfo, written: int, limits: Limits) -> None:
    if written > info.file_size:
        raise _invalid(
            f"The ZIP entry {_show(info.orig_filename)} holds more than the "
            f"{human_bytes(info.file_size)} it declares; the file is damaged or altered."
        )
    if written > limits.max_zip_uncompressed_bytes:
        raise _bomb(
            f"The ZIP entry {_show(info.orig_filename)} expands to more than "
            f"{human_bytes(limits.max_zip_uncompressed_bytes)}, the limit for one archive."
        )
    if _ratio_exceeded(written, info.compress_size, limits):
        raise _ratio_refusal(info, written, limits)


def _stream_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: Limits,
    budget: ByteBudget,
    sink: Callable[[bytes], object],
) -> int:
    """Decompress one member in 1 MiB chunks and return the bytes it really produced.

    Every limit is applied to counted bytes before a chunk reaches ``sink``, so a lying
    header can at most make us stop one chunk late, never write past a limit.
    """
    damaged = (
        f"The ZIP entry {_show(info.orig_filename)} is damaged; its data does not match "
        "its checksum or size."
    )
    written = 0
    with _damaged(damaged):
        source = archive.open(info)
    with source:
        while True:
            with _damaged(damaged):
                chunk = source.read(CHUNK_BYTES)
            if not chunk:
                break
            written += len(chunk)
            _check_output(info, written, limits)
            budget.take(len(chunk))
            sink(chunk)
    if written != info.file_size:
        raise _invalid(damaged)
    return written


def _skip_reason(info: zipfile.ZipInfo) -> str | None:
    if _is_directory(info):
        return _DIRECTORY
    name = info.orig_filename
    base = name.rsplit("/", 1)[-1]
    if name.startswith("__MACOSX/") or base.startswith("._") or base == ".DS_Store":
        return _MACOS_METADATA
    return None


def _create_member_file(dir_fd: int, file_name: str) -> int:
    # Relative to the directory's descriptor, exclusive and without following links:
    # the file is new and inside dest_dir whatever happens to the path around it.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(file_name, flags, 0o600, dir_fd=dir_fd)


def safe_unzip(
    path: Path,
    dest_dir: Path,
    limits: Limits,
    budget: ByteBudget | None = None,
    start: int = 0,
    batch_bytes: int | None = None,
) -> Extraction:
    """:func:`check_zip_structure`, then stream the regular members into ``dest_dir``.

    Members land under generated names (``00003.member``), never under their own. On
    any error every file this call wrote is deleted before the error propagates.
    ``budget`` defaults to a fresh ``max_zip_uncompressed_bytes``; the pipeline passes
    one shared by all levels of a nested upload.

    Extraction begins at entry ``start``; with ``batch_bytes`` it stops after the first
    member that brings the declared output of this call to that many bytes, and the
    result's ``resume`` says where the next call begins. Every call checks the whole
    structure again, and the declared size of everything still to come against
    ``budget``, so a batch is refused exactly when the whole archive would be.
    """
    # One open file for the checks and the extraction: what is extracted is what was checked.
    with open(path, "rb") as handle:
        infos = _checked_infos(handle, limits)
        if budget is None:
            budget = ByteBudget(limits.max_zip_uncompressed_bytes)
        return _extract(handle, infos, dest_dir, limits, budget, start, batch_bytes)


class _MemberSink:
    """Hashes and writes a member's chunks in a helper thread, one chunk behind the
    inflation (zlib, SHA-256 and the write all release the GIL)."""

    def __init__(self, fd: int, helper: ThreadPoolExecutor) -> None:
        self._fd = fd
        self._helper = helper
        self._hash = hashlib.sha256()
        self._pending: Future[None] | None = None

    def __call__(self, chunk: bytes) -> None:
        self._wait()
        self._pending = self._helper.submit(self._consume, chunk)

    def _consume(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        write_all(self._fd, chunk)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def finish(self) -> str:
        """Wait for the last chunk; the member's SHA-256."""
        self._wait()
        return self._hash.hexdigest()


def _extract(
    handle: BinaryIO,
    infos: list[zipfile.ZipInfo],
    dest_dir: Path,
    limits: Limits,
    budget: ByteBudget,
    start: int,
    batch_bytes: int | None,
) -> Extraction:
    reasons = [_skip_reason(info) for info in infos]
    declared = sum(
        info.file_size
        for info, reason in zip(infos[start:], reasons[start:], strict=True)
        if reason is None
    )
    if declared > budget.remaining:
        raise _bomb(
            f"The ZIP would expand to {human_bytes(declared)}; only "
            f"{human_bytes(budget.remaining)} of the limit is left for this upload."
        )
    members: list[ExtractedMember] = []
    skipped: list[Skipped] = []
    created: list[str] = []
    batch_declared = 0
    resume: int | None = None
    dir_fd = os.open(dest_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with (
            _open_zip(handle) as archive,
            ThreadPoolExecutor(1, thread_name_prefix="dsagent-unzip") as helper,
        ):
            for index in range(start, len(infos)):
                info, reason = infos[index], reasons[index]
                if batch_bytes is not None and members and batch_declared >= batch_bytes:
                    resume = index
                    break
                if reason is not None:
                    skipped.append(Skipped(info.orig_filename, reason))
                    continue
                file_name = f"{index:05d}.member"
                fd = _create_member_file(dir_fd, file_name)
                created.append(file_name)
                try:
                    sink = _MemberSink(fd, helper)
                    try:
                        size = _stream_member(archive, info, limits, budget, sink)
                    finally:
                        sha256 = sink.finish()
                finally:
                    os.close(fd)
                batch_declared += info.file_size
                members.append(
                    ExtractedMember(
                        info.orig_filename, dest_dir / file_name, size, info.compress_size, sha256
                    )
                )
    except BaseException:
        for file_name in created:
            with suppress(FileNotFoundError):
                os.unlink(file_name, dir_fd=dir_fd)
        raise
    finally:
        os.close(dir_fd)
    return Extraction(tuple(members), tuple(skipped), resume)
