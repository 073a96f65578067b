"""Masking of secrets before anything is written to the audit log or a log line.

Two layers: values stored under a secret-sounding key (``api_key``, ``password``,
``authorization``, …) are masked whole; in any other text, known credential shapes
(provider keys, bearer/basic credentials, passwords inside URLs, ``token=`` query
parameters, JWTs) are masked where they appear. The mask keeps a short prefix where
that helps a person tell keys apart, never enough to use one. Secrets this process
holds (the provider keys of the model gateway, its token) are registered with
:func:`register_secret` and masked wherever they appear, whatever their shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "is_secret_key", "redact", "redact_text", "register_secret"]

MASK = "***"

_SECRET_KEY = re.compile(
    r"(?i)(^|[_\-.])(api[_\-]?key|apikey|secret|password|passwd|pwd|token|access[_\-]?key|"
    r"private[_\-]?key|authorization|auth|cookie|session[_\-]?id|credentials?|xsrf)$"
)

# Each pattern keeps group "keep" (if any) and masks the rest of the match.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # scheme://user:password@host  -> scheme://user:***@host
    re.compile(r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)"),
    # Authorization: Bearer xxx / Basic xxx / token xxx (the last one only when key-like)
    re.compile(r"(?i)(?P<keep>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)(?P<keep>\btoken\s+)(?=[A-Za-z._~+/=\-]*\d)[A-Za-z0-9._~+/=\-]{16,}"),
    # OpenAI/Anthropic style keys: sk-..., sk-proj-..., sk-ant-...
    re.compile(r"(?P<keep>\bsk-)[A-Za-z0-9_\-]{12,}"),
    # AWS access key ids, Google API keys, GitHub, Slack, Hugging Face, Groq tokens
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    re.compile(r"\bgsk_[A-Za-z0-9]{30,}"),
    # JSON Web Tokens
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    # key=value / "key": "value" pairs whose key sounds secret (query strings, headers, JSON)
    re.compile(
        r"(?i)(?P<keep>\b[\w\-]*?(?:api[_\-]?key|apikey|secret|password|passwd|token|"
        r"access[_\-]?key|authorization|cookie|session[_\-]?id)\b[\"']?\s*[=:]\s*[\"']?)"
        r"(?!\*\*\*)(?!(?:bearer|basic|token)\s)[^\s\"'&,;}]{3,}"
    ),
)


# Exact values masked everywhere; shorter ones would mask ordinary words.
_MIN_SECRET_CHARS = 8
_known_secrets: frozenset[str] = frozenset()
_known_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask this exact value in everything redacted from now on (a key this process holds)."""
    global _known_secrets
    if len(value) >= _MIN_SECRET_CHARS:
        with _known_lock:
            _known_secrets = _known_secrets | {value}


def is_secret_key(key: str) -> bool:
    """True when a mapping key names a credential, so its whole value must be masked."""
    return bool(_SECRET_KEY.search(key))


def redact_text(text: str) -> str:
    """Mask every registered secret and every credential-shaped part of ``text``."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_keep_prefix, text)
    return text


def _keep_prefix(match: re.Match[str]) -> str:
    keep = match.groupdict().get("keep") or ""
    return keep + MASK


def redact(value: Any) -> Any:
    """Return a copy of ``value`` (JSON-like data) with every secret masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            str(k): (MASK if is_secret_key(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value
