"""quarantine → validate → ready: the one path every file takes, whoever brings it.

The upload endpoint streams into a :class:`QuarantineWriter` and calls
:meth:`Ingestor.accept`; the kernel's ``load()`` and scripts call
:meth:`Ingestor.ingest` with a path or a binary stream. Either way the bytes are
sniffed here, parsed only in the sandbox, and moved into ready/ (and the catalog)
only when every check passed; on any failure everything in quarantine is removed.
Every accept and every refusal is written to the audit log.

Work that does not depend on each other runs side by side: the upload's ``fsync`` and
those of the files the worker wrote (ZIP members, re-encoded images) run in background
threads while validation goes on, and nothing is renamed into ready/ before they are
done; a ZIP is extracted in batches by one sandbox worker while the other validates the
members already out.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from ..audit import AuditLog
from ..datadir import DataDir
from ..exceptions import ArchiveError, IngestError, TableError, TypeNotAllowed
from ..models import UploadRecord, UploadWarning
from .inspection import Inspection
from .limits import Limits
from .quarantine import QuarantineWriter, Received, receive, sweep
from .sandbox import Sandbox
from .sniff import EXTENSION_KINDS, clean_name, expect_kind, extension_of, sniff
from .store import Catalog

if TYPE_CHECKING:
    from .archive import ExtractedMember

__all__ = ["Ingestor", "sha256_of"]

log = logging.getLogger(__name__)

_TABLE_TASKS = {
    "csv": "delimited",
    "tsv": "delimited",
    "txt": "delimited",
    "json": "json",
    "parquet": "parquet",
    "xlsx": "xlsx",
}
# Declared bytes a ZIP extraction batch holds: large enough that the structure checks
# each batch repeats cost little, small enough that members are validated early.
_ZIP_BATCH_BYTES = 64_000_000
_STORED_EXTENSION = {
    "csv": "csv",
    "tsv": "tsv",
    "txt": "txt",
    "json": "json",
    "parquet": "parquet",
    "xlsx": "xlsx",
    "zip": "zip",
}


class _Staged(Protocol):
    """A complete file in quarantine (a received upload, an extracted member)."""

    @property
    def path(self) -> Path: ...

    @property
    def size(self) -> int: ...

    @property
    def sha256(self) -> str: ...


@dataclass
class _Work:
    """Files one upload has staged in quarantine, and where each goes when accepted.

    Every staged file is ``fsync``-ed in a background thread from the moment it is
    complete; :meth:`wait_durable` waits for all of them before anything is published.
    """

    moves: list[tuple[Path, Path]] = field(default_factory=list)
    scratch: list[Path] = field(default_factory=list)
    remaining_bytes: int = 0
    syncs: dict[Path, Future[None]] = field(default_factory=dict)
    _syncer: ThreadPoolExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)  # ZIP members: threads

    def stage(self, source: Path, target: Path) -> None:
        """Move ``source`` to ``target`` on publishing; make it durable meanwhile."""
        with self._lock:
            self.moves.append((source, target))
        self.sync_later(source)

    def sync_later(self, path: Path) -> None:
        """Start the ``fsync`` of a complete file (once per file)."""
        with self._lock:
            if path not in self.syncs:
                if self._syncer is None:
                    self._syncer = ThreadPoolExecutor(1, thread_name_prefix="dsagent-fsync")
                self.syncs[path] = self._syncer.submit(_fsync, path)

    def wait_durable(self) -> None:
        with self._lock:
            pending = list(self.syncs.values())
        for synced in pending:
            synced.result()

    def discard(self) -> None:
        if self._syncer is not None:
            self._syncer.shutdown(wait=False, cancel_futures=True)
        for source, _ in self.moves:
            source.unlink(missing_ok=True)
        for path in self.scratch:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


class Ingestor:
    """Validates files into the ready area; one per process and data directory."""

    def __init__(
        self, data: DataDir, limits: Limits, audit: AuditLog, *, sandbox: Sandbox | None = None
    ) -> None:
        self.data = data
        self.limits = limits
        self.audit = audit
        self.catalog = Catalog(data.catalog_db, data.ready, data.thumbnails)
        self.sandbox = sandbox or Sandbox(
            memory_bytes=limits.sandbox_memory_bytes,
            cpu_seconds=limits.sandbox_cpu_seconds,
            wall_seconds=limits.sandbox_wall_seconds,
        )

    def close(self) -> None:
        self.sandbox.close()
        self.catalog.close()

    def sweep(self) -> None:
        """Remove quarantine leftovers and orphans of interrupted uploads.

        Call where no upload can be in flight: the server's start-up.
        """
        leftovers = sweep(self.data.quarantine)
        files, rows = self.catalog.reconcile()
        if leftovers or files or rows:
            log.warning(
                "Start-up clean-up removed %d quarantine leftovers, %d orphaned files "
                "and %d records without a file.",
                leftovers,
                files,
                rows,
            )

    # -- the front doors -------------------------------------------------------------------
    def writer(self) -> QuarantineWriter:
        """A writer for a streamed upload; pass what it returns to :meth:`accept`."""
        return QuarantineWriter(self.data.quarantine, self.limits.max_upload_bytes)

    def ingest(
        self, source: BinaryIO | str | os.PathLike[str], filename: str, *, actor: str
    ) -> UploadRecord:
        """Receive ``source`` (a path or binary stream) into quarantine, then :meth:`accept`."""
        path_or_stream = Path(source) if isinstance(source, (str, os.PathLike)) else source
        try:
            received = receive(path_or_stream, self.data.quarantine, self.limits.max_upload_bytes)
        except IngestError as exc:
            self._audit_refusal(clean_name(filename), exc, actor=actor)
            raise
        return self.accept(received, filename, actor=actor)

    def accept(self, received: Received, filename: str, *, actor: str) -> UploadRecord:
        """Validate a complete file in quarantine; publish it to ready/ or remove it."""
        name = clean_name(filename)
        work = _Work(
            scratch=[received.path],
            remaining_bytes=self.limits.max_zip_uncompressed_bytes,
            syncs={received.path: received.synced},
        )
        try:
            record = self._validate(received, name, depth=0, work=work)
            self._publish(record, work)
        except IngestError as exc:
            self._audit_refusal(name, exc, actor=actor, size=received.size, sha256=received.sha256)
            raise
        finally:
            work.discard()
        self.audit.append(
            "upload.accepted",
            actor=actor,
            subject=record.id,
            details={
                "name": record.name,
                "kind": record.kind,
                "size": record.size,
                "sha256": record.sha256,
                "children": len(record.children),
                "warnings": [w.code for w in record.warnings],
            },
        )
        return record

    def delete(self, upload_id: str, *, actor: str) -> UploadRecord | None:
        """Remove an upload's files and records (an archive with its members); audited."""
        record = self.catalog.delete(upload_id)
        if record is not None:
            self.audit.append(
                "upload.deleted",
                actor=actor,
                subject=upload_id,
                details={"name": record.name, "sha256": record.sha256},
            )
        return record

    # -- validation ------------------------------------------------------------------------
    def _validate(self, staged: _Staged, name: str, *, depth: int, work: _Work) -> UploadRecord:
        path, size = staged.path, staged.size
        if size == 0:
            raise IngestError(f"{name!r} is empty.", code="empty_upload")
        kind = expect_kind(name, sniff(path), self.limits.allowed_extensions)
        upload_id = uuid.uuid4().hex
        validate: Callable[..., tuple[Path, str, Inspection, list[UploadRecord]]]
        validate = {"image": self._image, "zip": self._archive}.get(kind, self._table)
        source, stored_ext, inspection, children = validate(path, kind, upload_id, depth, work)
        stored = f"{upload_id}.{stored_ext}"
        work.stage(source, self.data.ready / stored)
        return UploadRecord(
            id=upload_id,
            name=name,
            kind=kind,
            size=size,
            sha256=staged.sha256,  # read last: the upload's may still be being computed
            created=_now(),
            path=stored,
            metadata=inspection.metadata,
            warnings=[UploadWarning(code=c, message=m) for c, m in inspection.warnings],
            children=[child.model_copy(update={"parent": upload_id}) for child in children],
        )

    def _table(
        self, path: Path, kind: str, upload_id: str, depth: int, work: _Work
    ) -> tuple[Path, str, Inspection, list[UploadRecord]]:
        inspection = self.sandbox.run(_TABLE_TASKS[kind], path, self.limits)
        return path, _STORED_EXTENSION[kind], inspection, []

    def _image(
        self, path: Path, kind: str, upload_id: str, depth: int, work: _Work
    ) -> tuple[Path, str, Inspection, list[UploadRecord]]:
        stem = self.data.quarantine / upload_id
        work.scratch += [
            stem.with_suffix(".jpg"),
            stem.with_suffix(".png"),
            stem.with_name(stem.name + ".thumb.jpg"),
        ]
        result = self.sandbox.run("image", path, stem, self.limits)
        if result.thumbnail is not None:
            work.stage(result.thumbnail, self.data.thumbnails / f"{upload_id}.jpg")
        inspection = Inspection(dict(result.metadata), tuple(result.warnings))
        return result.path, result.path.suffix.lstrip("."), inspection, []

    def _archive(
        self, path: Path, kind: str, upload_id: str, depth: int, work: _Work
    ) -> tuple[Path, str, Inspection, list[UploadRecord]]:
        from .archive import ByteBudget

        if not self.limits.safe_unzip:
            raise TypeNotAllowed("ZIP uploads are turned off here (DSAgent.safe_unzip).")
        if depth > self.limits.max_zip_depth:
            raise ArchiveError(
                f"The upload nests archives {depth + 1} levels deep; the limit is "
                f"{self.limits.max_zip_depth + 1}.",
                code="zip_nested_too_deep",
            )
        extract_dir = self.data.quarantine / f"{upload_id}.d"
        extract_dir.mkdir(mode=0o700)
        work.scratch.append(extract_dir)
        # Per entry, in archive order: a note, or the member's validation (running or done).
        outcomes: list[str | Future[_Checked]] = []
        expanded = 0
        with ThreadPoolExecutor(2, thread_name_prefix="dsagent-member") as checkers:
            try:
                start: int | None = 0
                while start is not None and not _any_failed(outcomes):
                    extraction = self.sandbox.run(
                        "zip",
                        path,
                        extract_dir,
                        self.limits,
                        ByteBudget(work.remaining_bytes),
                        start,
                        _ZIP_BATCH_BYTES,
                    )
                    start = extraction.resume
                    batch = sum(member.size for member in extraction.members)
                    work.remaining_bytes -= batch
                    expanded += batch
                    outcomes += [f"{s.name} ({s.reason})" for s in extraction.skipped]
                    for member in extraction.members:
                        outcomes.append(self._check_member(member, depth, work, checkers))
                children, notes = _in_order(outcomes)
            finally:
                checkers.shutdown(cancel_futures=True)
        warnings: tuple[tuple[str, str], ...] = ()
        if notes:
            shown = "; ".join(notes[:10]) + (
                f"; and {len(notes) - 10} more" if len(notes) > 10 else ""
            )
            warnings = (("members_skipped", f"{len(notes)} entries were skipped: {shown}."),)
        metadata = {
            "members": len(children),
            "skipped": len(notes),
            "uncompressed_bytes": expanded,
        }
        return path, "zip", Inspection(metadata, warnings), children

    def _check_member(
        self, member: ExtractedMember, depth: int, work: _Work, checkers: ThreadPoolExecutor
    ) -> str | Future[_Checked]:
        """A note for a member that is skipped, else its validation, started.

        Members whose extension is not accepted are skipped with a note (archives often
        carry READMEs and scripts). Nested archives are validated here, in order, as
        they share this upload's expansion budget; other members are validated by the
        ``checkers`` threads, each on its own sandbox worker, while extraction goes on.
        """
        ext = extension_of(member.name)
        if ext not in self.limits.allowed_extensions or ext not in EXTENSION_KINDS:
            return f"{member.name} (.{ext or '?'} files are not accepted)"
        work.sync_later(member.path)
        if EXTENSION_KINDS[ext][0] != "zip":
            return checkers.submit(self._member, member, depth, work)
        done: Future[_Checked] = Future()
        try:
            done.set_result(self._member(member, depth, work))
        except IngestError as exc:
            done.set_exception(exc)
        return done

    def _member(self, member: ExtractedMember, depth: int, work: _Work) -> _Checked:
        """A ZIP member goes through the same checks as an upload, one level deeper.

        A member whose content contradicts its name, or any other refusal, refuses the
        whole archive; a ``.txt`` member that is not a table is skipped with a note.
        """
        name = member.name
        try:
            return self._validate(member, name, depth=depth + 1, work=work)
        except TableError as exc:
            if extension_of(name) == "txt" and exc.code == "csv_invalid":
                return f"{name} (text, not a table)"
            raise _in_member(exc, name) from None
        except IngestError as exc:
            raise _in_member(exc, name) from None

    # -- publishing ------------------------------------------------------------------------
    def _publish(self, record: UploadRecord, work: _Work) -> None:
        """Rename every staged file into place, then insert the rows (see store.py).

        Only durable files are renamed, and the renames are made durable (the
        directories synced) before the rows are written.
        """
        work.wait_durable()
        done: list[Path] = []
        try:
            for source, target in work.moves:
                os.replace(source, target)
                done.append(target)
            for directory in {target.parent for target in done}:
                _fsync(directory, os.O_DIRECTORY)
            self.catalog.add(record)
        except BaseException:
            for target in done:
                target.unlink(missing_ok=True)
            raise
        work.moves.clear()

    def _audit_refusal(
        self,
        name: str,
        exc: IngestError,
        *,
        actor: str,
        size: int | None = None,
        sha256: str | None = None,
    ) -> None:
        details: dict[str, Any] = {"name": name, "code": exc.code, "reason": exc.message}
        if size is not None:
            details.update(size=size, sha256=sha256)
        self.audit.append(
            "upload.rejected", actor=actor, subject=name, outcome="denied", details=details
        )
        log.info("Refused upload %r: %s (%s)", name, exc.message, exc.code)


#: What validating a ZIP member gives: its record, or a note saying why it was skipped.
_Checked = UploadRecord | str


def _any_failed(outcomes: list[str | Future[_Checked]]) -> bool:
    """Whether a member's validation already failed (then extraction stops early)."""
    return any(
        isinstance(outcome, Future) and outcome.done() and outcome.exception() is not None
        for outcome in outcomes
    )


def _in_order(outcomes: list[str | Future[_Checked]]) -> tuple[list[UploadRecord], list[str]]:
    """Children and notes in archive order; the first failure in that order is raised."""
    children: list[UploadRecord] = []
    notes: list[str] = []
    for outcome in outcomes:
        checked = outcome.result() if isinstance(outcome, Future) else outcome
        if isinstance(checked, str):
            notes.append(checked)
        else:
            children.append(checked)
    return children, notes


def _fsync(path: Path, kind: int = os.O_NOFOLLOW) -> None:
    """Make a file's bytes durable, or (``kind=os.O_DIRECTORY``) the renames into it."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | kind)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _in_member(exc: IngestError, name: str) -> IngestError:
    """The same error, saying which member of the archive caused it."""
    return type(exc)(f"In the archive, {name}: {exc.message}", code=exc.code)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
