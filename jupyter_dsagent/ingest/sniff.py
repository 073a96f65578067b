"""Type by content: magic bytes decide what a file is; its name must agree.

Only the first 64 KiB are looked at, and nothing is parsed beyond fixed signatures,
so this is safe to run in the server process. Everything else (decoding, parsing,
archive directories) happens in the sandboxed worker.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ContentMismatch, TypeNotAllowed
from ..models import UploadKind

__all__ = ["EXTENSION_KINDS", "Sniffed", "clean_name", "expect_kind", "extension_of", "sniff"]

HEAD_BYTES = 65_536
MAX_NAME_CHARS = 255

#: What each allowed extension must contain: (record kind, content family, image format).
EXTENSION_KINDS: dict[str, tuple[UploadKind, str, str | None]] = {
    "csv": ("csv", "text", None),
    "tsv": ("tsv", "text", None),
    "txt": ("txt", "text", None),
    "json": ("json", "json", None),
    "jsonl": ("json", "json", None),
    "parquet": ("parquet", "parquet", None),
    "xlsx": ("xlsx", "zip", None),
    "zip": ("zip", "zip", None),
    "png": ("image", "image", "PNG"),
    "jpg": ("image", "image", "JPEG"),
    "jpeg": ("image", "image", "JPEG"),
    "gif": ("image", "image", "GIF"),
    "webp": ("image", "image", "WEBP"),
    "heic": ("image", "image", "HEIF"),
    "heif": ("image", "image", "HEIF"),
    "avif": ("image", "image", "AVIF"),
}

# Signatures of things we never accept, with the words a person understands.
_REFUSED_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"MZ", "a Windows executable"),
    (0, b"\x7fELF", "a Linux executable"),
    (0, b"\xfe\xed\xfa\xce", "a macOS executable"),
    (0, b"\xfe\xed\xfa\xcf", "a macOS executable"),
    (0, b"\xce\xfa\xed\xfe", "a macOS executable"),
    (0, b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (0, b"\xca\xfe\xba\xbe", "a Java class or macOS universal binary"),
    (0, b"\x00asm", "a WebAssembly module"),
    (0, b"#!", "a script"),
    (0, b"%PDF", "a PDF document"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"BZh", "a bzip2 archive"),
    (0, b"\xfd7zXZ\x00", "an xz archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (257, b"ustar", "a TAR archive"),
    (0, b"\x93NUMPY", "a NumPy array file (it may hold pickles)"),
    (0, b"SQLite format 3\x00", "an SQLite database"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.xls/.doc)"),
    (0, b"BM", "a BMP image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (0, b"\x00\x00\x01\x00", "an ICO image"),
    (0, b"8BPS", "a Photoshop document"),
)
_PICKLE = re.compile(rb"^\x80[\x02-\x05]")
_MARKUP = re.compile(
    rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<\?xml|<svg|<!--|<iframe|<meta)",
    re.IGNORECASE,
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are: a content family, and for images the format."""

    family: str  # "text" | "json" | "zip" | "parquet" | "image"
    image_format: str | None = None

    def describe(self) -> str:
        if self.family == "image":
            return f"a {self.image_format} image"
        return {
            "text": "plain text",
            "json": "JSON",
            "zip": "a ZIP archive",
            "parquet": "a Parquet file",
        }[self.family]


def clean_name(name: str) -> str:
    """A display name from a client's file name: last path part, no control characters.

    The result is metadata only; storage names are generated, never derived from it.
    """
    part = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(ch for ch in part if unicodedata.category(ch)[0] != "C").strip()
    if base.startswith(".") and not part.startswith("."):
        base = "upload" + base  # every character before the extension was removed
    base = base.lstrip(".") or "upload"
    if len(base) > MAX_NAME_CHARS:
        _, dot, ext = base.rpartition(".")
        keep = ext[:16] if dot else ""
        base = base[: MAX_NAME_CHARS - len(keep) - 1] + ("." + keep if keep else "")
    return base


def extension_of(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def sniff(path: Path) -> Sniffed:
    """Classify a file by its first bytes; raise TypeNotAllowed for anything we never take."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    for offset, signature, words in _REFUSED_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            raise TypeNotAllowed(f"The file is {words}; such files are never accepted.")
    if _PICKLE.match(head):
        raise TypeNotAllowed("The file is a Python pickle; pickles are never loaded from uploads.")
    image = _image_format(head)
    if image:
        return Sniffed("image", image)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Sniffed("zip")
    if head.startswith(b"PAR1"):
        return Sniffed("parquet")
    return _text_family(head)


def _image_format(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "AVIF"
        if brand in _HEIF_BRANDS:
            return "HEIF"
    return None


def _text_family(head: bytes) -> Sniffed:
    bom = next((b for b in _BOMS if head.startswith(b)), b"")
    if not bom and b"\x00" in head:
        raise TypeNotAllowed("The file is binary data of a kind we do not accept.")
    body = head[len(bom) :] if bom in (b"", b"\xef\xbb\xbf") else _utf16_to_ascii(head, bom)
    if _MARKUP.match(body):
        raise ContentMismatch(
            "The file is an HTML or XML page (markup), not data; save the table itself instead."
        )
    if body.lstrip()[:1] in (b"{", b"["):
        return Sniffed("json")
    return Sniffed("text")


def _utf16_to_ascii(head: bytes, bom: bytes) -> bytes:
    """Enough of a UTF-16 text's start to look for markup and JSON."""
    codec = "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"
    return head[2:4096].decode(codec, errors="ignore").encode("ascii", errors="ignore")


def expect_kind(name: str, sniffed: Sniffed, allowed: tuple[str, ...]) -> UploadKind:
    """The record kind for ``name``, after checking the allow-list and the content agree."""
    ext = extension_of(name)
    if not ext:
        raise TypeNotAllowed(f"{name!r} has no extension; name it .csv, .zip, .png or similar.")
    if ext not in allowed or ext not in EXTENSION_KINDS:
        listed = ", ".join(f".{e}" for e in allowed)
        raise TypeNotAllowed(f"{name!r}: .{ext} files are not accepted here (allowed: {listed}).")
    kind, family, image_format = EXTENSION_KINDS[ext]
    # A delimited file may begin with "[" or "{"; its own validator decides.
    families = {"text", "json"} if family == "text" else {family}
    if family == "json" and sniffed.family == "text":
        raise ContentMismatch(
            f"{name!r} does not start with [ or {{, so it holds no JSON table (a list of "
            "records, an object of columns, or one object per line)."
        )
    if sniffed.family not in families or (image_format and sniffed.image_format != image_format):
        raise ContentMismatch(
            f"{name!r} contains {sniffed.describe()}, which does not match its .{ext} extension."
        )
    return kind
