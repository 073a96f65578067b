"""Audit and health endpoints, and the Prometheus metrics the handlers keep."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Fetch
from .wire import error_code

REQUIRED = {
    "data_dir_writable",
    "catalog_database",
    "audit_database",
    "audit_chain_head",
    "disk_space",
}
OPTIONAL = {"autogluon", "llm_configured"}


def seed(runtime: Any) -> list[Any]:
    audit = runtime.audit
    return [
        audit.append("upload.accepted", actor="ada", subject="a1", details={"n": 1}),
        audit.append("upload.rejected", actor="ada", subject="a.tar", outcome="denied"),
        audit.append("llm.call", actor="bob", subject="gpt-4o-mini"),
    ]


async def test_audit_records_come_newest_first_filtered_by_kind(api: Fetch, runtime: Any) -> None:
    accepted, rejected, llm = seed(runtime)
    everything = json.loads((await api("audit")).body)
    assert [r["id"] for r in everything[:3]] == [llm.id, rejected.id, accepted.id]
    assert everything[-1]["kind"] == "config.loaded"
    assert set(everything[0]) == {
        "seq",
        "id",
        "time",
        "actor",
        "kind",
        "subject",
        "outcome",
        "details",
        "prev_hash",
        "hash",
    }
    assert everything[0]["actor"].startswith("u_")  # a pseudonym, never the name

    family = json.loads((await api("audit", params={"kind": "upload"})).body)
    assert [r["id"] for r in family] == [rejected.id, accepted.id]
    exact = json.loads((await api("audit", params={"kind": "upload.accepted"})).body)
    assert [r["id"] for r in exact] == [accepted.id]
    one = json.loads((await api("audit", params={"limit": "1"})).body)
    assert [r["id"] for r in one] == [llm.id]
    since = json.loads((await api("audit", params={"since": rejected.time})).body)
    assert [r["id"] for r in since] == [llm.id, rejected.id]
    future = json.loads((await api("audit", params={"since": "2999-01-01T00:00:00+00:00"})).body)
    assert future == []


async def test_audit_query_refuses_bad_parameters(api: Fetch) -> None:
    for params in (
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "many"},
        {"since": "yesterday"},
        {"since": "2025-13-01"},
        {"kind": "upload.acepted"},
        {"kind": "%"},
    ):
        response = await api("audit", params=params)
        assert (response.code, error_code(response)) == (400, "bad_request"), params


async def test_verify_reports_a_tampered_record(api: Fetch, runtime: Any) -> None:
    _, rejected, _ = seed(runtime)
    intact = json.loads((await api("audit", "verify")).body)
    assert intact == {"ok": True, "records": 4, "first_bad": None, "reason": None}

    with sqlite3.connect(runtime.data.audit_db) as conn:
        conn.execute("DROP TRIGGER records_append_only_update")
        conn.execute("UPDATE records SET subject = 'b.csv' WHERE id = ?", (rejected.id,))
    response = await api("audit", "verify")
    assert response.code == 200
    tampered = json.loads(response.body)
    assert (tampered["ok"], tampered["first_bad"]) == (False, rejected.id)
    assert "edited" in tampered["reason"]


async def test_health_is_ok_when_every_required_component_works(api: Fetch) -> None:
    response = await api("health")
    assert response.code == 200
    health = json.loads(response.body)
    assert health["ok"] is True
    assert set(health["checks"]) == REQUIRED | OPTIONAL
    assert {n for n, c in health["checks"].items() if c["required"]} == REQUIRED
    assert all(health["checks"][name]["ok"] for name in REQUIRED)
    assert health["checks"]["llm_configured"]["ok"] is False  # no key in the test env


@pytest.fixture
def anthropic_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider key in the environment the server starts with."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")


@pytest.mark.dsagent(model="anthropic/claude-3-5-haiku-latest")
async def test_health_says_the_llm_is_configured_without_showing_the_key(
    anthropic_key: None, api: Fetch
) -> None:
    # The gateway holds the key now; it is gone from the environment kernels inherit.
    response = await api("health")
    llm = json.loads(response.body)["checks"]["llm_configured"]
    assert llm["ok"] is True
    assert "ANTHROPIC_API_KEY" in llm["detail"]
    assert b"0123456789abcdef" not in response.body


def replace_quarantine_by_a_file(runtime: Any) -> None:
    shutil.rmtree(runtime.data.quarantine)
    runtime.data.quarantine.write_text("not a directory")


def delete_the_audit_database(runtime: Any) -> None:
    runtime.data.audit_db.unlink()


@pytest.mark.parametrize(
    ("break_it", "failing"),
    [
        (replace_quarantine_by_a_file, "data_dir_writable"),
        (delete_the_audit_database, "audit_database"),
    ],
    ids=["quarantine-is-a-file", "audit-db-deleted"],
)
async def test_health_is_503_naming_the_failed_check(
    api: Fetch, runtime: Any, break_it: Callable[[Any], None], failing: str
) -> None:
    break_it(runtime)
    response = await api("health")
    assert response.code == 503
    health = json.loads(response.body)
    assert health["ok"] is False
    assert [n for n, c in health["checks"].items() if c["required"] and not c["ok"]] == [failing]
    assert health["error"]["code"] == "unhealthy"
    assert failing in health["error"]["message"]


@pytest.mark.dsagent(min_free_disk_bytes=10**15)
async def test_health_fails_below_the_free_disk_floor(api: Fetch) -> None:
    response = await api("health")
    health = json.loads(response.body)
    assert (response.code, health["checks"]["disk_space"]["ok"]) == (503, False)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("dsagent_")
    }


async def test_metrics_count_uploads_rejections_bytes_and_request_times(
    jp_fetch: Fetch, upload: Callable[[str, bytes], Awaitable[Any]]
) -> None:
    async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = await jp_fetch("metrics")
        return samples(response.body.decode())

    before = await scrape()
    assert (await upload("m.csv", b"a,b\n1,2\n")).code == 201
    assert (await upload("m.tar", b"not really a tar")).code == 415
    after = await scrape()

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("dsagent_uploads_total", kind="csv", outcome="accepted") == 1
    assert grew("dsagent_uploads_total", kind="other", outcome="rejected") == 1
    assert grew("dsagent_upload_rejections_total", code="type_not_allowed") == 1
    assert grew("dsagent_upload_bytes_total") == len(b"a,b\n1,2\n") + len(b"not really a tar")
    assert grew("dsagent_request_seconds_count", route="/dsagent/api/uploads", method="POST") == 2


async def test_metrics_need_the_token(http_server_client: Any, jp_base_url: str) -> None:
    response = await http_server_client.fetch(f"{jp_base_url}metrics", raise_error=False)
    assert response.code == 403
