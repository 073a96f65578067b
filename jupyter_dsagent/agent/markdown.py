"""Neutralise model output before anyone renders it.

A rendered image is fetched without a click, so a model steered by hostile data could
leak it in an image URL (EchoLeak). Images are replaced by their alt text; links to
other hosts, reference definitions and raw HTML tags are turned into inert text.
Relative links and in-page anchors stay.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["neutralise_markdown"]

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
# A code span opens and closes with backtick runs of the same length (CommonMark 6.1).
_INLINE_CODE = re.compile(r"(?<![`\\])(`+)(?!`)(?:[^`\n]|`+(?!\1(?!`))|\n(?!\n))*?(?<!`)\1(?!`)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\s*(\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_REFERENCE_DEF = re.compile(r"^[ \t]{0,3}\[([^\]]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+.*)?$", re.M)
_AUTOLINK = re.compile(r"<((?:[a-zA-Z][a-zA-Z0-9+.-]*):[^>\s]*)>")


def neutralise_markdown(text: str) -> str:
    """``text`` with remote images, remote links and HTML made inert; code left as is."""
    return "".join(
        block if is_code else _neutralise_prose(block) for is_code, block in _blocks(text)
    )


def _blocks(text: str) -> list[tuple[bool, str]]:
    """Split into (is fenced code, text) runs, the way CommonMark finds fences: a fence
    closes on a line of the same character, at least as long; an unclosed one runs on
    to the end."""
    blocks: list[tuple[bool, str]] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if fence is None:
            opening = _FENCE_OPEN.match(line)
            if opening:
                if current:
                    blocks.append((False, "".join(current)))
                current, fence = [line], opening.group(1)
                continue
            current.append(line)
        else:
            current.append(line)
            if (
                stripped.startswith(fence)
                and set(stripped) == {fence[0]}
                and (len(line) - len(line.lstrip(" ")) <= 3)
            ):
                blocks.append((True, "".join(current)))
                current, fence = [], None
    if current:
        blocks.append((fence is not None, "".join(current)))
    return blocks


def _neutralise_prose(text: str) -> str:
    spans: list[str] = []

    def keep_code(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    text = _INLINE_CODE.sub(keep_code, text)
    text = _IMAGE.sub(lambda m: f"[image removed: {m.group(1) or 'no description'}]", text)
    text = text.replace("![", "!\\[")  # whatever is left can never become an image
    text = _REFERENCE_DEF.sub(_reference, text)
    text = _LINK.sub(_link, text)
    text = _AUTOLINK.sub(lambda m: _inert_url(m.group(1)), text)
    text = text.replace("<", "&lt;")  # no raw HTML at all, complete tag or not
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


def _is_local(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host: treat as remote
        return False
    return not parts.scheme and not parts.netloc and not url.strip().startswith("//")


def _inert_url(url: str) -> str:
    """The URL as plain text no renderer links or fetches: ``https[:]//host/path``."""
    text = re.sub(r"[<>`\[\]()]", "", url.strip())
    return re.sub(
        r":(?=//)|^(javascript|data|vbscript|file):", lambda m: (m.group(1) or "") + "[:]", text
    )


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    if _is_local(url):
        return match.group(0)
    return f"{label} ({_inert_url(url)})"


def _reference(match: re.Match[str]) -> str:
    if _is_local(match.group(2)):
        return match.group(0)
    return f"\\[{match.group(1)}]: {_inert_url(match.group(2))} (link removed)"
