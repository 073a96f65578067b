"""What one agent turn produces: text, suggested cells, the trace and the usage.

Plain dataclasses, so the kernel's magics, widgets and comm can render them without
knowing how the answer was reached (a model or the offline planner).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Answer", "Suggestion", "ToolTrace", "TurnUsage"]


@dataclass(frozen=True)
class Suggestion:
    """A code cell the agent proposes; a person decides whether to insert and run it."""

    id: str
    code: str
    explanation: str
    sha256: str
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": list(self.flags)}


@dataclass(frozen=True)
class ToolTrace:
    """One tool call: what was asked, how long it took, how much came back."""

    tool: str
    arguments: dict[str, Any]
    duration_ms: float
    result_chars: int
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TurnUsage:
    """Tokens and cost of one turn, summed over its model calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def add(self, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_usd += cost_usd
        self.calls += 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The result of ``Agent.ask``: markdown text plus everything needed to show it."""

    text: str
    suggestions: list[Suggestion] = field(default_factory=list)
    trace: list[ToolTrace] = field(default_factory=list)
    usage: TurnUsage = field(default_factory=TurnUsage)
    model: str | None = None
    offline: bool = False
    next_steps: list[str] = field(default_factory=list)
    notice: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "trace": [t.to_dict() for t in self.trace],
            "usage": self.usage.to_dict(),
            "model": self.model,
            "offline": self.offline,
            "next_steps": list(self.next_steps),
            "notice": self.notice,
        }

    def _repr_markdown_(self) -> str:
        parts = [self.text]
        for suggestion in self.suggestions:
            parts.append(f"{suggestion.explanation}\n\n```python\n{suggestion.code}\n```")
        return "\n\n".join(part for part in parts if part)
