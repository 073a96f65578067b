"""Which models exist here and which a request may name: the allow- and deny-lists.

The configured model, its fallbacks and the extra allowed models form the catalog.
Requests name a model exactly as configured (``openai/gpt-4o-mini``) or name none and
get the configured model; the deny-list (names or shell patterns) wins over
everything. Each model falls back along the configured chain.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..config import DSAgent
from ..exceptions import ModelNotAllowed, ModelNotConfigured

__all__ = ["NOT_CONFIGURED_MESSAGE", "ModelCatalog"]

NOT_CONFIGURED_MESSAGE = (
    "No model is configured on this server: set DSAGENT_MODEL to a litellm model name "
    "(for example openai/gpt-4o-mini, with OPENAI_API_KEY in the server's environment) "
    "and restart the server. Until then the agent uses its offline planner."
)


@dataclass(frozen=True)
class ModelCatalog:
    """The models of one configuration; build it with :meth:`from_settings`."""

    primary: str = ""
    fallbacks: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    api_bases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: DSAgent) -> ModelCatalog:
        bases = dict(entry.split("=", 1) for entry in settings.model_api_bases)
        if settings.model and settings.api_base:
            bases[settings.model] = settings.api_base
        chain = [settings.model, *settings.fallback_models] if settings.model else []
        return cls(
            primary=settings.model,
            fallbacks=tuple(settings.fallback_models),
            extra=tuple(m for m in dict.fromkeys(settings.allowed_models) if m not in chain),
            denied=tuple(settings.denied_models),
            api_bases=bases,
        )

    @property
    def configured(self) -> bool:
        return bool(self.primary)

    def is_denied(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.denied)

    def names(self) -> list[str]:
        """Every model a request may name, the configured one first, then its fallbacks."""
        if not self.configured:
            return []
        return [self.primary, *self.fallbacks, *(m for m in self.extra if not self.is_denied(m))]

    def resolve(self, requested: str | None) -> str:
        """The model to call for a request's ``model`` field (None or "" for the default)."""
        if not self.configured:
            raise ModelNotConfigured(NOT_CONFIGURED_MESSAGE)
        if not requested:
            return self.primary
        if requested in self.names():
            return requested
        shown = requested if len(requested) <= 80 else requested[:80] + "…"
        why = (
            "is on this server's deny-list" if self.is_denied(requested) else "is not allowed here"
        )
        raise ModelNotAllowed(
            f"The model {shown!r} {why}; ask for one of: {', '.join(self.names())} "
            "(GET /dsagent/api/llm/v1/models lists them)."
        )

    def fallbacks_of(self, name: str) -> list[str]:
        """The models tried, in order, after ``name`` fails: the configured chain without it."""
        return [m for m in (self.primary, *self.fallbacks) if m != name]

    def label(self, name: str | None) -> str:
        """``name`` when it is one of ours, else "other": a metrics label clients cannot grow."""
        return name if name and name in self.names() else "other"

    def with_names(self, names: Iterable[str]) -> list[str]:
        """``names`` restricted to the catalog, in catalog order."""
        wanted = set(names)
        return [name for name in self.names() if name in wanted]
