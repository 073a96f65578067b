"""An OpenAI-compatible model server on 127.0.0.1 that answers from a script.

The LLM is the one part tests cannot reach, so tests start this server and tell it
what to answer: text, tool calls, HTTP errors, slow answers. Everything it receives is
kept in ``requests``, so a test can assert on exactly what left the kernel or server.

    llm = ScriptedLLM().start()
    llm.reply("Hello")                                  # next answer, any model
    llm.reply(tool_calls=[call("list_dataframes", {})])  # a tool call
    llm.fail(429, retry_after=0)                        # an error answer
    llm.reply("late", delay=5)                          # a slow answer
    llm.respond_with(lambda body: Reply(text="..."))    # when the queue is empty
    llm.requests[-1].body["messages"]                   # what was sent
    llm.reply("a b c d", cut_after=2)                   # breaks off after "a b"
    llm.reply("a b c d", error_after=2, message="overloaded")  # an error event after "a b"

A stream always opens with the role chunk; ``cut_after=N`` then sends N more chunks
(the words of the text, then the pieces of the tool calls) and closes the connection
in the middle of the body: no finish reason, no usage, no ``[DONE]``. Such a stream
goes out with chunked transfer encoding, as providers send theirs, so the client sees
a body cut short rather than an ordinary end. ``error_after=N`` sends the N chunks,
then ``data: {"error": {"message", "type", "code"}}`` and ends the body, as providers
that fail mid-answer do. A non-streamed request given either reply gets the headers
and half of the JSON body before the connection closes.

Litellm talks to it as ``openai/<any model>`` with ``api_base=llm.url``. A model
name starting with ``down`` always answers 503, so fallbacks can be tested with one
server.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: text and/or tool calls, or an HTTP error.

    ``cut_after`` and ``error_after`` make it break off after that many chunks (see the
    module docstring); ``error_message`` and ``error_code`` are then the error event's.
    """

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_message: str = "scripted failure"
    error_code: str | int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cut_after: int | None = None
    error_after: int | None = None

    @property
    def breaks(self) -> bool:
        return self.cut_after is not None or self.error_after is not None


@dataclass
class Received:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    def text(self) -> str:
        """Every message content of the request, joined: what the model could read."""
        return json.dumps(self.body, ensure_ascii=False)


