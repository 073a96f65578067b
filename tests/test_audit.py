"""Audit log: append-only, hash-chained, redacted, shared by many processes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jupyter_dsagent.audit import GENESIS_HASH, KINDS, AuditLog, Checkpoint
from jupyter_dsagent.exceptions import AuditError, AuditRecordError

FAKE_OPENAI_KEY = "sk-" + "proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
FAKE_BEARER = "eyFakeBearer" + "0123456789abcdef"


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.sqlite")


def fill(audit: AuditLog, n: int) -> list[str]:
    return [
        audit.append("tool.run", actor="ada", subject=f"tool-{i}", details={"i": i}).id
        for i in range(n)
    ]


def tamper(path: Path, *statements: str) -> None:
    """Change the database the way someone with the file's rights could: triggers off."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER records_append_only_update")
    conn.execute("DROP TRIGGER records_append_only_delete")
    for statement in statements:
        conn.execute(statement)
    conn.close()


def test_records_chain_from_genesis_and_verify(audit: AuditLog) -> None:
    first = audit.append("upload.accepted", actor="ada", subject="u1", details={"size": 10})
    second = audit.append("upload.rejected", actor="ada", subject="u2", outcome="denied")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.time.endswith("Z")
    assert audit.verify().to_dict() == {
        "ok": True,
        "records": 2,
        "first_bad": None,
        "first_bad_seq": None,
        "reason": None,
    }
    assert audit.head() == Checkpoint(2, second.hash)


def test_empty_log_verifies(audit: AuditLog) -> None:
    assert audit.verify().ok
    assert audit.head() == Checkpoint(0, GENESIS_HASH)


def test_actor_is_a_salted_pseudonym(tmp_path: Path, audit: AuditLog) -> None:
    record = audit.append("tool.run", actor="ada.lovelace")
    assert "lovelace" not in record.actor  # not hex, so it cannot appear by chance
    assert record.actor == audit.append("tool.run", actor="ada.lovelace").actor
    assert record.actor != audit.append("tool.run", actor="alan").actor
    other_install = AuditLog(tmp_path / "other.sqlite")
    assert other_install.hash_actor("ada.lovelace") != record.actor
    # the salt survives reopening the same file
    assert AuditLog(audit.path).hash_actor("ada.lovelace") == record.actor


def test_edited_record_is_named(audit: AuditLog) -> None:
    ids = fill(audit, 5)
    tamper(audit.path, "UPDATE records SET details = '{\"i\":99}' WHERE seq = 3")
    result = audit.verify()
    assert not result.ok
    assert (result.first_bad, result.first_bad_seq, result.records) == (ids[2], 3, 2)
    assert "edited" in (result.reason or "")


def test_edited_outcome_with_recomputed_hash_breaks_the_next_link(audit: AuditLog) -> None:
    ids = fill(audit, 4)
    record = audit.query(limit=4)[-2]  # seq 2
    fields = {k: v for k, v in record.to_dict().items() if k not in ("prev_hash", "hash")}
    fields["outcome"] = "denied"
    from jupyter_dsagent.audit import chain_hash

    forged = chain_hash(record.prev_hash, fields)
    tamper(audit.path, f"UPDATE records SET outcome='denied', hash='{forged}' WHERE seq = 2")
    result = audit.verify()
    assert result.first_bad == ids[2]
    assert "does not link" in (result.reason or "")


def test_deleted_record_is_detected_at_the_gap(audit: AuditLog) -> None:
    ids = fill(audit, 5)
    tamper(audit.path, "DELETE FROM records WHERE seq = 2")
    result = audit.verify()
    assert not result.ok
    assert result.first_bad == ids[2]
    assert "deleted" in (result.reason or "")


def test_reordered_records_are_detected(audit: AuditLog) -> None:
    fill(audit, 5)
    tamper(
        audit.path,
        "UPDATE records SET seq = -2 WHERE seq = 2",
        "UPDATE records SET seq = 2 WHERE seq = 3",
        "UPDATE records SET seq = 3 WHERE seq = -2",
    )
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_seq == 2


def test_truncation_is_caught_only_with_an_outside_checkpoint(audit: AuditLog) -> None:
    fill(audit, 5)
    checkpoint = audit.head()
    tamper(audit.path, "DELETE FROM records WHERE seq >= 4")
    assert audit.verify().ok  # a chain alone cannot see a cut at its end
    result = audit.verify(checkpoint=checkpoint)
    assert not result.ok
    assert "truncated" in (result.reason or "")
    assert audit.verify(checkpoint=Checkpoint.parse(str(audit.head()))).ok


