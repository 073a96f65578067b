"""Uploads over HTTP: streamed into quarantine, validated, listed, served and deleted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from jupyter_dsagent.models import UploadRecord

from ..paths import SHARED_DATA
from .conftest import NOTHING_STORED, Fetch
from .wire import (
    CONTENT_TYPE,
    FORM_TAIL,
    MIB,
    chunks,
    drip,
    error_code,
    file_form,
    file_head,
    form,
    part,
    raw_request,
    read_response,
    start_request,
)

Upload = Callable[[str, bytes], Awaitable[Any]]
RECORD_KEYS = {
    "id",
    "name",
    "kind",
    "size",
    "sha256",
    "status",
    "created",
    "path",
    "parent",
    "metadata",
    "warnings",
    "children",
}


async def test_csv_upload_round_trip(
    api: Fetch, upload: Upload, stored: Callable[[], dict[str, list[str]]], runtime: Any
) -> None:
    content = (SHARED_DATA / "seaborn" / "titanic.csv").read_bytes()
    response = await upload("titanic.csv", content)
    assert response.code == 201, response.body
    record = json.loads(response.body)
    assert set(record) == RECORD_KEYS
    UploadRecord.model_validate(record)
    assert (record["name"], record["kind"], record["size"], record["status"]) == (
        "titanic.csv",
        "csv",
        len(content),
        "ready",
    )
    assert response.headers["Location"].endswith(f"/dsagent/api/uploads/{record['id']}")

    one = await api("uploads", record["id"])
    assert (one.code, json.loads(one.body)) == (200, record)
    listed = await api("uploads")
    assert [r["id"] for r in json.loads(listed.body)] == [record["id"]]
    thumbnail = await api("uploads", record["id"], "thumbnail")
    assert (thumbnail.code, error_code(thumbnail)) == (404, "not_found")

    deleted = await api("uploads", record["id"], method="DELETE")
    assert (deleted.code, deleted.body) == (204, b"")
    gone = await api("uploads", record["id"])
    assert (gone.code, error_code(gone)) == (404, "not_found")
    again = await api("uploads", record["id"], method="DELETE")
    assert (again.code, error_code(again)) == (404, "not_found")
    assert stored() == NOTHING_STORED
    kinds = [r.kind for r in runtime.audit.query(kind="upload")]
    assert kinds == ["upload.deleted", "upload.accepted"]


async def test_photo_is_accepted_and_its_thumbnail_served_as_an_inert_jpeg(
    api: Fetch, upload: Upload
) -> None:
    photo = (SHARED_DATA / "images" / "gps_nikon_DSCN0010.jpg").read_bytes()
    response = await upload("DSCN0010.jpg", photo)
    assert response.code == 201, response.body
    record = json.loads(response.body)
    assert set(record) == RECORD_KEYS
    assert record["kind"] == "image"

    thumbnail = await api("uploads", record["id"], "thumbnail")
    assert thumbnail.code == 200
    assert thumbnail.body.startswith(b"\xff\xd8\xff")
    assert thumbnail.headers["Content-Type"] == "image/jpeg"
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    assert thumbnail.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert thumbnail.headers["Cache-Control"] == "private"


async def test_list_is_newest_first_and_limit_is_bounded(api: Fetch, upload: Upload) -> None:
    ids = []
    for name in ("first.csv", "second.csv"):
        response = await upload(name, b"a,b\n1,2\n")
        assert response.code == 201, response.body
        ids.append(json.loads(response.body)["id"])
    listed = await api("uploads")
    assert [r["id"] for r in json.loads(listed.body)] == ids[::-1]
    one = await api("uploads", params={"limit": "1"})
    assert [r["id"] for r in json.loads(one.body)] == ids[-1:]
    for bad in ("0", "1001", "-1", "ten", "1.5"):
        refused = await api("uploads", params={"limit": bad})
        assert (refused.code, error_code(refused)) == (400, "bad_request"), bad


# Raw paths after the base URL; the client sends them exactly as written.
HOSTILE_IDS = [
    "uploads/../u10/x",
    "uploads/%2e%2e",
    "uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "uploads//etc/passwd",
    "uploads/C:%5Cx",
    "uploads/%5C%5Chost%5Cs",
    "uploads/..%5C..%5Cready",
    "uploads/" + "A" * 32,
    "uploads/" + "0" * 31,
    "uploads/" + "0" * 32,  # well formed, unknown
    "uploads/" + "0" * 32 + "/thumbnail",
    "uploads/%2e%2e/thumbnail",
    "uploads/../../../../etc/passwd/thumbnail",
]


async def test_malformed_and_unknown_ids_get_a_json_404_never_a_file(
    http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str]
) -> None:
    for path in HOSTILE_IDS:
        # Thumbnails are read-only: DELETE there is a 405 before the id is looked at.
        for method in ("GET",) if path.endswith("/thumbnail") else ("GET", "DELETE"):
            response = await http_server_client.fetch(
                f"{jp_base_url}dsagent/api/{path}",
                method=method,
                headers=jp_auth_header,
                raise_error=False,
            )
            assert (response.code, error_code(response)) == (404, "not_found"), (method, path)


HOSTILE_FILES = {
    "malicious/zip-slip.zip": (422, {"zip_path_traversal"}),
    "malicious/zip-slip-win.zip": (422, {"zip_path_traversal"}),
    "malicious/zip-slip.tar": (415, {"type_not_allowed"}),
    "malicious/zip-slip-win.tar": (415, {"type_not_allowed"}),
    "malicious/pillow_decompression_bomb.ico": (415, {"type_not_allowed"}),
    "malicious/pillow_reallybig.bmp": (415, {"type_not_allowed"}),
    "malicious/pillow_decompression_bomb.gif": (422, {"image_too_many_pixels"}),
    "malicious/pillow_decompression_bomb_extents.gif": (422, {"image_too_many_pixels"}),
    "malicious/zipbomb_overlap_zbsm_style.zip": (422, {"zip_too_many_entries"}),
    "malicious/zipbomb_recursive_Challenge9.zip": (422, {"zip_bomb", "zip_nested_too_deep"}),
    "messy/pd_speech_features_ACTUALLY_HTML.csv": (422, {"content_mismatch"}),
}


async def test_hostile_files_are_refused_with_their_code_and_nothing_is_kept(
    upload: Upload, stored: Callable[[], dict[str, list[str]]], runtime: Any
) -> None:
    outcomes = {}
    for relative in HOSTILE_FILES:
        path = SHARED_DATA / relative
        response = await upload(path.name, path.read_bytes())
        outcomes[relative] = (response.code, error_code(response))
    mismatched = {
        name: got
        for name, got in outcomes.items()
        if got[0] != HOSTILE_FILES[name][0] or got[1] not in HOSTILE_FILES[name][1]
    }
    assert mismatched == {}
    assert stored() == NOTHING_STORED
    assert len(runtime.audit.query(kind="upload.rejected")) == len(HOSTILE_FILES)


async def test_malformed_forms_are_refused_and_leave_no_file(
    api: Fetch, stored: Callable[[], dict[str, list[str]]]
) -> None:
    cases = {
        "no file field": (form(part("note", b"hello")), CONTENT_TYPE, 400, "bad_request"),
        "two files": (
            form(part("file", b"a\n1\n", "a.csv"), part("file", b"b\n2\n", "b.csv")),
            CONTENT_TYPE,
            400,
            "bad_request",
        ),
        "file in another field": (
            form(part("data", b"a\n1\n", "a.csv")),
            CONTENT_TYPE,
            400,
            "bad_request",
        ),
        "text in the file field": (form(part("file", b"a\n1\n")), CONTENT_TYPE, 400, "bad_request"),
        "no closing boundary": (
            file_form("a.csv", b"a\n1\n")[:-12],
            CONTENT_TYPE,
            400,
            "bad_request",
        ),
        "not multipart": (b"a,b\n1,2\n", "text/csv", 415, "type_not_allowed"),
        "no boundary": (
            file_form("a.csv", b"a\n1\n"),
            "multipart/form-data",
            415,
            "type_not_allowed",
        ),
        "empty file": (file_form("empty.csv", b""), CONTENT_TYPE, 422, "empty_upload"),
    }
    for name, (body, content_type, status, code) in cases.items():
        response = await api(
            "uploads", method="POST", body=body, headers={"Content-Type": content_type}
        )
        assert (response.code, error_code(response)) == (status, code), name
    assert stored() == NOTHING_STORED


async def test_extra_plain_fields_are_ignored(api: Fetch) -> None:
    body = form(part("note", b"from the sidebar"), part("file", b"a,b\n1,2\n", "t.csv"))
    response = await api(
        "uploads", method="POST", body=body, headers={"Content-Type": CONTENT_TYPE}
    )
    assert response.code == 201, response.body
    assert json.loads(response.body)["name"] == "t.csv"


async def test_the_file_name_is_read_as_browsers_send_it(api: Fetch) -> None:
    """Browsers send a name's UTF-8 bytes in filename="…"; forms never use filename*
    (RFC 7578), which gets its own sentence rather than "not a file"."""
    body = form(part("file", b"a,b\n1,2\n", "résumé.csv"))
    response = await api(
        "uploads", method="POST", body=body, headers={"Content-Type": CONTENT_TYPE}
    )
    assert response.code == 201, response.body
    assert json.loads(response.body)["name"] == "résumé.csv"
    starred = part("file", b"a,b\n1,2\n", "x.csv").replace(
        b'filename="x.csv"', b"filename*=UTF-8''r%C3%A9sum%C3%A9.csv"
    )
    refused = await api(
        "uploads",
        method="POST",
        body=form(starred),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert (refused.code, error_code(refused)) == (400, "bad_request")
    assert "filename*" in json.loads(refused.body)["error"]["message"]


async def test_unknown_paths_and_methods_get_json_errors(api: Fetch) -> None:
    for parts in (("nothing",), ("uploads", "x", "y"), ("audit", "verify", "x"), ("llm", "v1")):
        response = await api(*parts)
        assert (response.code, error_code(response)) == (404, "not_found"), parts
    put = await api("uploads", method="PUT", body=b"", allow_nonstandard_methods=True)
    assert (put.code, error_code(put)) == (405, "method_not_allowed")
    with_body = await api("audit", method="DELETE", body=b"x", allow_nonstandard_methods=True)
    assert (with_body.code, error_code(with_body)) == (400, "bad_request")


# -- limits: size, time, concurrency, rate, disk ---------------------------------------------


@pytest.fixture
def uploads_path(jp_base_url: str) -> str:
    return f"{jp_base_url}dsagent/api/uploads"


@pytest.fixture
def form_headers(jp_auth_header: dict[str, str]) -> dict[str, str]:
    return {**jp_auth_header, "Content-Type": CONTENT_TYPE}


def form_stream(filename: str, body: Iterator[bytes]) -> Iterator[bytes]:
    yield file_head(filename)
    yield from body
    yield FORM_TAIL


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_declared_60mb_upload_is_refused_from_its_headers(
    port: int,
    uploads_path: str,
    form_headers: dict[str, str],
    stored: Callable[[], dict[str, list[str]]],
) -> None:
    size = 60 * 10**6
    headers = {**form_headers, "Content-Length": str(size + 300)}
    response = await raw_request(
        port, "POST", uploads_path, headers, form_stream("big.csv", chunks(size))
    )
    assert (response.status, response.code) == (413, "too_large")
    assert response.sent < size // 2  # answered while the body was still coming
    assert stored() == NOTHING_STORED


async def test_streamed_60mb_upload_is_cut_off_at_the_50mb_limit(
    port: int,
    uploads_path: str,
    form_headers: dict[str, str],
    stored: Callable[[], dict[str, list[str]]],
    runtime: Any,
) -> None:
    size = 60 * 10**6
    response = await raw_request(
        port,
        "POST",
        uploads_path,
        form_headers,
        form_stream("big.csv", chunks(size)),
        chunked=True,  # no Content-Length: only counting the bytes can stop it
    )
    assert (response.status, response.code) == (413, "too_large")
    assert 50 * 10**6 <= response.sent < size
    assert stored() == NOTHING_STORED
    [refusal] = runtime.audit.query(kind="upload.rejected")
    assert refusal.details["code"] == "too_large"


async def test_a_client_that_disconnects_mid_upload_leaves_nothing(
    port: int,
    uploads_path: str,
    form_headers: dict[str, str],
    stored: Callable[[], dict[str, list[str]]],
    ingestor: Any,
) -> None:
    headers = {**form_headers, "Content-Length": str(10 * MIB)}
    _, writer = await start_request(port, "POST", uploads_path, headers)
    writer.write(file_head("partial.csv") + b"a,b\n" * (MIB // 4))
    await writer.drain()
    await wait_for(lambda: any(ingestor.data.quarantine.iterdir()))
    writer.close()
    await writer.wait_closed()
    await wait_for(lambda: stored() == NOTHING_STORED)


@pytest.mark.dsagent(upload_timeout_seconds=1)
async def test_a_slow_drip_is_cut_off_after_the_receive_timeout(
    port: int,
    uploads_path: str,
    form_headers: dict[str, str],
    stored: Callable[[], dict[str, list[str]]],
) -> None:
    headers = {**form_headers, "Content-Length": str(MIB)}
    slowly = drip([file_head("drip.csv")] + [b"a,b\n"] * 50, pause=0.1)
    response = await raw_request(port, "POST", uploads_path, headers, slowly, timeout=10)
    assert (response.status, response.code) == (408, "timeout")
    # Refused while the drip was still running (50 pieces, 0.1 s apart), not at its end.
    assert response.sent < len(file_head("drip.csv")) + 50 * len(b"a,b\n")
    assert stored() == NOTHING_STORED


@pytest.mark.dsagent(max_concurrent_uploads_per_user=1)
async def test_a_second_concurrent_upload_is_refused_while_the_first_streams(
    port: int,
    uploads_path: str,
    form_headers: dict[str, str],
    upload: Upload,
    ingestor: Any,
) -> None:
    content = b"a,b\n" + b"1,2\n" * 1000
    body = file_head("slow.csv") + content + FORM_TAIL
    headers = {**form_headers, "Content-Length": str(len(body))}
    reader, writer = await start_request(port, "POST", uploads_path, headers)
    writer.write(body[:2000])
    await writer.drain()
    await wait_for(lambda: any(ingestor.data.quarantine.iterdir()))

    second = await upload("fast.csv", b"a,b\n1,2\n")
    assert (second.code, error_code(second)) == (429, "rate_limited")
    assert int(second.headers["Retry-After"]) >= 1

    writer.write(body[2000:])
    await writer.drain()
    status, _, first = await read_response(reader)
    writer.close()
    await writer.wait_closed()
    assert status == 201, first
    third = await upload("after.csv", b"a,b\n1,2\n")
    assert third.code == 201, third.body


@pytest.mark.dsagent(requests_per_minute_per_user=3)
async def test_requests_beyond_the_rate_limit_get_429_with_retry_after(api: Fetch) -> None:
    for _ in range(3):
        assert (await api("uploads")).code == 200
    for parts in (("uploads",), ("audit",), ("health",)):  # one budget for every route
        refused = await api(*parts)
        assert (refused.code, error_code(refused)) == (429, "rate_limited"), parts
        assert int(refused.headers["Retry-After"]) in range(1, 21)


@pytest.mark.dsagent(min_free_disk_bytes=10**15)
async def test_uploads_stop_above_the_free_disk_floor(
    upload: Upload, stored: Callable[[], dict[str, list[str]]], runtime: Any
) -> None:
    response = await upload("small.csv", b"a,b\n1,2\n")
    assert (response.code, error_code(response)) == (507, "insufficient_storage")
    assert "DSAgent.min_free_disk_bytes" in json.loads(response.body)["error"]["message"]
    assert stored() == NOTHING_STORED
    [refusal] = runtime.audit.query(kind="upload.rejected")
    assert refusal.details["code"] == "insufficient_storage"
