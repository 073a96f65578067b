"""The configuration reference in Markdown, generated from the traits themselves.

README.md embeds this text between markers; a test fails when it is stale, so the
documentation cannot drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

from traitlets import Bool, Float, Int, List, TraitType

from .config import DSAgent

__all__ = ["BEGIN_MARKER", "END_MARKER", "config_reference_markdown", "embed_in"]

BEGIN_MARKER = "<!-- BEGIN config-reference (generated: jupyter dsagent config --reference) -->"
END_MARKER = "<!-- END config-reference -->"


def _type_name(trait: TraitType) -> str:
    if isinstance(trait, Bool):
        return "bool"
    if isinstance(trait, Int):
        return "int"
    if isinstance(trait, Float):
        return "float"
    if isinstance(trait, List):
        return "list of str"
    return "str"


def _allowed(trait: TraitType) -> str:
    meta = trait.metadata
    if "min" in meta:
        unit = f" {meta['unit']}" if meta.get("unit") else ""
        return f"{meta['min']:,} to {meta['max']:,}{unit}"
    if "choices" in meta:
        return ", ".join(f"`{c}`" for c in meta["choices"])
    if "pattern" in meta:
        return meta["pattern"][1]
    return ""


def _default(name: str, trait: TraitType) -> str:
    if name == "data_dir":
        return "`<jupyter data dir>/dsagent`"
    value: Any = trait.default()
    return f"`{json.dumps(value)}`"


def config_reference_markdown() -> str:
    """Markdown tables of every setting, grouped as declared."""
    traits = DSAgent.class_traits()
    lines: list[str] = []
    group = None
    for name in DSAgent.setting_names():
        trait = traits[name]
        if trait.metadata.get("group") != group:
            group = trait.metadata.get("group")
            lines += [
                "",
                f"#### {group}",
                "",
                "| setting | environment | type | default | allowed | what it does |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        help_text = " ".join(trait.help.split()).replace("|", "\\|")
        lines.append(
            f"| `c.DSAgent.{name}` | `{DSAgent.env_var(name)}` | {_type_name(trait)} | "
            f"{_default(name, trait)} | {_allowed(trait)} | {help_text} |"
        )
    return "\n".join(lines).lstrip("\n") + "\n"


def embed_in(text: str) -> str:
    """Return ``text`` with the block between the markers replaced by the reference."""
    start = text.index(BEGIN_MARKER) + len(BEGIN_MARKER)
    end = text.index(END_MARKER)
    return text[:start] + "\n" + config_reference_markdown() + text[end:]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(embed_in(path.read_text(encoding="utf-8")), encoding="utf-8")
