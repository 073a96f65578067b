"""Plain typed Python functions become JSON-schema tools the model may call.

The schema comes from the signature and the numpydoc docstring, so a tool's
description is written once, where the function is. Calls are checked against the
schema before the function runs; anything wrong goes back to the model as a short
error result instead of raising.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Tool", "ToolError", "ToolRegistry"]

_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ToolError(Exception):
    """A tool refusing a call for a reason the model should read and act on."""


@dataclass(frozen=True)
class Tool:
    """A function with its schema; ``context`` is passed first and hidden from the model."""

    name: str
    function: Callable[..., Any]
    schema: dict[str, Any]
    side_effect: str | None = None

    def spec(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry."""
        return {"type": "function", "function": self.schema}


class ToolRegistry:
    """A fixed allow-list of tools."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, function: Callable[..., Any], *, side_effect: str | None = None) -> None:
        """Add ``function(context, ...)``; ``side_effect`` names the action it performs."""
        schema = _schema_for(function)
        self._tools[schema["name"]] = Tool(schema["name"], function, schema, side_effect)

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self._tools.values()]

    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def parse_arguments(self, name: str, raw: str) -> dict[str, Any]:
        """Decode and check ``raw`` JSON arguments for tool ``name``.

        Raises
        ------
        ToolError
            Unknown tool, arguments that are not a JSON object, unknown or missing
            parameters, or values of the wrong type.
        """
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(f"There is no tool named {name!r}. Tools: {', '.join(self._tools)}.")
        try:
            arguments = json.loads(raw) if raw and raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise ToolError(f"The arguments are not valid JSON ({exc.msg}).") from None
        if not isinstance(arguments, dict):
            raise ToolError("The arguments must be a JSON object.")
        parameters = tool.schema["parameters"]
        properties = parameters["properties"]
        unknown = sorted(set(arguments) - set(properties))
        if unknown:
            raise ToolError(
                f"Unknown argument(s) {', '.join(unknown)}; "
                f"{name} takes {', '.join(properties) or 'none'}."
            )
        missing = [p for p in parameters["required"] if p not in arguments]
        if missing:
            raise ToolError(f"Missing argument(s): {', '.join(missing)}.")
        for key, value in arguments.items():
            if not _matches(value, properties[key]):
                raise ToolError(
                    f"Argument {key!r} must be {_describe(properties[key])}, "
                    f"not {type(value).__name__}."
                )
        return arguments


def _schema_for(function: Callable[..., Any]) -> dict[str, Any]:
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function)
    summary, descriptions = _parse_docstring(inspect.getdoc(function) or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for index, (name, parameter) in enumerate(signature.parameters.items()):
        if index == 0:  # the hidden context
            continue
        schema = _json_type(hints.get(name, str))
        if name in descriptions:
            schema["description"] = descriptions[name]
        properties[name] = schema
        if parameter.default is inspect.Parameter.empty:
            required.append(name)
    return {
        "name": function.__name__,
        "description": summary,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


def _json_type(hint: Any) -> dict[str, Any]:
    if hint in _JSON_TYPES:
        return {"type": _JSON_TYPES[hint]}
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) == 1 and options[0] in _JSON_TYPES:
            return {"type": [_JSON_TYPES[options[0]], "null"]}
    raise TypeError(
        f"Tool parameters must be str, int, float or bool (optionally None), not {hint!r}."
    )


def _matches(value: Any, schema: dict[str, Any]) -> bool:
    allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    for kind in allowed:
        if kind == "null" and value is None:
            return True
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
    return False


def _describe(schema: dict[str, Any]) -> str:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return " or ".join("null" if k == "null" else f"a {k}" for k in kinds)


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph, and parameter descriptions from a numpydoc Parameters section."""
    paragraphs = doc.split("\n\n")
    summary = " ".join(paragraphs[0].split()) if paragraphs else ""
    descriptions: dict[str, str] = {}
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    if match:
        current = None
        for line in match.group(1).splitlines():
            if line and not line.startswith(" "):
                current = line.split(":")[0].strip()
                descriptions[current] = ""
            elif current and line.strip():
                descriptions[current] = (descriptions[current] + " " + line.strip()).strip()
    return summary, descriptions
