"""Settings: precedence default < config file < env, and one clear sentence per bad value."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from traitlets.config import Config

from jupyter_dsagent.config import DSAgent, load_config, read_jupyter_config
from jupyter_dsagent.exceptions import ConfigError


def write_server_config(
    config_dir: Path, text: str, name: str = "jupyter_server_config.py"
) -> Path:
    path = config_dir / name
    path.write_text(text)
    return path


def settings_from_files(environ: dict[str, str] | None = None) -> DSAgent:
    config, origins = read_jupyter_config()
    return load_config(config=config, config_origins=origins, environ=environ or {})


def test_defaults_match_the_documented_limits() -> None:
    settings = load_config(environ={})
    assert settings.max_upload_bytes == 50_000_000
    assert settings.max_zip_entries == 200
    assert settings.max_zip_uncompressed_bytes == 500_000_000
    assert settings.max_image_pixels == 50_000_000
    assert (settings.max_csv_rows, settings.max_csv_columns, settings.max_csv_cells) == (
        1_000_000,
        1000,
        20_000_000,
    )
    assert settings.sample_threshold_rows == 100_000
    assert (settings.automl_default_seconds, settings.automl_max_seconds) == (60, 600)
    assert settings.temperature == 0.2
    assert settings.model == ""  # no model: the agent plans offline
    assert all(settings.source_of(name) == "default" for name in DSAgent.setting_names())


def test_default_data_dir_is_under_the_jupyter_data_dir(jp_data_dir: Path) -> None:
    assert Path(load_config(environ={}).data_dir) == jp_data_dir / "dsagent"


def test_config_file_overrides_default_and_env_overrides_config_file(jp_config_dir: Path) -> None:
    path = write_server_config(
        jp_config_dir,
        "c.DSAgent.max_upload_bytes = 2048\nc.DSAgent.log_format = 'json'\n"
        "c.DSAgent.automl = False\n",
    )
    from_file = settings_from_files()
    assert from_file.max_upload_bytes == 2048
    assert from_file.source_of("max_upload_bytes") == f"config file {path}"
    assert from_file.automl is False
    assert from_file.max_zip_entries == 200
    assert from_file.source_of("max_zip_entries") == "default"

    from_env = settings_from_files({"DSAGENT_MAX_UPLOAD_BYTES": "4096", "DSAGENT_AUTOML": "true"})
    assert from_env.max_upload_bytes == 4096
    assert from_env.automl is True
    assert from_env.source_of("max_upload_bytes") == "env DSAGENT_MAX_UPLOAD_BYTES"
    assert from_env.log_format == "json"  # untouched by env: the file still wins over default


def test_json_config_file_is_read_and_python_file_wins(jp_config_dir: Path) -> None:
    write_server_config(
        jp_config_dir,
        '{"DSAgent": {"max_zip_entries": 10, "max_zip_depth": 0}}',
        "jupyter_server_config.json",
    )
    write_server_config(jp_config_dir, "c.DSAgent.max_zip_entries = 20\n")
    settings = settings_from_files()
    assert settings.max_zip_entries == 20
    assert settings.max_zip_depth == 0


def test_parent_configuration_is_honoured_like_the_server_passes_it() -> None:
    from traitlets.config import Configurable

    parent = Configurable(config=Config({"DSAgent": {"max_csv_rows": 5000}}))
    settings = load_config(parent=parent, environ={"DSAGENT_MAX_CSV_COLUMNS": "50"})
    assert settings.max_csv_rows == 5000
    assert settings.source_of("max_csv_rows") == "config file"
    assert settings.max_csv_columns == 50


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("csv,zip , png", ["csv", "zip", "png"]),
        ('["csv", "json"]', ["csv", "json"]),
    ],
)
def test_list_settings_accept_commas_or_json_in_env(raw: str, expected: list[str]) -> None:
    settings = load_config(environ={"DSAGENT_ALLOWED_EXTENSIONS": raw})
    assert settings.allowed_extensions == expected


def test_choices_are_case_insensitive() -> None:
    settings = load_config(environ={"DSAGENT_LOG_LEVEL": "debug", "DSAGENT_LOG_FORMAT": "JSON"})
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")


def test_unknown_env_variable_is_reported_with_a_suggestion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="jupyter_dsagent"):
        load_config(environ={"DSAGENT_MAX_UPLOAD_BYTE": "10"})
    assert "DSAGENT_MAX_UPLOAD_BYTES" in caplog.text


# -- one clear sentence for each kind of bad value ------------------------------------------


@pytest.mark.parametrize(
    ("environ", "fragments"),
    [
        # out of range, from env
        (
            {"DSAGENT_MAX_UPLOAD_BYTES": "0"},
            [
                "DSAgent.max_upload_bytes",
                "0",
                "DSAGENT_MAX_UPLOAD_BYTES",
                "1,024 to 100,000,000,000",
            ],
        ),
        ({"DSAGENT_TEMPERATURE": "3.5"}, ["DSAgent.temperature", "3.5", "0.0 to 2.0"]),
        ({"DSAGENT_MAX_ZIP_DEPTH": "-1"}, ["DSAgent.max_zip_depth", "-1", "0 to 5"]),
        # not a number at all
        (
            {"DSAGENT_MAX_CSV_ROWS": "lots"},
            ["DSAGENT_MAX_CSV_ROWS='lots'", "DSAgent.max_csv_rows", "an integer from 1 to"],
        ),
        ({"DSAGENT_MODEL_TIMEOUT_SECONDS": "soon"}, ["DSAgent.model_timeout_seconds", "'soon'"]),
        # not a boolean
        ({"DSAGENT_STRIP_EXIF": "maybe"}, ["DSAgent.strip_exif", "'maybe'", "true or false"]),
        # not one of the choices
        ({"DSAGENT_LOG_FORMAT": "xml"}, ["DSAgent.log_format", "'xml'", "json, text"]),
        ({"DSAGENT_AUTOML_PRESET": "fastest"}, ["DSAgent.automl_preset", "medium_quality"]),
        # malformed names
        ({"DSAGENT_MODEL": "gpt 4"}, ["DSAgent.model", "'gpt 4'", "no spaces"]),
        ({"DSAGENT_MODEL": "m", "DSAGENT_FALLBACK_MODELS": "ok-model, bad model"}, ["'bad model'"]),
        ({"DSAGENT_ALLOWED_EXTENSIONS": "csv,.zip"}, ["DSAgent.allowed_extensions", "'.zip'"]),
        ({"DSAGENT_FALLBACK_MODELS": "[1, 2"}, ["DSAgent.fallback_models"]),
        # a forbidden member of an allow-list
        ({"DSAGENT_ALLOWED_EXTENSIONS": "csv,exe,py"}, ["exe, py", "never accepted"]),
        # settings that contradict each other
        (
            {"DSAGENT_AUTOML_DEFAULT_SECONDS": "900"},
            ["DSAgent.automl_default_seconds = 900", "DSAgent.automl_max_seconds = 600"],
        ),
        # a relative path
        ({"DSAGENT_DATA_DIR": "relative/dir"}, ["DSAgent.data_dir", "'relative/dir'", "absolute"]),
    ],
)
def test_bad_values_fail_with_one_sentence_naming_setting_value_and_range(
    environ: dict[str, str], fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    message = caught.value.message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    assert caught.value.code == "config_invalid"


def test_wrong_type_in_config_file_names_the_setting_and_range(jp_config_dir: Path) -> None:
    write_server_config(jp_config_dir, "c.DSAgent.max_zip_entries = 'many'\n")
    with pytest.raises(ConfigError, match=r"DSAgent\.max_zip_entries .* from 1 to 100,000"):
        settings_from_files()


def test_out_of_range_in_config_file_names_the_file(jp_config_dir: Path) -> None:
    path = write_server_config(jp_config_dir, "c.DSAgent.max_image_pixels = 0\n")
    with pytest.raises(ConfigError) as caught:
        settings_from_files()
    assert str(path) in caught.value.message
    assert "1 to 2,000,000,000 pixels" in caught.value.message


def test_broken_config_file_is_a_config_error(jp_config_dir: Path) -> None:
    write_server_config(jp_config_dir, "c.DSAgent.max_zip_entries = (\n")
    with pytest.raises(ConfigError, match="could not be read"):
        settings_from_files()


INT_SETTINGS = [
    name
    for name in DSAgent.setting_names()
    if "min" in DSAgent.class_traits()[name].metadata
    and isinstance(DSAgent.class_traits()[name].metadata["min"], int)
    # these two are also bound to each other; that relation has its own test
    and name not in {"automl_default_seconds", "automl_max_seconds"}
]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(INT_SETTINGS), value=st.integers(-(10**13), 10**13))
def test_any_integer_is_accepted_exactly_when_it_is_in_range(name: str, value: int) -> None:
    meta = DSAgent.class_traits()[name].metadata
    environ = {DSAgent.env_var(name): str(value)}
    if meta["min"] <= value <= meta["max"]:
        assert getattr(load_config(environ=environ), name) == value
    else:
        with pytest.raises(ConfigError, match=f"DSAgent.{name} = {value} "):
            load_config(environ=environ)
