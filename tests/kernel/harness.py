"""A real IPython kernel driven over ZMQ, as a notebook frontend would drive it."""

from __future__ import annotations

import queue
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager, start_new_kernel


@dataclass
class CellResult:
    """What one execution showed."""

    text: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    payload: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def mimetypes(self) -> set[str]:
        return {mime for out in self.outputs for mime in out.get("data", {})}

    def markdown(self) -> str:
        return "".join(out.get("data", {}).get("text/markdown", "") for out in self.outputs)


class Kernel:
    """A started kernel; ``run`` executes a cell, ``comm_*`` speak the comm protocol."""

    def __init__(self) -> None:
        self.manager: KernelManager
        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=60)
        self.comm_messages: list[dict[str, Any]] = []

    def run(self, code: str, timeout: float = 120) -> CellResult:
        result = CellResult()
        chunks: list[str] = []

        def collect(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                chunks.append(content["text"])
            elif kind in ("execute_result", "display_data", "update_display_data"):
                result.outputs.append(content)
                chunks.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                result.error = f"{content['ename']}: {content['evalue']}"
                chunks.append(result.error + "\n")
            elif kind == "comm_msg":
                self.comm_messages.append(content)

        reply = self.client.execute_interactive(code, output_hook=collect, timeout=timeout)
        result.payload = reply["content"].get("payload", [])
        result.text = "".join(chunks)
        return result

    # -- comms -------------------------------------------------------------------------
    def comm_open(self, target: str) -> str:
        comm_id = uuid.uuid4().hex
        self._shell("comm_open", {"comm_id": comm_id, "target_name": target, "data": {}})
        return comm_id

    def comm_send(self, comm_id: str, data: dict[str, Any]) -> None:
        self._shell("comm_msg", {"comm_id": comm_id, "data": data})

    def comm_wait(self, predicate: Any, timeout: float = 60) -> list[dict[str, Any]]:
        """Collect comm data from iopub until ``predicate(data)`` holds; returns all seen."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            if msg["msg_type"] in ("comm_msg", "comm_close"):
                data = msg["content"].get("data", {})
                seen.append(data)
                if predicate(data):
                    return seen
        raise AssertionError(f"no matching comm message in {timeout}s; saw {seen}")

    def _shell(self, msg_type: str, content: dict[str, Any]) -> None:
        msg = self.client.session.msg(msg_type, content)
        self.client.shell_channel.send(msg)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
