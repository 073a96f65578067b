"""The only importer of litellm: token counting now, the Router and budgets later.

litellm is imported lazily inside the functions that need it, so importing this
package stays cheap.
"""

from __future__ import annotations

from jupyter_dsagent.llm.tokens import count_tokens

__all__ = ["count_tokens"]
