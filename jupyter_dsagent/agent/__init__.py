"""The agent: a tool-using conversation over the person's workspace, or the offline planner.

No IPython or tornado here; ``kernel/`` adapts it to magics, widgets and the sidebar.
"""

from __future__ import annotations

from .client import GatewayClient, ModelClient, ModelError, ModelReply
from .loop import Agent
from .types import Answer, Suggestion, ToolTrace, TurnUsage
from .workspace import Workspace

__all__ = [
    "Agent",
    "Answer",
    "GatewayClient",
    "ModelClient",
    "ModelError",
    "ModelReply",
    "Suggestion",
    "ToolTrace",
    "TurnUsage",
    "Workspace",
]
