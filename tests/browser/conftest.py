"""Browser tests: real Chromium (Debian's, driven by Playwright) against a real JupyterLab.

Chromium comes from the system (``apt-get install chromium``; CI installs it); Playwright's
own browser download is never used. Without Chromium these tests are skipped with that
reason, unless ``REQUIRE_BROWSER_TESTS=1`` (set by ``.ci/run``) makes that a failure.
Every test leaves a screenshot in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.timeout(240))


# pytest-jupyter's per-test event loop and server clean-up fight Playwright's own loop at
# teardown ("Cannot close a running event loop"); these tests use neither.
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    return None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    return None


# Module scope: while Playwright runs it marks its event loop as the running one, which
# later tests (pytest-jupyter's loop fixture) would pick up and try to close.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        reason = "no Chromium at /usr/bin/chromium (apt-get install chromium); CI installs it"
        if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (own cookies and localStorage); screenshot at the end."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console), encoding="utf-8")
    finally:
        context.close()


@pytest.fixture
def shot(page: Any, request: pytest.FixtureRequest) -> Any:
    """``shot("step")`` saves a screenshot of this moment as an artifact."""

    def take(step: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", f"{request.node.name}-{step}")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    return take
