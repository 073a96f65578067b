"""Suggested cells are parsed (never run), hashed, and flagged for what deserves a look."""

from __future__ import annotations

import hashlib

import pytest

from jupyter_dsagent.agent.suggest import code_flags, make_suggestion
from jupyter_dsagent.exceptions import BadRequest


@pytest.mark.parametrize(
    ("code", "flags"),
    [
        ("df.describe()", set()),
        ("%pip install lightgbm", {"pip"}),
        ("!pip install x", {"pip"}),
        ("!rm -rf data", {"shell"}),
        ("%%bash\nls", {"shell"}),
        ("import subprocess\nsubprocess.run(['ls'])", {"shell"}),
        ("import os\nos.system('ls')", {"shell"}),
        ("import requests\nrequests.get('https://x.org')", {"network"}),
        ("pd.read_csv('https://x.org/a.csv')", {"network"}),
        ("df.to_csv('out.csv')", {"file_write"}),
        ("open('a.txt', 'w').write('x')", {"file_write"}),
        ("open('a.txt').read()", set()),
        ("%%writefile x.py\nprint(1)", {"file_write"}),
    ],
)
def test_flags(code: str, flags: set[str]) -> None:
    assert code_flags(code) == flags


def test_a_suggestion_is_hashed_and_checked() -> None:
    suggestion = make_suggestion("\ndf.head()\n", " Look at the first rows. ")
    assert suggestion.code == "df.head()"
    assert suggestion.sha256 == hashlib.sha256(b"df.head()").hexdigest()
    assert suggestion.explanation == "Look at the first rows."


@pytest.mark.parametrize("code", ["", "   \n", "df.head(", "x" * 20_001])
def test_bad_code_is_refused_with_a_reason(code: str) -> None:
    with pytest.raises(BadRequest):
        make_suggestion(code, "x")
