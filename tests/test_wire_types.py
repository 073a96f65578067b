"""The sidebar's TypeScript wire types are generated from models.py and kept current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jupyter_dsagent import models
from jupyter_dsagent.wire_types import DEFAULT_OUTPUT, main, render

from .paths import REPO

WIRE_TS = REPO / DEFAULT_OUTPUT


def test_committed_wire_ts_matches_the_models() -> None:
    assert WIRE_TS.read_text(encoding="utf-8") == render(), (
        "labextension/src/wire.ts is stale: run `python -m jupyter_dsagent.wire_types`"
    )


def test_every_message_type_of_both_directions_is_declared() -> None:
    text = render()
    for union in ("BrowserMessage", "KernelMessage"):
        declared = re.search(rf"^export type {union} = (.*);$", text, flags=re.M)
        assert declared is not None
        members = set(declared.group(1).split(" | "))
        adapter_members = {model.__name__ for model in getattr(models, union).__origin__.__args__}
        assert members == adapter_members
        for member in members:
            assert re.search(rf"^export interface {member} \{{$", text, flags=re.M)


def test_defaults_are_optional_and_nullable_fields_admit_null() -> None:
    text = render()
    done = text.split("export interface DoneMessage {", 1)[1].split("}", 1)[0]
    assert "  id: string;" in done
    assert "  usage?: Usage;" in done
    assert "  model?: string | null;" in done
    assert 'export type UploadKind = "csv" | ' in text


def test_check_mode_reports_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    target = tmp_path / "wire.ts"
    target.write_text("// an older contract\n", encoding="utf-8")
    assert main([str(target), "--check"]) == 1
    assert main([str(target)]) == 0
    assert main([str(target), "--check"]) == 0
    assert target.read_text(encoding="utf-8") == render()


def test_an_unknown_schema_construct_is_refused_not_guessed() -> None:
    from jupyter_dsagent.wire_types import _ts_type

    for node in (
        {"allOf": [{"$ref": "#/$defs/Usage"}]},
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
        {"not": {"type": "string"}},
    ):
        with pytest.raises(ValueError, match="cannot translate"):
            _ts_type(node)
