"""Reading validated files back, and re-validating anything that skipped our upload.

A file in the workspace (for example one uploaded with JupyterLab's own file
browser) is never taken as validated: it goes through the same pipeline first.
Reads use what was learned at upload (encoding, separator, header, …) and never guess.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from ..exceptions import BadRequest, IngestError, NotFoundError
from ..models import UploadRecord
from .pipeline import Ingestor, sha256_of
from .sniff import clean_name

__all__ = ["READERS", "load", "read_record", "resolve"]

#: A scheme and "//": text that names something on the network, never read.
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
#: How each table kind is read back: kind -> "module:function(path, metadata, *, max_rows)".
READERS: dict[str, str] = {
    "csv": "jupyter_dsagent.ingest.delimited:read_delimited",
    "tsv": "jupyter_dsagent.ingest.delimited:read_delimited",
    "txt": "jupyter_dsagent.ingest.delimited:read_delimited",
    "json": "jupyter_dsagent.ingest.columnar:read_json",
    "parquet": "jupyter_dsagent.ingest.columnar:read_parquet",
    "xlsx": "jupyter_dsagent.ingest.xlsx:read_xlsx",
    "image": "jupyter_dsagent.ingest.image:open_clean_image",
}


def resolve(name_or_path: str | Path, *, ingestor: Ingestor, actor: str) -> UploadRecord:
    """Find an upload by id, validate a workspace file, or find an upload by name."""
    if not isinstance(name_or_path, str | Path):
        raise BadRequest(
            "Name an upload (its id or file name) or a file's path, "
            f"not a {type(name_or_path).__name__}."
        )
    text = str(name_or_path)
    if _URL.match(text):
        raise BadRequest(
            f"{text[:80]!r} is a URL; only uploads and files on this machine are read. "
            "Download the file, then upload it or save it in the workspace."
        )
    record = ingestor.catalog.get(text)
    if record is not None:
        return record
    candidate = Path(text).expanduser()
    if candidate.is_file():
        same = ingestor.catalog.find_same(clean_name(candidate.name), sha256_of(candidate))
        return same or ingestor.ingest(candidate, candidate.name, actor=actor)
    record = ingestor.catalog.find(text)
    if record is None:
        raise NotFoundError(f"There is no upload or file called {text!r}.")
    return record


def read_record(record: UploadRecord, *, ingestor: Ingestor) -> Any:
    """A DataFrame for tables, a cleaned PIL image for images."""
    if record.kind == "zip":
        members = ", ".join(child.name for child in record.children) or "none"
        raise IngestError(
            f"{record.name!r} is a ZIP archive; load one of its members by name: {members}.",
            code="type_not_allowed",
        )
    module, _, function = READERS[record.kind].partition(":")
    reader = getattr(importlib.import_module(module), function)
    path = ingestor.data.ready / record.path
    if record.kind == "image":
        return reader(path)
    return reader(path, record.metadata, max_rows=ingestor.limits.max_csv_rows)


def load(name_or_path: str | Path, *, ingestor: Ingestor, actor: str) -> Any:
    """``resolve`` then ``read_record``: the kernel's ``dsa.load``."""
    return read_record(resolve(name_or_path, ingestor=ingestor, actor=actor), ingestor=ingestor)
