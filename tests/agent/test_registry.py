"""Tool schemas come from signatures and numpydoc; calls are checked before they run."""

from __future__ import annotations

import pytest

from jupyter_dsagent.agent.registry import ToolError, ToolRegistry
from jupyter_dsagent.agent.tools import default_registry


def test_every_tool_has_a_description_and_documented_parameters() -> None:
    for spec in default_registry().specs():
        function = spec["function"]
        assert function["description"], function["name"]
        for name, schema in function["parameters"]["properties"].items():
            assert schema.get("description"), f"{function['name']}.{name}"
        assert function["parameters"]["additionalProperties"] is False


def test_the_context_parameter_is_hidden_and_optional_ones_are_not_required() -> None:
    spec = {s["function"]["name"]: s["function"] for s in default_registry().specs()}
    profile = spec["profile_dataframe"]["parameters"]
    assert list(profile["properties"]) == ["name", "target"]
    assert profile["required"] == ["name"]
    assert profile["properties"]["target"]["type"] == ["string", "null"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1]", "must be a JSON object"),
        ('{"time_limit": "60", "name": "df", "target": "y"}', "must be a integer"),
        ('{"name": "df", "target": "y", "time_limit": true}', "must be a integer"),
        ('{"name": "df"}', "Missing argument(s): target"),
    ],
)
def test_arguments_are_checked(raw: str, message: str) -> None:
    with pytest.raises(ToolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        default_registry().parse_arguments("start_automl", raw)


def test_types_other_than_json_scalars_are_refused_at_registration() -> None:
    def bad(context: object, rows: list[int]) -> str:
        """Bad."""
        return ""

    with pytest.raises(TypeError):
        ToolRegistry().register(bad)
