"""Push parsing of a multipart/form-data body that carries exactly one file, field ``file``.

The body arrives in chunks; python-multipart's state machine finds the part
boundaries, and the file part's bytes go straight to a sink (the quarantine writer)
as they arrive, so an upload is never held in memory. Other plain fields are
skipped; a second file, or a form without ``file``, is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ..exceptions import BadRequest, TypeNotAllowed

__all__ = ["FILE_FIELD", "SingleFileForm", "boundary_of"]

FILE_FIELD = "file"
# RFC 2046 section 5.1.1: 1 to 70 characters.
_MAX_BOUNDARY = 70


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type, or TypeNotAllowed."""
    # latin-1 keeps every byte as one character, so nothing is lost or refused here.
    media_type, params = parse_options_header(content_type.encode("latin-1", "replace"))
    boundary = params.get(b"boundary", b"")
    if media_type != b"multipart/form-data" or not 0 < len(boundary) <= _MAX_BOUNDARY:
        raise TypeNotAllowed(
            "Send the upload as multipart/form-data (with a boundary), "
            f"the file in the field {FILE_FIELD!r}."
        )
    return boundary


class SingleFileForm:
    """Feed body chunks to :meth:`write`; the file's bytes go to ``sink`` as they arrive.

    Errors of the form raise BadRequest; errors raised by ``sink`` (the size limit)
    pass through unchanged.
    """

    def __init__(self, boundary: bytes, sink: Callable[[bytes], None]) -> None:
        self.filename: str | None = None
        self._sink = sink
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""
        self._in_file = False
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def write(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise BadRequest(f"The upload is not a well-formed multipart form: {exc}.") from None

    def finish(self) -> str:
        """Check the form was complete and had the file; return the client's file name."""
        if not self._ended:
            raise BadRequest("The upload ended before the form's closing boundary.")
        if self.filename is None:
            raise BadRequest(f"The form has no file in the field {FILE_FIELD!r}.")
        return self.filename

    # -- parser callbacks ----------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition"))
        if disposition != b"form-data" or b"name" not in params:
            raise BadRequest("A part of the form has no Content-Disposition: form-data name.")
        is_file = b"filename" in params
        if params[b"name"] == FILE_FIELD.encode() and not is_file:
            if b"filename*" in self._headers.get(b"content-disposition", b""):
                raise BadRequest(
                    'Send the file\'s name as filename="…" (UTF-8); forms do not use '
                    "filename* (RFC 7578)."
                )
            raise BadRequest(f"The field {FILE_FIELD!r} must hold a file, not text.")
        if not is_file:
            return  # a plain field: skipped
        if params[b"name"] != FILE_FIELD.encode() or self.filename is not None:
            raise BadRequest(f"Send exactly one file, in the field {FILE_FIELD!r}.")
        # Browsers send the name as UTF-8 bytes; it is display metadata only.
        self.filename = params[b"filename"].decode("utf-8", "replace")
        self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._sink(data[start:end])

    def _part_end(self) -> None:
        self._in_file = False

    def _end(self) -> None:
        self._ended = True
