"""Upload endpoints: stream a file into quarantine, list, read, thumbnail and delete uploads.

``POST /dsagent/api/uploads`` never holds the body in memory. Tornado hands us the
body chunk by chunk (``@stream_request_body``), the form parser picks out the file
part and the quarantine writer counts, hashes and writes it. Everything that can
refuse an upload without its bytes happens in ``prepare()``, on the headers alone:
authentication, XSRF, authorization, the content type, a declared size above the
limit, the disk-space floor and the per-user concurrency cap. Only then is a byte
read. Any refusal or disconnection afterwards removes the partial file.
"""

from __future__ import annotations

import functools
import logging

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.http1connection import HTTP1Connection
from tornado.ioloop import IOLoop

from ..exceptions import AuditError, DSAgentError, NotFoundError, UploadTooLarge
from ..ingest.quarantine import QuarantineWriter, human_bytes
from ..ingest.sniff import EXTENSION_KINDS, extension_of
from ..models import UploadRecord
from ..observability import metrics
from ..throttle import ConcurrencyLimit
from .base import UPLOADS_RESOURCE, DSAgentHandler, valid_upload_id
from .multipart import SingleFileForm, boundary_of

__all__ = ["ThumbnailHandler", "UploadHandler", "UploadsHandler"]

#: What a form may add around the file: boundaries, part headers, small plain fields.
FORM_OVERHEAD_BYTES = 64 * 1024
# Tornado checks a chunked body's declared size when a chunk starts, before it hands
# us any of it; this slack lets our own check, which answers in JSON, fire first.
_CHUNK_SLACK_BYTES = 16 * 1024 * 1024
# Tornado's own body timeout is the backstop behind ours (which answers 408 in JSON).
_BODY_TIMEOUT_GRACE = 5.0
# Codes the pipeline never sees (it audits its own refusals); 429s and 403s are not
# audited as uploads (403s are audited as auth.denied by the base handler).
_AUDITED_HERE = frozenset(
    {"too_large", "type_not_allowed", "bad_request", "timeout", "insufficient_storage"}
)

log = logging.getLogger(__name__)


class UploadsHandler(DSAgentHandler):
    """``GET`` lists uploads, newest first; ``POST`` receives one (multipart, field ``file``)."""

    auth_resource = UPLOADS_RESOURCE
    route = "/dsagent/api/uploads"

    _writer: QuarantineWriter | None = None
    _form: SingleFileForm | None = None
    _slot_user: str | None = None
    _timeout: object | None = None
    _accepted: UploadRecord | None = None
    _accept_ran = False
    _body_bytes = 0

    @property
    def upload_slots(self) -> ConcurrencyLimit:
        slots: ConcurrencyLimit = self.settings["dsagent_upload_slots"]
        return slots

    def accepts_body(self) -> bool:
        return self.request.method == "POST"

    # -- GET -------------------------------------------------------------------------------
    @web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.int_argument("limit", default=100, low=1, high=1000)
        records = self.ingestor.catalog.list(limit=limit)
        self.finish("[" + ",".join(r.model_dump_json() for r in records) + "]")

    # -- POST: before the body -------------------------------------------------------------
    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()  # authenticated, XSRF/origin checked, rate limit taken
        if self.request.method == "POST":
            await self._prepare_upload()

    async def _prepare_upload(self) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "write", self.auth_resource)
        )
        if not allowed:
            raise web.HTTPError(
                403, f"User is not authorized to write on resource: {self.auth_resource}."
            )
        settings = self.runtime.settings
        limit = self.ingestor.limits.max_upload_bytes
        boundary = boundary_of(self.request.headers.get("Content-Type", ""))
        declared = _declared_length(self.request.headers.get("Content-Length"))
        if declared is not None and declared > limit + FORM_OVERHEAD_BYTES:
            raise UploadTooLarge(
                f"The upload is {human_bytes(declared)}; the limit is {human_bytes(limit)}."
            )
        self.ingestor.data.ensure_space(declared or 0, settings.min_free_disk_bytes)
        self.upload_slots.enter(self.username)
        self._slot_user = self.username
        connection = self.request.connection
        assert isinstance(connection, HTTP1Connection), "uploads need an HTTP/1 connection"
        connection.set_max_body_size(limit + FORM_OVERHEAD_BYTES + _CHUNK_SLACK_BYTES)
        connection.set_body_timeout(settings.upload_timeout_seconds + _BODY_TIMEOUT_GRACE)
        self._timeout = IOLoop.current().call_later(
            settings.upload_timeout_seconds, self._receive_timed_out
        )
        self._writer = self.ingestor.writer()
        self._form = SingleFileForm(boundary, self._write_file_bytes)

    # -- POST: the body --------------------------------------------------------------------
    def data_received(self, chunk: bytes) -> None:
        if self._form is None or self._finished:
            return
        self._body_bytes += len(chunk)
        try:
            if self._body_bytes > self.ingestor.limits.max_upload_bytes + FORM_OVERHEAD_BYTES:
                raise UploadTooLarge(
                    "The upload is larger than "
                    f"{human_bytes(self.ingestor.limits.max_upload_bytes)}, the limit."
                )
            self._form.write(chunk)
        except Exception as exc:
            self._refuse(exc)

    def _write_file_bytes(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)  # raises UploadTooLarge past the limit
        metrics().upload_bytes.inc(len(data))

    def _receive_timed_out(self) -> None:
        self._timeout = None
        limit = self.runtime.settings.upload_timeout_seconds
        self._refuse(
            DSAgentError(
                f"The upload did not arrive within {limit} seconds "
                "(DSAgent.upload_timeout_seconds); it was discarded.",
                code="timeout",
            )
        )

    def _refuse(self, exc: Exception) -> None:
        """Answer now, while the client may still be sending; tornado then closes the
        connection instead of reading the rest."""
        self._discard()
        self.log_exception(type(exc), exc, exc.__traceback__)
        if not self._finished:
            status = exc.http_status if isinstance(exc, DSAgentError) else 500
            self.send_error(status, exc_info=(type(exc), exc, exc.__traceback__))

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if not self._accept_ran:
            self._discard()

    def _discard(self) -> None:
        """Remove the partial file, stop the timer and free the user's upload slot."""
        if self._timeout is not None:
            IOLoop.current().remove_timeout(self._timeout)
            self._timeout = None
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        if self._slot_user is not None:
            self.upload_slots.leave(self._slot_user)
            self._slot_user = None

    # -- POST: after the body --------------------------------------------------------------
    @web.authenticated
    @authorized
    async def post(self) -> None:
        if self._finished:  # the receive timeout fired just as the body completed
            return
        assert self._form is not None and self._writer is not None
        if self._timeout is not None:
            IOLoop.current().remove_timeout(self._timeout)
            self._timeout = None
        try:
            filename = self._form.finish()
            received = self._writer.finish()
            # From here the file belongs to accept(), which removes it if it is refused.
            self._writer = None
            self._accept_ran = True
            accept = functools.partial(
                self.ingestor.accept, received, filename, actor=self.username
            )
            record = await IOLoop.current().run_in_executor(None, accept)
        finally:
            self._discard()
        self._accepted = record
        self.set_status(201)
        self.set_header("Location", url_path_join(self.base_url, self.route, record.id))
        self.finish(record.model_dump_json())

    def on_finish(self) -> None:
        super().on_finish()
        if self.request.method != "POST":
            return
        self._discard()
        counters = metrics()
        if self._accepted is not None:
            counters.uploads.labels(kind=self._accepted.kind, outcome="accepted").inc()
            return
        filename = self._form.filename if self._form is not None else None
        code = self.error_code or "internal_error"
        counters.uploads.labels(kind=_kind_of(filename), outcome="rejected").inc()
        counters.upload_rejections.labels(code=code).inc()
        if code in _AUDITED_HERE and not self._accept_ran and self._authenticated_user():
            try:
                self.runtime.audit.append(
                    "upload.rejected",
                    actor=self.username,
                    subject=filename or "",
                    outcome="denied",
                    details={"code": code, "received_bytes": self._body_bytes},
                )
            except AuditError:
                log.exception("Could not audit a refused upload")


