"""A real Jupyter server with jupyter_dsagent enabled and anonymous access refused.

Mark a test ``@pytest.mark.dsagent(name=value, ...)`` to change DSAgent settings and
``@pytest.mark.serverapp(name=value, ...)`` to change ServerApp ones for its server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_dsagent.ingest import Ingestor
from jupyter_dsagent.runtime import Runtime

from .wire import CONTENT_TYPE, file_form

Fetch = Callable[..., Awaitable[Any]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dsagent(**settings): DSAgent settings of the test server")
    config.addinivalue_line("markers", "serverapp(**traits): ServerApp traits of the test server")


def _marked(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(name))):  # closest wins
        values.update(marker.kwargs)
    return values


@pytest.fixture
def jp_server_config(request: pytest.FixtureRequest, data_dir: Path) -> Config:
    return Config(
        {
            "ServerApp": {
                # pytest-jupyter turns terminals on unless told; their websocket is not
                # decorated for allow_unauthenticated_access=False and would warn.
                "jpserver_extensions": {
                    "jupyter_dsagent": True,
                    "jupyter_server_terminals": False,
                },
                "allow_unauthenticated_access": False,
                "reraise_server_extension_failures": True,
                **_marked(request, "serverapp"),
            },
            "DSAgent": {"data_dir": str(data_dir), **_marked(request, "dsagent")},
        }
    )


@pytest.fixture
def port(jp_http_port: int, http_server: Any) -> int:
    """The test server's port, for raw sockets (depending on http_server starts it)."""
    return jp_http_port


@pytest.fixture
def runtime(jp_serverapp: Any) -> Runtime:
    value: Runtime = jp_serverapp.web_app.settings["dsagent_runtime"]
    return value


@pytest.fixture
def ingestor(jp_serverapp: Any) -> Ingestor:
    value: Ingestor = jp_serverapp.web_app.settings["dsagent_ingestor"]
    return value


@pytest.fixture
def api(jp_fetch: Fetch) -> Fetch:
    """``await api("uploads", "<id>", method=...)``: a request under /dsagent/api that
    returns error responses instead of raising them."""

    def fetch(*parts: str, **kwargs: Any) -> Awaitable[Any]:
        kwargs.setdefault("raise_error", False)
        return jp_fetch("dsagent", "api", *parts, **kwargs)

    return fetch


@pytest.fixture
def upload(api: Fetch) -> Callable[[str, bytes], Awaitable[Any]]:
    """``await upload(filename, content)``: POST a one-file form; the response."""

    def send(filename: str, content: bytes) -> Awaitable[Any]:
        return api(
            "uploads",
            method="POST",
            body=file_form(filename, content),
            headers={"Content-Type": CONTENT_TYPE},
        )

    return send


@pytest.fixture
def stored(ingestor: Ingestor) -> Callable[[], dict[str, list[str]]]:
    """``stored()``: the names in quarantine/, ready/ and thumbnails/, and the catalog's ids."""

    def snapshot() -> dict[str, list[str]]:
        data = ingestor.data
        found = {
            folder.name: sorted(p.name for p in folder.iterdir())
            for folder in (data.quarantine, data.ready, data.thumbnails)
        }
        found["catalog"] = [record.id for record in ingestor.catalog.list()]
        return found

    return snapshot


NOTHING_STORED = {"quarantine": [], "ready": [], "thumbnails": [], "catalog": []}
