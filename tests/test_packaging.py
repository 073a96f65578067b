"""The installed package registers itself with Jupyter Server and IPython."""

from __future__ import annotations

import os
import re
import subprocess

from .paths import VENV_BIN


def test_server_extension_is_listed_enabled_and_ok() -> None:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_DIR"}
    done = subprocess.run(
        [str(VENV_BIN / "jupyter"), "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "NO_COLOR": "1"},
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    lines = [line.strip() for line in output.splitlines() if "jupyter_dsagent" in line]
    assert any(line.startswith("jupyter_dsagent") and "enabled" in line for line in lines), output
    assert any(line.startswith("jupyter_dsagent ") and line.endswith("OK") for line in lines), (
        output
    )


def test_entry_points() -> None:
    import jupyter_dsagent

    [point] = jupyter_dsagent._jupyter_server_extension_points()
    assert point["module"] == "jupyter_dsagent"
    assert point["app"].name == "jupyter_dsagent"
    assert jupyter_dsagent._jupyter_labextension_paths() == [
        {"src": "labextension", "dest": "jupyter-dsagent"}
    ]
    assert callable(jupyter_dsagent.load_ipython_extension)
