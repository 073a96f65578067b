"""The wire contract: upload records, error bodies and sidebar messages, defined once.

HTTP handlers and the kernel's comm serialise these; the sidebar's TypeScript types are
generated from their JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PROTOCOL_VERSION",
    "AskRequest",
    "BrowserMessage",
    "CancelRequest",
    "CancelRunRequest",
    "DeltaMessage",
    "DoneMessage",
    "ErrorBody",
    "ErrorDetail",
    "ErrorMessage",
    "HelloReply",
    "HelloRequest",
    "InsertMessage",
    "InsertedNotice",
    "KernelMessage",
    "ProgressMessage",
    "RunsReply",
    "RunsRequest",
    "SuggestionMessage",
    "TraceStep",
    "UploadKind",
    "UploadRecord",
    "UploadWarning",
    "Usage",
]

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


# -- sidebar protocol (comm target "jupyter_dsagent") ---------------------------------

PROTOCOL_VERSION = 1


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Usage(_Message):
    """Tokens and cost of one answer."""

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0)


class TraceStep(_Message):
    """One tool call of an answer, for the "how was this answered" view."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    duration_ms: float = Field(ge=0)
    result_chars: int = Field(ge=0)
    error: str | None = None


# Browser -> kernel


class HelloRequest(_Message):
    """Sent when the panel attaches to a kernel; answered by ``hello``."""

    type: Literal["hello"]


class AskRequest(_Message):
    type: Literal["ask"]
    id: str = Field(description="Chosen by the browser; every reply to this question carries it.")
    text: str


class CancelRequest(_Message):
    """Stop the answer ``id``."""

    type: Literal["cancel"]
    id: str


class InsertedNotice(_Message):
    """The person inserted (and maybe ran) a suggestion; the kernel audits it."""

    type: Literal["inserted"]
    suggestion_id: str
    sha256: str = Field(description="SHA-256 of the exact code inserted.")
    run: bool = False


class RunsRequest(_Message):
    """Ask for this kernel's AutoML runs; answered by ``runs``."""

    type: Literal["runs"]


class CancelRunRequest(_Message):
    type: Literal["cancel_run"]
    run: str


# Kernel -> browser


class HelloReply(_Message):
    type: Literal["hello"]
    version: int = PROTOCOL_VERSION
    kernel_ready: bool = True
    model: str | None = Field(description="Model the agent uses; null when offline.")
    offline: bool


class DeltaMessage(_Message):
    type: Literal["delta"]
    id: str
    text: str = Field(description="Next piece of the answer's markdown.")


class SuggestionMessage(_Message):
    type: Literal["suggestion"]
    id: str
    suggestion_id: str
    code: str
    explanation: str
    sha256: str = Field(description="SHA-256 of ``code``; echoed back by ``inserted``.")
    flags: list[str] = Field(
        default_factory=list,
        description="What the code does that deserves a look: network, pip, shell, file_write.",
    )


class DoneMessage(_Message):
    type: Literal["done"]
    id: str
    usage: Usage = Field(default_factory=Usage)
    model: str | None = None
    offline: bool = False
    trace: list[TraceStep] = Field(default_factory=list)


class ErrorMessage(_Message):
    type: Literal["error"]
    id: str | None = None
    code: str
    message: str


class ProgressMessage(_Message):
    """An AutoML run's state, sent while it runs and once when it ends."""

    type: Literal["progress"]
    run: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    elapsed: float = Field(ge=0)
    budget: float = Field(ge=0)
    models_done: int = Field(default=0, ge=0)
    best_score: float | None = None
    metric: str | None = None
    target: str | None = None
    message: str | None = Field(default=None, description="Result summary or error.")


class InsertMessage(_Message):
    """The person pressed Insert on a suggestion shown in the notebook (not the sidebar):
    the sidebar inserts ``code`` below the active cell, and runs it when ``run``."""

    type: Literal["insert"]
    suggestion_id: str
    code: str
    sha256: str
    run: bool = False


class RunsReply(_Message):
    type: Literal["runs"]
    runs: list[ProgressMessage]


BrowserMessage = Annotated[
    HelloRequest | AskRequest | CancelRequest | InsertedNotice | RunsRequest | CancelRunRequest,
    Field(discriminator="type"),
]
KernelMessage = Annotated[
    HelloReply
    | DeltaMessage
    | SuggestionMessage
    | DoneMessage
    | ErrorMessage
    | ProgressMessage
    | InsertMessage
    | RunsReply,
    Field(discriminator="type"),
]
