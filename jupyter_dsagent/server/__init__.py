"""Jupyter server extension: thin tornado adapters over the library."""

from .app import DSAgentExtension

__all__ = ["DSAgentExtension"]
