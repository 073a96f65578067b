"""The ingestion limits as a plain, picklable snapshot of the settings.

The sandboxed worker process cannot receive a traitlets object, and validators
should not care where limits come from; they take a :class:`Limits`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import DSAgent

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Every number and flag a validator needs; build with :meth:`from_settings`."""

    max_upload_bytes: int
    allowed_extensions: tuple[str, ...]
    max_zip_entries: int
    max_zip_uncompressed_bytes: int
    max_zip_ratio: float
    max_zip_depth: int
    max_image_pixels: int
    max_image_frames: int
    thumbnail_pixels: int
    max_csv_rows: int
    max_csv_columns: int
    max_csv_cells: int
    max_csv_field_bytes: int
    sandbox_memory_bytes: int
    sandbox_cpu_seconds: int
    sandbox_wall_seconds: int
    safe_unzip: bool
    strip_exif: bool
    thumbnails: bool

    @classmethod
    def from_settings(cls, settings: DSAgent) -> Limits:
        values: dict[str, Any] = {
            f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)
        }
        values["allowed_extensions"] = tuple(settings.allowed_extensions)
        return cls(**values)

    @classmethod
    def default(cls, **changes: Any) -> Limits:
        """The documented defaults, with ``changes`` applied (for tests and scripts)."""
        return dataclasses.replace(cls.from_settings(DSAgent(environ={})), **changes)
