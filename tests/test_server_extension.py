"""The server extension validates settings, prepares the data dir and audits its start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.exceptions import ConfigError, DataDirError
from jupyter_dsagent.runtime import Runtime


def server_config(**dsagent: Any) -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_dsagent": True},
                "reraise_server_extension_failures": True,
            },
            "DSAgent": dsagent,
        }
    )


@pytest.fixture
def jp_server_config(data_dir: Path) -> Config:
    return server_config(data_dir=str(data_dir), max_upload_bytes=4096)


def runtime_of(serverapp: Any) -> Runtime:
    return serverapp.web_app.settings["dsagent_runtime"]


def test_start_audits_config_loaded_and_logs_the_chain_head(
    capfd: pytest.CaptureFixture[str], jp_serverapp: Any, data_dir: Path
) -> None:
    runtime = runtime_of(jp_serverapp)
    assert runtime.settings.max_upload_bytes == 4096
    assert runtime.data.root == data_dir.resolve()
    [record] = runtime.audit.query(kind="config.loaded")
    assert record.subject == "server"
    assert record.details["settings"]["max_upload_bytes"] == 4096
    assert runtime.audit.verify().ok
    assert f"audit chain head {runtime.audit.head()}" in capfd.readouterr().err


def test_env_overrides_the_server_config(
    monkeypatch: pytest.MonkeyPatch, jp_configurable_serverapp: Callable[..., Any], data_dir: Path
) -> None:
    monkeypatch.setenv("DSAGENT_MAX_UPLOAD_BYTES", "8192")
    app = jp_configurable_serverapp(
        config=server_config(data_dir=str(data_dir), max_upload_bytes=4096)
    )
    settings = runtime_of(app).settings
    assert settings.max_upload_bytes == 8192
    assert settings.source_of("max_upload_bytes") == "env DSAGENT_MAX_UPLOAD_BYTES"


def test_bad_setting_stops_the_extension_with_one_sentence(
    jp_configurable_serverapp: Callable[..., Any],
    data_dir: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError, match=r"DSAgent\.max_zip_entries = 0 .* from 1 to 100,000"):
        jp_configurable_serverapp(config=server_config(data_dir=str(data_dir), max_zip_entries=0))
    assert "jupyter_dsagent is disabled: DSAgent.max_zip_entries = 0" in capfd.readouterr().err


def test_data_dir_visible_to_the_file_browser_is_refused(
    jp_configurable_serverapp: Callable[..., Any], jp_root_dir: Path
) -> None:
    visible = jp_root_dir / "dsagent-data"
    with pytest.raises(DataDirError, match="visible to the file browser"):
        jp_configurable_serverapp(config=server_config(data_dir=str(visible)))
    assert not visible.exists()


def test_hidden_data_dir_under_the_root_is_accepted(
    jp_configurable_serverapp: Callable[..., Any], jp_root_dir: Path
) -> None:
    hidden = jp_root_dir / ".dsagent"
    app = jp_configurable_serverapp(config=server_config(data_dir=str(hidden)))
    assert runtime_of(app).data.root == hidden.resolve()


def test_world_writable_data_dir_is_refused(
    jp_configurable_serverapp: Callable[..., Any], data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o777)
    with pytest.raises(DataDirError, match="mode 0777"):
        jp_configurable_serverapp(config=server_config(data_dir=str(data_dir)))


def test_start_sweeps_quarantine_and_stop_closes_the_sandbox(
    jp_configurable_serverapp: Callable[..., Any], data_dir: Path, jp_asyncio_loop: Any
) -> None:
    leftover = DataDir.prepare(data_dir).quarantine / "interrupted.part"
    leftover.write_bytes(b"half an upload")
    app = jp_configurable_serverapp(config=server_config(data_dir=str(data_dir)))
    assert not leftover.exists()
    ingestor = app.web_app.settings["dsagent_ingestor"]
    jp_asyncio_loop.run_until_complete(app.cleanup_extensions())
    with pytest.raises(RuntimeError, match="closed"):
        ingestor.sandbox.run("delimited")
