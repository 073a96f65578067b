"""%load_ext in a real kernel: settings validated, %dsagent registered, bad config explained."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager, start_new_kernel

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir

pytestmark = pytest.mark.slow


class Kernel:
    """A real IPython kernel; ``run`` returns everything a cell showed, as text."""

    def __init__(self) -> None:
        self.manager: KernelManager
        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=60)

    def run(self, code: str) -> str:
        chunks: list[str] = []

        def collect(msg: dict[str, Any]) -> None:
            content = msg["content"]
            if msg["msg_type"] == "stream":
                chunks.append(content["text"])
            elif msg["msg_type"] in ("execute_result", "display_data"):
                chunks.append(content["data"].get("text/plain", ""))
            elif msg["msg_type"] == "error":
                chunks.append(f"{content['ename']}: {content['evalue']}")
                chunks.extend(content["traceback"])

        self.client.execute_interactive(code, output_hook=collect, timeout=60)
        return "".join(chunks)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[Kernel]:
    monkeypatch.setenv("DSAGENT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DSAGENT_MAX_UPLOAD_BYTES", "4096")
    started = Kernel()
    yield started
    started.close()


def test_load_ext_registers_the_magic_and_audits(kernel: Kernel, data_dir: Path) -> None:
    assert kernel.run("%load_ext jupyter_dsagent") == ""
    shown = kernel.run("%dsagent config")
    assert "max_upload_bytes = 4096  (env DSAGENT_MAX_UPLOAD_BYTES)" in shown
    assert "max_zip_entries = 200  (default)" in shown
    assert "%dsagent config" in kernel.run("%dsagent help")
    [record] = AuditLog(data_dir / "audit.sqlite").query(kind="config.loaded")
    assert record.subject == "kernel"


def test_unknown_command_is_a_usage_error(kernel: Kernel) -> None:
    kernel.run("%load_ext jupyter_dsagent")
    shown = kernel.run("%dsagent frobnicate")
    assert "UsageError: Unknown %dsagent command 'frobnicate'" in shown


def test_bad_setting_is_one_sentence_and_the_kernel_lives_on(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("DSAGENT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DSAGENT_LOG_FORMAT", "xml")
    kernel = Kernel()
    try:
        shown = kernel.run("%load_ext jupyter_dsagent")
        assert "UsageError: jupyter_dsagent cannot start: DSAgent.log_format = 'xml'" in shown
        assert "Traceback" not in shown
        assert kernel.run("print(6 * 7)") == "42\n"
    finally:
        kernel.close()


def test_kernel_and_server_share_one_audit_chain(kernel: Kernel, data_dir: Path) -> None:
    audit = AuditLog(DataDir.prepare(data_dir).audit_db)
    audit.append("tool.run", actor="server-side")
    kernel.run("%load_ext jupyter_dsagent")
    kernel.run(
        "from jupyter_dsagent.audit import AuditLog\n"
        f"AuditLog({str(data_dir / 'audit.sqlite')!r}).append('tool.run', actor='kernel-side')"
    )
    assert [r.kind for r in audit.query()] == ["tool.run", "config.loaded", "tool.run"]
    assert audit.verify().ok


def test_dsa_load_validates_a_workspace_file_inside_the_kernel(
    kernel: Kernel, data_dir: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "sales.csv").write_bytes("city;amount\nKöln;1,5\nParis;2,25\n".encode("cp1252"))
    (workspace / "page.csv").write_bytes(b"<!DOCTYPE html><html><script></script></html>")
    kernel.run(f"import os; os.chdir({str(workspace)!r})")
    shown = kernel.run(
        "import jupyter_dsagent as dsa\n"
        "df = dsa.load('sales.csv')\n"
        "print(df.shape, list(df.columns), df['amount'].sum())"
    )
    assert shown == "(2, 2) ['city', 'amount'] 3.75\n"
    refused = kernel.run(
        "try:\n    dsa.load('page.csv')\nexcept Exception as exc:\n"
        "    print(type(exc).__name__, exc.code)"
    )
    assert refused == "ContentMismatch content_mismatch\n"
    kinds = [r.kind for r in AuditLog(data_dir / "audit.sqlite").query(kind="upload")]
    assert kinds == ["upload.rejected", "upload.accepted"]
