"""Profile a DataFrame: ``profile(df) -> Profile`` with ``to_dict``, ``summary`` and HTML.

Pure library code: pandas, numpy and threadpoolctl (litellm is reached lazily through
``jupyter_dsagent.llm`` when a summary is counted in tokens).
"""

from __future__ import annotations

from jupyter_dsagent.profiling.core import clear_cache, profile
from jupyter_dsagent.profiling.model import (
    SCHEMA_VERSION,
    SEMANTIC_TYPES,
    WARNING_CODES,
    ColumnProfile,
    Histogram,
    NumericStats,
    Profile,
    ProfileWarning,
    TargetHint,
)

__all__ = [
    "SCHEMA_VERSION",
    "SEMANTIC_TYPES",
    "WARNING_CODES",
    "ColumnProfile",
    "Histogram",
    "NumericStats",
    "Profile",
    "ProfileWarning",
    "TargetHint",
    "clear_cache",
    "profile",
]
