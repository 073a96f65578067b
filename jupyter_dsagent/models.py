"""The wire contract: upload records, warnings and error bodies, defined once.

HTTP handlers serialise these; the sidebar's TypeScript types are generated from
their JSON Schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ErrorBody", "ErrorDetail", "UploadKind", "UploadRecord", "UploadWarning"]

UploadKind = Literal["csv", "tsv", "txt", "json", "parquet", "xlsx", "zip", "image"]


class UploadWarning(BaseModel):
    """Something a person should know about an accepted file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(description="Stable snake_case code, e.g. formula_cells, gps_removed.")
    message: str = Field(description="One sentence for a person.")


class UploadRecord(BaseModel):
    """A validated file in ready/ (or, with children, an archive and its members)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Random id; also the stored file's name.")
    name: str = Field(description="The client's file name, sanitised; display only.")
    kind: UploadKind
    size: int = Field(ge=0, description="Bytes received.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    status: Literal["ready"] = "ready"
    created: str = Field(description="UTC time, ISO 8601.")
    path: str = Field(description="File name inside ready/.")
    parent: str | None = Field(default=None, description="Id of the archive it came from.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    warnings: list[UploadWarning] = Field(default_factory=list)
    children: list[UploadRecord] = Field(default_factory=list)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx response: ``{"error": {"code", "message"}}``."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail
