"""The file's first bytes: how many to sample, what their byte-order mark says, and
refusing binary data and markup on their evidence before anything is parsed.

Everything later (dialect, scan, encoding) starts from the :class:`Head` read here.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ...exceptions import ContentMismatch, TableError
from ..limits import Limits

__all__ = [
    "HEAD_BYTES",
    "WIDE_CODECS",
    "Head",
    "head_text",
    "load_head",
    "nul_bytes",
    "refuse_binary",
    "refuse_markup",
    "undecodable",
]

HEAD_BYTES: Final = 1 << 20  # the dialect sample, also parsed by pandas for column names
_MAX_HEAD_BYTES: Final = 16 << 20  # grown up to this only while the first record is longer
_BINARY_WINDOW: Final = 64 << 10

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
WIDE_CODECS: Final = ("utf-16", "utf-32")

_MARKUP_STARTS: Final = ("<!doctype", "<html", "<?xml", "<svg", "<head", "<script", "<body")
_HTML_TAG = re.compile(
    r"</?(?:html|head|body|div|span|script|style|meta|link|table|tr|td|th|p|a|br|img|ul"
    r"|li|iframe|form|input|noscript|title|svg|path)\b[^<>]*>",
    re.IGNORECASE,
)
# C0 controls other than tab, LF, VT, FF, CR and the DOS end-of-file mark.
_CONTROL_BYTES: Final = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 26))
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f]")


@dataclass(frozen=True)
class Head:
    """The file's first bytes, without any byte-order mark, and what the mark says."""

    raw: bytes
    bom: bytes
    bom_codec: str | None
    complete: bool  # the head is the whole file


def _read_head(path: Path, size: int) -> Head:
    with path.open("rb") as handle:
        raw = handle.read(size + 1)
    complete = len(raw) <= size
    raw = raw[:size]
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return Head(raw[len(bom) :], bom, codec, complete)
    return Head(raw, b"", None, complete)


def load_head(path: Path, limits: Limits) -> Head:
    """The first MiB, or more when the first line is longer (up to the field limit)."""
    size = HEAD_BYTES
    while True:
        head = _read_head(path, size)
        if not head.raw.strip(b" \t\r\n") and head.complete:
            raise TableError("The file is empty.", code="csv_invalid")
        if head.complete or b"\n" in head.raw or b"\r" in head.raw:
            return head
        if size > limits.max_csv_field_bytes or size >= _MAX_HEAD_BYTES:
            raise TableError(
                f"The first line is longer than {size:,} bytes; the limit is "
                f"{min(limits.max_csv_field_bytes, size):,} bytes.",
                code="csv_invalid",
            )
        size = min(max(2 * size, limits.max_csv_field_bytes + 1), _MAX_HEAD_BYTES)


def nul_bytes() -> ContentMismatch:
    """The refusal for a NUL byte, found in the head or anywhere later in the pass."""
    return ContentMismatch("The file contains NUL bytes, so it is binary data, not a table.")


def refuse_binary(head: Head) -> None:
    """NUL bytes or many control characters mean binary data, whatever the name says."""
    if head.bom_codec in WIDE_CODECS:
        text = _decode(head.bom + head.raw, head.bom_codec or "", final=head.complete)
        window: str | bytes = text[:_BINARY_WINDOW]
        has_nul = "\x00" in text
        controls = len(_CONTROL_CHARS.findall(text[:_BINARY_WINDOW]))
    else:
        window = head.raw[:_BINARY_WINDOW]
        has_nul = b"\x00" in head.raw
        controls = len(window) - len(window.translate(None, _CONTROL_BYTES))
    if has_nul:
        raise nul_bytes()
    if controls * 100 > len(window):
        raise ContentMismatch(
            "More than 1% of the file's first bytes are control characters, so it is binary "
            "data, not a table."
        )


def refuse_markup(text: str) -> None:
    """Saved web pages named .csv parse "fine" into garbage; refuse them by content."""
    if text[:1024].lstrip("\ufeff \t\r\n").lower().startswith(_MARKUP_STARTS):
        raise ContentMismatch("The file is an HTML or XML document, not a table.")
    window = text[:_BINARY_WINDOW]
    tagged = sum(len(match.group()) for match in _HTML_TAG.finditer(window))
    if tagged * 5 > len(window):
        raise ContentMismatch("The file is an HTML page, not a table.")


def _decode(raw: bytes, codec: str, *, final: bool) -> str:
    """Decode a prefix of the file strictly; a bad sequence in a BOM file is fatal."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(raw, final)
    except UnicodeDecodeError as exc:
        raise undecodable(codec) from exc


def undecodable(codec: str) -> TableError:
    """The refusal for a file whose byte-order mark promises a codec its bytes break."""
    return TableError(
        f"The file starts with a {codec} byte-order mark but is not valid {codec} text.",
        code="csv_undecodable",
    )


def head_text(head: Head, encoding: str | None = None) -> tuple[str, str]:
    """The head as text, cut after its last line end, and the codec used.

    Before the whole file is checked the codec is provisional: the BOM's, else UTF-8 if
    the head decodes, else latin-1, which decodes anything and keeps every ASCII
    character (all that dialect detection looks at) in place.
    """
    if head.bom_codec in WIDE_CODECS:
        codec = head.bom_codec or ""
        text = _decode(head.bom + head.raw, codec, final=head.complete)
        return (text if head.complete else _cut_after_last_line_end(text)), codec
    raw = head.raw if head.complete else head.raw[: _last_line_end(head.raw) + 1]
    if head.bom_codec is not None:
        return _decode(raw, "utf-8", final=True), head.bom_codec
    if encoding is not None:
        return raw.decode(encoding), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _last_line_end(raw: bytes) -> int:
    return max(raw.rfind(b"\n"), raw.rfind(b"\r"))


def _cut_after_last_line_end(text: str) -> str:
    return text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