class UploadHandler(DSAgentHandler):
    """``GET`` one upload record; ``DELETE`` removes its files and record (audited)."""

    auth_resource = UPLOADS_RESOURCE
    route = "/dsagent/api/uploads/{id}"

    @web.authenticated
    @authorized
    async def get(self, upload_id: str) -> None:
        record = self.ingestor.catalog.get(valid_upload_id(upload_id))
        if record is None:
            raise NotFoundError("No upload has that id.")
        self.finish(record.model_dump_json())

    @web.authenticated
    @authorized
    async def delete(self, upload_id: str) -> None:
        remove = functools.partial(
            self.ingestor.delete, valid_upload_id(upload_id), actor=self.username
        )
        if await IOLoop.current().run_in_executor(None, remove) is None:
            raise NotFoundError("No upload has that id.")
        self.set_status(204)
        self.finish()


class ThumbnailHandler(DSAgentHandler):
    """``GET`` the JPEG thumbnail we made of an image upload (our re-encoded pixels only)."""

    auth_resource = UPLOADS_RESOURCE
    route = "/dsagent/api/uploads/{id}/thumbnail"

    @web.authenticated
    @authorized
    async def get(self, upload_id: str) -> None:
        catalog = self.ingestor.catalog
        record = catalog.get(valid_upload_id(upload_id))
        if record is None or record.kind != "image":
            raise NotFoundError("No image upload has that id.")
        try:
            data = catalog.thumbnail_path(record.id).read_bytes()
        except FileNotFoundError:
            raise NotFoundError("This image has no thumbnail.") from None
        # The bytes are ours, but a browser must still never treat them as a document.
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("Cache-Control", "private")
        self.finish(data, set_content_type="image/jpeg")


def _declared_length(header: str | None) -> int | None:
    """Content-Length as an int; None when absent or malformed (tornado refuses a
    malformed one itself when it starts reading the body)."""
    return int(header) if header is not None and header.strip().isdigit() else None


def _kind_of(filename: str | None) -> str:
    """A metrics label from the claimed extension: one of a few kinds, never free text."""
    if filename is None:
        return "unknown"
    known = EXTENSION_KINDS.get(extension_of(filename))
    return known[0] if known else "other"
