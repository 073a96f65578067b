"""README.md keeps its promises: the two commands, a current reference, CI that runs them."""

from __future__ import annotations

import re

from jupyter_dsagent.reference import embed_in

from .paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def code_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)]


def test_configuration_reference_is_current() -> None:
    assert embed_in(README) == README, "the reference is stale: run `make docs`"


def test_quickstart_gives_the_two_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert code_blocks(quickstart) == ["make lab", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    assert re.search(r"^make test$", ci, flags=re.M)


def test_makefile_targets_exist() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in ("lab", "test", "install", "docs"):
        assert re.search(rf"^{target}:", makefile, flags=re.M)


def test_every_upload_error_code_is_documented() -> None:
    from jupyter_dsagent.exceptions import ERROR_STATUS

    table = README.split("## Loading data safely", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| (\d{3}) \|", table, flags=re.M))
    upload_codes = {
        "too_large",
        "type_not_allowed",
        "content_mismatch",
        "empty_upload",
        "resource_limit",
        "not_found",
        *(code for code in ERROR_STATUS if code.startswith(("zip_", "image_", "csv_", "table_"))),
    }
    assert set(documented) == upload_codes
    assert all(ERROR_STATUS[code] == int(status) for code, status in documented.items())