def test_sql_updates_and_deletes_are_refused(audit: AuditLog) -> None:
    fill(audit, 2)
    conn = sqlite3.connect(audit.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE records SET outcome = 'ok'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM records")
    conn.close()
    assert audit.verify().ok


def test_secrets_are_redacted_before_writing(audit: AuditLog) -> None:
    record = audit.append(
        "llm.call",
        actor="ada",
        subject=f"called with {FAKE_OPENAI_KEY}",
        details={
            "error": f"401 for key {FAKE_OPENAI_KEY}",
            "headers": {"Authorization": f"Bearer {FAKE_BEARER}"},
            "request": f"Authorization: Bearer {FAKE_BEARER}",
            "api_base": "https://bob:hunter2secret@llm.example.org/v1",
            "api_key": "anything-at-all",
            "nested": [{"password": "pw123456"}],
        },
    )
    raw = audit.path.read_bytes() + b"".join(
        p.read_bytes() for p in audit.path.parent.glob("audit.sqlite-*")
    )
    for secret in (FAKE_OPENAI_KEY, FAKE_BEARER, "hunter2secret", "anything-at-all", "pw123456"):
        assert secret.encode() not in raw
        assert secret not in json.dumps(record.to_dict())
    assert record.details["api_base"] == "https://bob:***@llm.example.org/v1"
    assert record.details["request"] == "Authorization: Bearer ***"
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "upload.acepted"}, "Unknown audit kind"),
        ({"kind": "tool.run", "outcome": "fine"}, "Unknown audit outcome"),
        ({"kind": "tool.run", "details": {"blob": "x" * 20_000}}, "at most 16,384"),
        ({"kind": "tool.run", "details": {"x": float("nan")}}, "JSON"),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_written(
    audit: AuditLog, kwargs: dict, match: str
) -> None:
    kind = kwargs.pop("kind")
    with pytest.raises(AuditRecordError, match=match):
        audit.append(kind, actor="ada", **kwargs)
    assert len(audit) == 0


def test_non_json_details_are_stored_as_text(audit: AuditLog, tmp_path: Path) -> None:
    record = audit.append("tool.run", actor="ada", details={"path": tmp_path})
    assert record.details == {"path": str(tmp_path)}
    assert audit.verify().ok


def test_query_filters_by_kind_family_time_and_limit(audit: AuditLog) -> None:
    audit.append("upload.accepted", actor="a")
    middle = audit.append("upload.rejected", actor="a", outcome="denied")
    audit.append("llm.call", actor="a")
    assert [r.kind for r in audit.query()] == ["llm.call", "upload.rejected", "upload.accepted"]
    assert [r.kind for r in audit.query(kind="upload")] == ["upload.rejected", "upload.accepted"]
    assert [r.kind for r in audit.query(kind="upload.rejected")] == ["upload.rejected"]
    assert [r.seq for r in audit.query(since=middle.time)] == [3, 2]
    assert len(audit.query(limit=1)) == 1
    assert audit.query(kind="upload_") == []  # LIKE wildcards are literal


def test_database_file_is_private(audit: AuditLog) -> None:
    audit.append("tool.run", actor="a")
    assert stat.S_IMODE(os.stat(audit.path).st_mode) == 0o600


def test_unwritable_location_is_an_audit_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="could not be used"):
        AuditLog(tmp_path / "missing-dir" / "audit.sqlite")


def test_kinds_cover_the_documented_events() -> None:
    assert {
        "upload.accepted",
        "upload.rejected",
        "llm.call",
        "tool.run",
        "automl.start",
        "automl.end",
        "suggestion.inserted",
        "config.loaded",
    } <= KINDS


WORKER = textwrap.dedent(
    """
    import sys
    from jupyter_dsagent.audit import AuditLog
    log = AuditLog(sys.argv[1])
    for i in range(int(sys.argv[3])):
        log.append("tool.run", actor="worker", subject=sys.argv[2], details={"i": i})
    """
)


def test_four_processes_appending_200_records_each_keep_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(path), f"w{n}", "200"])
        for n in range(4)
    ]
    assert [w.wait(timeout=240) for w in workers] == [0, 0, 0, 0]
    audit = AuditLog(path)
    result = audit.verify()
    assert result.ok, result.reason
    assert result.records == 800
    records = audit.query(limit=1000)
    assert sorted(r.seq for r in records) == list(range(1, 801))
    for n in range(4):
        mine = sorted(r.details["i"] for r in records if r.subject == f"w{n}")
        assert mine == list(range(200))
