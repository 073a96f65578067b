"""Shared by the gateway's tests: fake keys made at run time, and reading event streams."""

from __future__ import annotations

import json
import secrets
from typing import Any

# Built at run time so no key-shaped literal sits in the repository. The plain one has
# no recognisable shape: only masking of the exact value can hide it.
SHAPED_KEY = "sk-" + "test" + secrets.token_hex(20)
PLAIN_KEY = secrets.token_hex(24)


def events(body: bytes) -> list[Any]:
    """The ``data:`` payloads of a server-sent event stream, JSON decoded ("[DONE]" kept)."""
    found: list[Any] = []
    for block in body.decode().split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                data = line[len("data: ") :]
                found.append(data if data == "[DONE]" else json.loads(data))
    return found


def streamed_text(chunks: list[Any]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        if isinstance(chunk, dict)
        for choice in chunk.get("choices", [])
    )


def ask(text: str = "Say hello", **fields: Any) -> dict[str, Any]:
    """A chat request body."""
    return {"messages": [{"role": "user", "content": text}], **fields}
