"""Provider API keys: read once from the environment, held in memory, never shown.

The server takes the keys out of its own environment at start (see
:mod:`jupyter_dsagent.llm.kernel_env`), so the kernels and terminals it starts do not
inherit them; the gateway hands each key to litellm per deployment instead. A
:class:`KeyRing` never prints a key (its ``repr`` names the variables only), and
registers each key with :func:`~jupyter_dsagent.redaction.register_secret`, so a log
line, audit record or error message that would contain one is masked, whatever the
key looks like.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from ..redaction import register_secret

__all__ = ["GENERIC_KEY_VARIABLE", "KEY_VARIABLES", "PROVIDER_KEY_VARIABLES", "KeyRing"]

#: The key of the configured model (``DSAGENT_MODEL`` at ``DSAGENT_API_BASE``); it wins
#: over the provider's variable for that model only.
GENERIC_KEY_VARIABLE = "DSAGENT_API_KEY"

#: litellm provider -> the environment variables its key is usually found in, first wins.
PROVIDER_KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "text-completion-openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "azure": ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "cohere_chat": ("COHERE_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "xai": ("XAI_API_KEY",),
    "fireworks_ai": ("FIREWORKS_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY",),
    "huggingface": ("HUGGINGFACE_API_KEY",),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
}

#: Every variable the server holds and keeps from kernels.
KEY_VARIABLES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [GENERIC_KEY_VARIABLE, *(v for names in PROVIDER_KEY_VARIABLES.values() for v in names)]
    )
)


class KeyRing:
    """The provider keys found in an environment, by variable name."""

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        self._keys = {name: value for name, value in (keys or {}).items() if value}
        for value in self._keys.values():
            register_secret(value)

    @classmethod
    def take(cls, environ: MutableMapping[str, str], *, remove: bool) -> KeyRing:
        """Read every known key variable from ``environ``; with ``remove``, delete them there."""
        found = {name: environ[name] for name in KEY_VARIABLES if environ.get(name)}
        if remove:
            for name in KEY_VARIABLES:
                environ.pop(name, None)
        return cls(found)

    def names(self) -> list[str]:
        """The variables a key was found in (never the keys)."""
        return sorted(self._keys)

    def for_provider(self, provider: str, *, primary: bool) -> str | None:
        """The key for a deployment of ``provider``; ``DSAGENT_API_KEY`` first for the primary."""
        if primary and GENERIC_KEY_VARIABLE in self._keys:
            return self._keys[GENERIC_KEY_VARIABLE]
        for name in PROVIDER_KEY_VARIABLES.get(provider, ()):
            if name in self._keys:
                return self._keys[name]
        return None

    def __repr__(self) -> str:
        return f"KeyRing({', '.join(self.names()) or 'empty'})"
