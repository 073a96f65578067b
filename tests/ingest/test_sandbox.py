"""The sandbox turns runaway or crashing parsers into resource_limit errors, and stays usable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_dsagent.exceptions import ContentMismatch, ResourceLimitError
from jupyter_dsagent.ingest.sandbox import Sandbox

TASKS = {
    name: f"tests.ingest.sandbox_tasks:{name}"
    for name in ("echo", "pid", "refuse", "buggy", "spin", "sleep", "hog_memory", "segfault")
}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(memory_bytes=512 * 1024**2, cpu_seconds=2, wall_seconds=6, workers=1, tasks=TASKS)
    yield box
    box.close()


def test_results_come_back_and_the_worker_stays_warm(sandbox: Sandbox) -> None:
    assert sandbox.run("echo", {"a": [1, 2]}) == {"a": [1, 2]}
    assert sandbox.run("pid") == sandbox.run("pid")


def test_refusals_keep_their_class_code_and_message_and_the_worker(sandbox: Sandbox) -> None:
    first = sandbox.run("pid")
    with pytest.raises(ContentMismatch, match="not a table") as caught:
        sandbox.run("refuse", "not a table")
    assert caught.value.code == "content_mismatch"
    assert sandbox.run("pid") == first


@pytest.mark.parametrize(
    ("task", "args", "match"),
    [
        ("spin", (), "more CPU time"),
        ("hog_memory", (2 * 1024**3,), "more memory"),
        ("segfault", (), "crashed"),
        ("buggy", (), "could not be checked safely"),
    ],
)
def test_runaway_and_crashing_parsers_become_resource_limit(
    sandbox: Sandbox, task: str, args: tuple, match: str
) -> None:
    before = sandbox.run("pid")
    with pytest.raises(ResourceLimitError, match=match) as caught:
        sandbox.run(task, *args)
    assert caught.value.code == "resource_limit"
    after = sandbox.run("pid")
    assert after != before  # a fresh worker replaced the broken one
    assert sandbox.run("echo", 1) == 1


def test_wall_clock_limit_kills_a_sleeping_parser() -> None:
    box = Sandbox(
        memory_bytes=512 * 1024**2, cpu_seconds=30, wall_seconds=1, workers=1, tasks=TASKS
    )
    try:
        with pytest.raises(ResourceLimitError, match="longer than 1 seconds"):
            box.run("sleep", 30)
        assert box.run("echo", "alive") == "alive"
    finally:
        box.close()


def test_unknown_task_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="not a sandbox task"):
        sandbox.run("os.system", "true")


def test_closed_sandbox_refuses_work(sandbox: Sandbox) -> None:
    sandbox.close()
    with pytest.raises(RuntimeError, match="closed"):
        sandbox.run("echo", 1)