def call(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> dict[str, Any]:
    """A tool call as the OpenAI API spells it (arguments may be raw, even broken, JSON)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": call_id or f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": raw},
    }


class ScriptedLLM:
    """The server. ``start()`` binds a free port; ``stop()`` (or ``with``) ends it."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._queue: deque[Reply] = deque()
        self._responder: Callable[[dict[str, Any]], Reply] | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- script ------------------------------------------------------------------------
    def reply(
        self,
        text: str = "",
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        delay: float = 0.0,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cut_after: int | None = None,
        error_after: int | None = None,
        message: str = "scripted failure",
        code: str | int | None = None,
    ) -> ScriptedLLM:
        """Queue an answer: a successful one, or one that breaks off after
        ``cut_after`` (connection closed) or ``error_after`` (error event ``message``,
        ``code``) chunks."""
        self._queue.append(
            Reply(
                text=text,
                tool_calls=tool_calls or [],
                delay=delay,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cut_after=cut_after,
                error_after=error_after,
                error_message=message,
                error_code=code,
            )
        )
        return self

    def fail(
        self,
        status: int,
        *,
        message: str = "scripted failure",
        retry_after: float | None = None,
        delay: float = 0.0,
        code: str | int | None = None,
    ) -> ScriptedLLM:
        """Queue an error answer; ``code`` is the error body's code (the status by default)."""
        self._queue.append(
            Reply(
                status=status,
                error_message=message,
                error_code=code,
                retry_after=retry_after,
                delay=delay,
            )
        )
        return self

    def respond_with(self, responder: Callable[[dict[str, Any]], Reply]) -> ScriptedLLM:
        """Answer with ``responder(body)`` whenever the queue is empty."""
        self._responder = responder
        return self

    def pending(self) -> int:
        """Queued answers not yet given."""
        return len(self._queue)

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL for OpenAI clients and litellm's ``api_base``."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedLLM:
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            # Keep-alive connections outlive the listening socket; a client pool could
            # reuse one after the port is handed to the next server. Close them all.
            with self._lock:
                for connection in list(self._connections):
                    with contextlib.suppress(OSError):
                        connection.shutdown(socket.SHUT_RDWR)
                self._connections.clear()
            self._server = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering -----------------------------------------------------------------------
    def _next_reply(self, body: dict[str, Any]) -> Reply:
        if str(body.get("model", "")).startswith("down"):
            return Reply(status=503, error_message="this model is down")
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self._responder is not None:
            return self._responder(body)
        return Reply(status=500, error_message="the script has no answer left")


class _Server(ThreadingHTTPServer):
    # The default backlog (5) resets connections when many clients connect at once, as
    # the gateway benchmark's 20 concurrent streams do.
    request_queue_size = 128


def _handler_for(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes; without this, Nagle's algorithm
        # and delayed ACKs add about 40 ms to every answer.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with llm._lock:
                llm._connections.add(self.connection)

        def finish(self) -> None:
            with llm._lock:
                llm._connections.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}],
                    },
                )
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            body = json.loads(raw or b"{}")
            llm.requests.append(Received(self.path, dict(self.headers.items()), body))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": "not found"}})
                return
            reply = llm._next_reply(body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                headers = {}
                if reply.retry_after is not None:
                    headers["Retry-After"] = str(reply.retry_after)
                self._json(
                    reply.status,
                    {
                        "error": {
                            "message": reply.error_message,
                            "type": "scripted",
                            "code": reply.error_code
                            if reply.error_code is not None
                            else reply.status,
                        }
                    },
                    headers,
                )
                return
            usage = _usage(body, reply)
            if body.get("stream"):
                self._stream(body, reply, usage)
            elif reply.breaks:
                self._json(200, _completion(body, reply, usage), cut=True)
            else:
                self._json(200, _completion(body, reply, usage))

        def _json(
            self,
            status: int,
            payload: dict[str, Any],
            headers: dict[str, str] | None = None,
            *,
            cut: bool = False,
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if cut else data)
            if cut:
                self.close_connection = True

        def _stream(self, body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            if reply.breaks:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = list(_chunks(body, reply, usage, include_usage))
            stop = reply.cut_after if reply.cut_after is not None else reply.error_after
            if stop is not None:
                chunks = chunks[: 1 + max(0, stop)]  # the role chunk, then ``stop`` more
            try:
                for chunk in chunks:
                    self._event(json.dumps(chunk), chunked=reply.breaks)
                if reply.error_after is not None:
                    error = {
                        "message": reply.error_message,
                        "type": "scripted",
                        "code": reply.error_code,
                    }
                    self._event(json.dumps({"error": error}), chunked=True)
                    self.wfile.write(b"0\r\n\r\n")  # the body ends properly
                elif reply.cut_after is None:
                    self._event("[DONE]", chunked=False)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            # A cut stream ends here, its last chunk never sent: the server closes the
            # connection after this request.
            self.close_connection = True

        def _event(self, data: str, *, chunked: bool) -> None:
            event = b"data: " + data.encode() + b"\n\n"
            if chunked:
                event = f"{len(event):x}\r\n".encode() + event + b"\r\n"
            self.wfile.write(event)
            self.wfile.flush()

    return Handler


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    prompt = reply.prompt_tokens
    if prompt is None:
        prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
    completion = reply.completion_tokens
    if completion is None:
        completion = max(1, (len(reply.text) + len(json.dumps(reply.tool_calls))) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": usage,
    }


def _chunks(
    body: dict[str, Any], reply: Reply, usage: dict[str, int], include_usage: bool
) -> Iterator[dict[str, Any]]:
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    words = reply.text.split(" ")
    for i, word in enumerate(words):
        if word or i:
            yield chunk({"content": word if i == 0 else " " + word})
    for index, tool_call in enumerate(reply.tool_calls):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": tool_call["id"],
                        "type": "function",
                        "function": {"name": tool_call["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        yield chunk(
            {
                "tool_calls": [
                    {"index": index, "function": {"arguments": tool_call["function"]["arguments"]}}
                ]
            }
        )
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if include_usage:
        yield {**base, "choices": [], "usage": usage}
