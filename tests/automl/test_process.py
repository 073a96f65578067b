"""Stopping a run's process group reaches every process in it, joblib/loky workers included."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from jupyter_dsagent.automl.process import ProcessGroup, group_members, worker_environment

# A stand-in worker that starts real loky worker processes (as joblib does for n_jobs)
# and then hangs on.
LOKY_SCRIPT = textwrap.dedent(
    """
    import time
    from joblib.externals.loky import get_reusable_executor
    executor = get_reusable_executor(max_workers=2)
    list(executor.map(abs, range(8)))
    print("ready", flush=True)
    time.sleep(600)
    """
)


def test_stop_kills_the_worker_and_its_loky_children(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    group = ProcessGroup(
        [sys.executable, "-c", LOKY_SCRIPT], cwd=tmp_path, log_path=log, env=worker_environment(2)
    )
    while "ready" not in log.read_text():
        assert group.running(), log.read_text()
        time.sleep(0.1)
    group.track()
    children = list(group.descendants.values())
    assert len(children) >= 2  # the loky workers (and loky's resource tracker)
    assert {p.pid for p in group_members(group.pgid)} >= {group.pid, *(c.pid for c in children)}
    group.stop()
    assert group_members(group.pgid) == []
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert group.process.returncode is not None


def test_the_worker_environment_drops_credentials_and_sizes_thread_pools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("DSAGENT_GATEWAY_TOKEN", "not-a-token")
    env = worker_environment(3)
    assert "SOME_PROVIDER_API_KEY" not in env and "DSAGENT_GATEWAY_TOKEN" not in env
    assert env["OMP_NUM_THREADS"] == env["LOKY_MAX_CPU_COUNT"] == "3"
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["CUDA_VISIBLE_DEVICES"] == ""
