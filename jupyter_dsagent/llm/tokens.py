"""Count tokens the way the model will, with litellm's tokenizer for that model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .seam import litellm

__all__ = ["count_prompt_tokens", "count_tokens"]


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    """Number of tokens ``text`` takes for ``model``, counted by litellm.

    Parameters
    ----------
    text : str
        Plain text, as it will be sent.
    model : str
        A model name litellm knows; its tokenizer is used (litellm falls back to a
        generic tokenizer for names it does not know).

    Returns
    -------
    int
        The token count; 0 for the empty string.
    """
    if not text:
        return 0
    return int(litellm().token_counter(model=model, text=text))


def count_prompt_tokens(
    messages: Sequence[dict[str, Any]],
    model: str,
    tools: Sequence[dict[str, Any]] | None = None,
) -> int:
    """Tokens a chat request sends: its messages with the per-message overhead, and its
    tool definitions, as litellm counts them for ``model``.

    Parameters
    ----------
    messages : sequence of dict
        OpenAI-format chat messages.
    model : str
        The model that will receive them (selects the tokenizer).
    tools : sequence of dict, optional
        OpenAI-format tool definitions sent with the messages.

    Returns
    -------
    int
        The count litellm's ``token_counter`` gives.
    """
    return int(
        litellm().token_counter(
            model=model, messages=list(messages), tools=list(tools or []) or None
        )
    )
