"""Count tokens the way the model will, with litellm's tokenizer for that model."""

from __future__ import annotations

import functools
import os
from typing import Any

__all__ = ["count_tokens"]


@functools.cache
def _litellm() -> Any:
    # Without this, importing litellm fetches its model cost map over the network.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm


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
    return int(_litellm().token_counter(model=model, text=text))
