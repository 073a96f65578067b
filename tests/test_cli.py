"""``jupyter dsagent``: effective configuration with sources, and audit verification."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.reference import config_reference_markdown

from .paths import VENV_BIN

FAKE_KEY = "sk-" + "cli" + "Q" * 28


def jupyter_dsagent(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "jupyter"), "dsagent", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def audit(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    monkeypatch.setenv("DSAGENT_DATA_DIR", str(data_dir))
    log = AuditLog(DataDir.prepare(data_dir).audit_db)
    for i in range(3):
        log.append("tool.run", actor="ada", subject=f"t{i}")
    return log


def test_config_prints_values_with_their_sources_and_never_a_key(jp_config_dir: Path) -> None:
    config_file = jp_config_dir / "jupyter_server_config.py"
    config_file.write_text("c.DSAgent.max_zip_entries = 50\n")
    done = jupyter_dsagent("config", env={"DSAGENT_TEMPERATURE": "0.7", "OPENAI_API_KEY": FAKE_KEY})
    assert done.returncode == 0, done.stderr
    lines = {
        line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("DSAgent.")
    }
    assert lines["DSAgent.max_zip_entries"].endswith(f"(config file {config_file})")
    assert lines["DSAgent.temperature"].endswith("(env DSAGENT_TEMPERATURE)")
    assert lines["DSAgent.max_upload_bytes"].endswith("(default)")
    assert "OPENAI_API_KEY  set" in done.stdout
    assert "Q" * 28 not in done.stdout + done.stderr


def test_config_json(jp_config_dir: Path) -> None:
    done = jupyter_dsagent("config", "--json", env={"ANTHROPIC_API_KEY": FAKE_KEY})
    payload = json.loads(done.stdout)
    assert payload["settings"]["max_upload_bytes"] == {"value": 50_000_000, "source": "default"}
    assert payload["provider_keys"] == {"ANTHROPIC_API_KEY": "set"}


def test_bad_config_exits_2_with_one_sentence() -> None:
    done = jupyter_dsagent("config", env={"DSAGENT_MAX_ZIP_DEPTH": "9"})
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: DSAgent.max_zip_depth = 9 (from env DSAGENT_MAX_ZIP_DEPTH)"
    )
    assert "Traceback" not in done.stderr


def test_reference_matches_the_library() -> None:
    done = jupyter_dsagent("config", "--reference")
    assert done.stdout == config_reference_markdown()


def test_audit_verify_ok(audit: AuditLog) -> None:
    done = jupyter_dsagent("audit", "verify")
    assert (done.returncode, done.stdout.strip()) == (0, "ok: 3 records, chain intact")


def test_audit_verify_names_the_first_bad_record(audit: AuditLog) -> None:
    second = audit.query(limit=3)[1]
    conn = sqlite3.connect(audit.path, isolation_level=None)
    conn.execute("DROP TRIGGER records_append_only_update")
    conn.execute("UPDATE records SET subject = 'forged' WHERE seq = 2")
    conn.close()
    done = jupyter_dsagent("audit", "verify", "--db", str(audit.path))
    assert done.returncode == 1
    assert f"first bad record: seq 2, id {second.id}" in done.stderr
    assert "edited" in done.stderr


def test_audit_head_and_checkpoint_catch_truncation(audit: AuditLog) -> None:
    head = jupyter_dsagent("audit", "head").stdout.strip()
    assert head == str(audit.head())
    conn = sqlite3.connect(audit.path, isolation_level=None)
    conn.execute("DROP TRIGGER records_append_only_delete")
    conn.execute("DELETE FROM records WHERE seq = 3")
    conn.close()
    assert jupyter_dsagent("audit", "verify").returncode == 0
    done = jupyter_dsagent("audit", "verify", "--checkpoint", head)
    assert done.returncode == 1
    assert "truncated" in done.stderr


def test_audit_verify_without_a_log_exits_2(tmp_path: Path) -> None:
    done = jupyter_dsagent("audit", "verify", "--db", str(tmp_path / "none.sqlite"))
    assert done.returncode == 2
    assert "There is no audit log" in done.stderr


def test_bad_checkpoint_is_a_usage_error(audit: AuditLog) -> None:
    done = jupyter_dsagent("audit", "verify", "--checkpoint", "nonsense")
    assert done.returncode == 2
