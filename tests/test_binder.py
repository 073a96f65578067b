"""The Binder set-up: what mybinder.org builds, and the link that opens the quickstart.

mybinder.org (repo2docker) installs ``binder/environment.yml`` and then runs
``binder/postBuild``. These tests check that the environment asks for exactly the
dependencies of ``pyproject.toml`` (same names, extras, versions and markers, so a
resolver given either gets the same set), that postBuild is a strict executable script,
and, slowly, that it really runs: in a copy of this working tree, with a fresh virtual
environment layered on the development one (so no dependency is downloaded again,
while the package itself, its build dependencies and the sidebar are built and
installed from scratch), after which a server started from that environment serves
jupyter_dsagent's API. What they cannot check here is repo2docker itself and conda.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.server.live import free_port

from .paths import REPO

BINDER = REPO / "binder"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
ENVIRONMENT = yaml.safe_load((BINDER / "environment.yml").read_text(encoding="utf-8"))
# JupyterLab 4.6's extension builder needs this Node.js (see the Makefile's NODE_OK).
NODE_FLOOR = "20.19"


def _normalised(requirement: str) -> tuple[str, frozenset[str], SpecifierSet, str]:
    parsed = Requirement(requirement)
    return (
        canonicalize_name(parsed.name),
        frozenset(parsed.extras),
        parsed.specifier,
        str(parsed.marker or ""),
    )


def _conda_packages() -> dict[str, str]:
    """Conda dependencies as name -> version constraint (``python=3.11`` -> ``=3.11``)."""
    packages = {}
    for entry in ENVIRONMENT["dependencies"]:
        if isinstance(entry, str):
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", entry)
            assert match, f"unreadable conda dependency {entry!r}"
            packages[match[1]] = match[2]
    return packages


def _pip_requirements() -> list[str]:
    sections = [entry["pip"] for entry in ENVIRONMENT["dependencies"] if isinstance(entry, dict)]
    assert len(sections) == 1, "environment.yml must have one pip section"
    return list(sections[0])


def test_environment_asks_for_exactly_the_package_dependencies() -> None:
    environment = sorted(map(_normalised, _pip_requirements()), key=lambda r: r[0])
    package = sorted(map(_normalised, PYPROJECT["project"]["dependencies"]), key=lambda r: r[0])
    assert environment == package


def test_environment_gets_python_and_node_from_conda_forge_only() -> None:
    assert ENVIRONMENT["channels"] == ["conda-forge"]
    packages = _conda_packages()
    assert set(packages) == {"python", "pip", "nodejs"}
    python = packages["python"].lstrip("=")
    assert python in SpecifierSet(PYPROJECT["project"]["requires-python"])
    node = SpecifierSet(packages["nodejs"])
    assert NODE_FLOOR in node
    assert not node.contains("20.18") and not node.contains("18.20")


def test_postbuild_is_a_strict_executable_script_that_installs_this_package() -> None:
    script = BINDER / "postBuild"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert re.search(r"^python -m pip install .*\s\.$", text, flags=re.M)
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_binder_needs_no_start_script_and_no_second_environment_file() -> None:
    # environment.yml wins over requirements.txt; a start script would run at every launch.
    assert sorted(p.name for p in BINDER.iterdir()) == ["environment.yml", "postBuild"]


def test_readme_links_binder_to_the_quickstart_in_jupyterlab() -> None:
    homepage = PYPROJECT["project"]["urls"]["Homepage"]
    match = re.fullmatch(r"https://github\.com/([^/]+/[^/]+)", homepage)
    assert match, f"the Homepage {homepage!r} is not a GitHub repository"
    org_repo = match[1]
    link = (
        f"https://mybinder.org/v2/gh/{org_repo}/HEAD?urlpath=lab/tree/notebooks/01_quickstart.ipynb"
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    top = "\n".join(readme.splitlines()[:8])
    assert f"[![Binder](https://mybinder.org/badge_logo.svg)]({link})" in top
    assert (REPO / "notebooks" / "01_quickstart.ipynb").is_file()


# -- postBuild, for real --------------------------------------------------------------------


def _working_tree_copy(target: Path) -> Path:
    """The files a clone would have, plus this working tree's changes (git's view)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # tracked files deleted in the working tree are skipped
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _layered_venv(target: Path) -> Path:
    """A new venv that also sees the development venv's packages (and nothing of ours)."""
    base_python = Path(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")
    subprocess.run([str(base_python), "-m", "venv", str(target)], check=True)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A path added by a .pth line is not scanned for .pth files itself, so the
    # development venv's editable install of jupyter_dsagent stays invisible.
    Path(site, "development-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@contextlib.contextmanager
def _server(python: Path, home: Path, env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """A Jupyter server from ``python``'s environment, with only its installed config."""
    token, port = secrets.token_hex(16), free_port()
    (home / "work").mkdir(parents=True)
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "jupyter_server",
            f"--ServerApp.token={token}",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={home / 'work'}",
            "--allow-root",
        ],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def _get(url: str, token: str, deadline: float) -> tuple[int, Any]:
    while True:
        request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_postbuild_installs_the_server_extension_and_the_built_sidebar(tmp_path: Path) -> None:
    repo = _working_tree_copy(tmp_path / "repo")
    assert not (repo / "jupyter_dsagent" / "labextension").exists()
    python = _layered_venv(tmp_path / "venv")
    env = {
        key: value
        for key, value in os.environ.items()
        # The test session's PYTHONPATH points at this repository: it must not leak in.
        if not key.startswith(("DSAGENT_", "JUPYTER", "PIP_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    for name in ("config", "data", "runtime"):
        (tmp_path / "jupyter" / name).mkdir(parents=True)
    env.update(
        PATH=f"{python.parent}:{env['PATH']}",
        # The real home, for yarn's package cache; Jupyter's own paths stay private.
        HOME=pwd.getpwuid(os.getuid()).pw_dir,
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter" / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter" / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter" / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    build = subprocess.run(
        [str(repo / "binder" / "postBuild")],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1400,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    prefix = tmp_path / "venv"
    installed = subprocess.run(
        [str(python), "-c", "import jupyter_dsagent; print(jupyter_dsagent.__file__)"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert installed.startswith(str(prefix))
    sidebar = prefix / "share" / "jupyter" / "labextensions" / "jupyter-dsagent"
    package = json.loads((sidebar / "package.json").read_text())
    assert (sidebar / package["jupyterlab"]["_build"]["load"]).is_file()
    enabled = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "jupyter_dsagent.json"
    assert json.loads(enabled.read_text())["ServerApp"]["jpserver_extensions"] == {
        "jupyter_dsagent": True
    }

    env["DSAGENT_DATA_DIR"] = str(tmp_path / "private" / "dsagent")
    with _server(python, tmp_path / "home", env) as (base_url, token):
        status, body = _get(f"{base_url}/dsagent/api/health", token, time.monotonic() + 120)
    assert status in (200, 503) and "checks" in body
