"""%dsagent in plain IPython (a terminal, no notebook): every command answers in text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import SHARED_DATA

pytestmark = pytest.mark.slow

SESSION = f"""
%load_ext jupyter_dsagent
import pandas as pd
df = pd.read_csv({str(SHARED_DATA / "seaborn" / "titanic.csv")!r}).drop(columns=["alive"])
%dsagent profile df --target survived
%dsagent ask "which columns have missing values?"
%dsagent chat
%dsagent automl df --target survived --time 10 --engine sklearn
print("STATUS", run.wait(60) is not None and run.status)
%dsagent runs
%dsagent usage
%dsagent profil df
"""


def test_every_command_answers_in_text(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSAGENT_")}
    env["DSAGENT_DATA_DIR"] = str(tmp_path / "dsagent")
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "--simple-prompt"],
        input=SESSION,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
        check=False,
    )
    shown = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in shown and "Traceback" not in done.stderr, shown[-3000:]
    # the profile is the text report, not a dataclass dump
    assert "Profile of 891 rows x 14 columns (every row)" in shown
    assert "ColumnProfile(" not in shown
    assert "Target 'survived': binary" in shown
    # the offline planner answers and offers its cell as text
    assert "Offline planner" in shown and "df.isna().sum()" in shown
    assert "The chat widget needs a notebook" in shown
    assert "STATUS done" in shown
    assert "No model is configured" in shown
    assert "Unknown %dsagent command 'profil'. Did you mean 'profile'?" in done.stderr
