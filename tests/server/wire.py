"""HTTP helpers for the server tests: hand-built multipart bodies and a raw client.

The raw client reads the answer while the body is still being sent, so it can
observe a server that answers and hangs up mid-upload, and count how much of the
body it had sent by then. ``start_request`` opens a connection on the test's event
loop for tests that pace the body themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

BOUNDARY = "dsagent-test-boundary-7f3a9c"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
MIB = 1024 * 1024


def part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename is not None:
        head += "Content-Type: application/octet-stream\r\n"
    return head.encode() + b"\r\n" + content + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def file_form(filename: str, content: bytes) -> bytes:
    return form(part("file", content, filename))


def file_head(filename: str) -> bytes:
    """The start of a one-file form, for bodies streamed piece by piece."""
    return part("file", b"", filename)[: -len(b"\r\n")]


FORM_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def error_code(response: Any) -> str:
    """The error code of a JSON error response, after checking the whole body's shape."""
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    return str(body["error"]["code"])


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client had handed to the socket when the answer came
    seconds: float

    @property
    def code(self) -> str:
        body = json.loads(self.body)
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
        return str(body["error"]["code"])


def chunks(total: int, size: int = MIB, fill: bytes = b"a,b\n1,2\n") -> Iterator[bytes]:
    block = (fill * (size // len(fill) + 1))[:size]
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


def drip(pieces: Iterable[bytes], pause: float) -> Iterator[bytes]:
    for piece in pieces:
        yield piece
        time.sleep(pause)


async def start_request(
    port: int, method: str, path: str, headers: dict[str, str], *, chunked: bool = False
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection and send the request line and headers; the body is up to you."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    return reader, writer


async def raw_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Iterable[bytes] = (),
    *,
    chunked: bool = False,
    timeout: float = 60.0,
) -> RawResponse:
    """Send a request whose body comes from ``body``; return the answer as soon as it
    is complete, whether or not the whole body was sent.

    Plain sockets in two threads, not asyncio: when the server answers early and hangs
    up, the kernel still holds its answer for ``recv``, while an asyncio transport
    drops unread data as soon as a write fails.
    """
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return await asyncio.to_thread(_exchange, port, head, body, chunked, timeout)


def _exchange(
    port: int, head: bytes, body: Iterable[bytes], chunked: bool, timeout: float
) -> RawResponse:
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = 0
    answered = threading.Event()

    def send() -> None:
        nonlocal sent
        with contextlib.suppress(OSError):
            sock.sendall(head)
            for piece in body:
                if answered.is_set():
                    return
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        status, headers, content = _receive(sock)
        seconds = time.monotonic() - started
    finally:
        answered.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # unblocks a sendall that waits for the server
        sender.join(timeout)
        sock.close()
    return RawResponse(status, headers, content, sent, seconds)


def _receive(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"the server closed the connection after {data!r}")
        data += piece
    head, _, content = data.partition(b"\r\n\r\n")
    status, headers = _parse_head(head)
    length = int(headers.get("content-length", "0"))
    while len(content) < length:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError("the server closed the connection mid-answer")
        content += piece
    return status, headers, content


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response."""
    status, headers = _parse_head((await reader.readuntil(b"\r\n\r\n"))[:-4])
    length = int(headers.get("content-length", "0"))
    return status, headers, await reader.readexactly(length) if length else b""
