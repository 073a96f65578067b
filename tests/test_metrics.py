"""Metrics live on prometheus_client's default registry, once, however often imported."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from prometheus_client import REGISTRY

from jupyter_dsagent import observability


def test_a_second_copy_of_the_module_reuses_the_registered_collectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = observability.metrics()
    # A second, independent module object, as a reload or a duplicate import makes.
    spec = importlib.util.spec_from_file_location(
        "jupyter_dsagent.observability_copy", observability.__file__
    )
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, copy)
    spec.loader.exec_module(copy)
    second = copy.metrics()
    assert second is not first
    assert second.uploads is first.uploads
    assert second.upload_bytes is first.upload_bytes
    assert second.upload_rejections is first.upload_rejections
    assert second.request_seconds is first.request_seconds
    assert REGISTRY._names_to_collectors["dsagent_uploads_total"] is first.uploads
