"""What a validator returns: facts for the record and warnings for the person.

Validators run in the sandboxed worker, so this must stay plain, picklable data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Inspection"]


@dataclass(frozen=True)
class Inspection:
    """``metadata`` goes into the upload record; ``warnings`` are ``(code, message)`` pairs."""

    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[tuple[str, str], ...] = ()
