"""Every limit and feature flag of jupyter_dsagent, in one traitlets Configurable.

Precedence, lowest first: the trait's default < Jupyter configuration
(``c.DSAgent.x = …`` in ``jupyter_server_config.py``/``.json``, or ``--DSAgent.x=…``)
< the environment (``DSAGENT_X``). The server and every kernel build the same object
from the same files and environment, so they enforce the same limits.

Types are checked by traitlets when a value is assigned; ranges, choices and the
relations between settings are checked by :meth:`DSAgent.validate`, which the server
runs at start and the kernel runs at ``%load_ext``.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import traitlets
from jupyter_core.paths import jupyter_config_path, jupyter_data_dir
from traitlets import Bool, Float, Int, List, TraitError, TraitType, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import (
    ConfigFileNotFound,
    JSONFileConfigLoader,
    PyFileConfigLoader,
)

from .exceptions import ConfigError

__all__ = ["ENV_PREFIX", "DSAgent", "load_config", "read_jupyter_config"]

ENV_PREFIX = "DSAGENT_"
SERVER_CONFIG_NAME = "jupyter_server_config"

log = logging.getLogger(__name__)

# Extensions that name code, markup that runs in a browser, or pickles: never on the
# allow-list, whatever an administrator writes.
NEVER_ALLOWED_EXTENSIONS = frozenset(
    [
        "app",
        "bat",
        "cmd",
        "com",
        "dll",
        "dmg",
        "exe",
        "htm",
        "html",
        "jar",
        "joblib",
        "js",
        "mjs",
        "msi",
        "npy",
        "npz",
        "php",
        "pickle",
        "pkl",
        "ps1",
        "py",
        "pyc",
        "pyw",
        "sh",
        "so",
        "svg",
        "vbs",
        "xlsb",
        "xlsm",
    ]
)
AUTOML_PRESETS = (
    "best_quality",
    "high_quality",
    "good_quality",
    "medium_quality",
    "optimize_for_deployment",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")
# (pattern, what it means) pairs checked by validate() on text settings and list items.
_MODEL_NAME = (
    re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"),
    "a model name (letters, digits and ._:/@+- only, no spaces)",
)
_EXTENSION = (
    re.compile(r"^[a-z0-9]{1,10}$"),
    "an extension (1 to 10 lower-case letters or digits, no dot)",
)


def _limit(default: int, lo: int, hi: int, unit: str, group: str, help: str) -> Int:
    return Int(default, help=help).tag(config=True, min=lo, max=hi, unit=unit, group=group)


def _flag(default: bool, help: str) -> Bool:
    return Bool(default, help=help).tag(config=True, group="Features")


class DSAgent(Configurable):
    """Settings of jupyter_dsagent; set them as ``c.DSAgent.<name>`` or ``DSAGENT_<NAME>``."""

    # -- storage ---------------------------------------------------------------------
    data_dir = Unicode(
        help="Directory for quarantine/, ready/, thumbnails/, runs/ and the SQLite "
        "databases. Created with mode 0700; must be outside the Contents API's reach. "
        "Default: <jupyter data dir>/dsagent."
    ).tag(config=True, group="Storage")

    @traitlets.default("data_dir")
    def _default_data_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "dsagent")

    allowed_extensions = List(
        Unicode(),
        default_value=[
            *("csv", "tsv", "txt", "json", "jsonl", "parquet", "xlsx", "zip"),
            *("png", "jpg", "jpeg", "webp", "gif", "heic", "heif", "avif"),
        ],
        help="File name extensions accepted for upload (lower case, no dot). The content "
        "must agree with the extension; executables, scripts and pickles are never allowed.",
    ).tag(config=True, pattern=_EXTENSION, group="Storage")

    # -- uploads and archives ----------------------------------------------------------
    max_upload_bytes = _limit(
        50_000_000, 1024, 10**11, "bytes", "Uploads", "Largest upload accepted, in bytes."
    )
    max_zip_entries = _limit(
        200, 1, 100_000, "entries", "Uploads", "Most members a ZIP archive may hold."
    )
    max_zip_uncompressed_bytes = _limit(
        500_000_000,
        1024,
        10**12,
        "bytes",
        "Uploads",
        "Most bytes all members of a ZIP archive may expand to, counted while extracting.",
    )
    max_zip_ratio = Float(
        100.0, help="Highest compression ratio (expanded / compressed) a ZIP member may have."
    ).tag(config=True, min=1.0, max=10_000.0, unit="", group="Uploads")
    max_zip_depth = _limit(
        1,
        0,
        5,
        "levels",
        "Uploads",
        "How many archives deep a member may sit; 0 refuses archives inside archives.",
    )

    # -- server ------------------------------------------------------------------------
    max_concurrent_uploads_per_user = _limit(
        4,
        1,
        1000,
        "uploads",
        "Server",
        "Most uploads one user may stream to the server at the same time; more are refused "
        "with 429 until one finishes.",
    )
    requests_per_minute_per_user = _limit(
        600,
        1,
        1_000_000,
        "requests",
        "Server",
        "Most requests one user may make to the jupyter_dsagent HTTP API per minute "
        "(short bursts up to this number are allowed); more are refused with 429.",
    )
    upload_timeout_seconds = _limit(
        600,
        1,
        86_400,
        "seconds",
        "Server",
        "Longest time the body of one upload may take to arrive; a slower upload is cut "
        "off and discarded.",
    )
    min_free_disk_bytes = _limit(
        1_000_000_000,
        0,
        10**15,
        "bytes",
        "Server",
        "Free space the data directory's file system must keep: an upload that would leave "
        "less is refused with 507, and the health check fails below it. 0 turns the guard off.",
    )

    # -- images ------------------------------------------------------------------------
    max_image_pixels = _limit(
        50_000_000,
        1,
        2_000_000_000,
        "pixels",
        "Images",
        "Largest image (width x height) decoded; larger ones are refused before decoding.",
    )
    max_image_frames = _limit(
        200, 1, 100_000, "frames", "Images", "Most frames an animated image may have."
    )
    thumbnail_pixels = _limit(
        256, 16, 1024, "pixels", "Images", "Longest side of generated thumbnails."
    )

    # -- tables ------------------------------------------------------------------------
    max_csv_rows = _limit(1_000_000, 1, 10**10, "rows", "Tables", "Most rows a table may have.")
    max_csv_columns = _limit(
        1000, 1, 100_000, "columns", "Tables", "Most columns a table may have."
    )
    max_csv_cells = _limit(
        20_000_000, 1, 10**11, "cells", "Tables", "Most cells (rows x columns) a table may have."
    )
    max_csv_field_bytes = _limit(
        1_000_000,
        1024,
        100_000_000,
        "bytes",
        "Tables",
        "Longest single field (cell) a delimited text file may have.",
    )
    sample_threshold_rows = _limit(
        100_000,
        100,
        10**10,
        "rows",
        "Tables",
        "Tables with more rows are profiled on a random sample of this size.",
    )

    # -- sandbox -----------------------------------------------------------------------
    sandbox_memory_bytes = _limit(
        3 * 1024**3,
        256 * 1024**2,
        64 * 1024**3,
        "bytes",
        "Sandbox",
        "Address-space limit (RLIMIT_AS) of the worker process that parses untrusted files.",
    )
    sandbox_cpu_seconds = _limit(
        60, 1, 3600, "seconds", "Sandbox", "CPU time one file may use in the parsing worker."
    )
    sandbox_wall_seconds = _limit(
        120,
        1,
        7200,
        "seconds",
        "Sandbox",
        "Wall-clock time one file may take in the parsing worker before it is killed.",
    )

    # -- AutoML ------------------------------------------------------------------------
    automl_default_seconds = _limit(
        60, 5, 86_400, "seconds", "AutoML", "Time budget of an AutoML run when none is given."
    )
    automl_max_seconds = _limit(
        600, 5, 86_400, "seconds", "AutoML", "Longest time budget an AutoML run may ask for."
    )
    automl_preset = Unicode("medium_quality", help="AutoGluon preset used by AutoML runs.").tag(
        config=True, choices=AUTOML_PRESETS, group="AutoML"
    )

    # -- LLM ---------------------------------------------------------------------------
    llm_model = Unicode(
        "gpt-4o-mini",
        help="Model the agent calls, in litellm's naming (provider/model). "
        "API keys are read from the provider's usual environment variable, never from here.",
    ).tag(config=True, pattern=_MODEL_NAME, group="LLM")
    llm_fallback_models = List(
        Unicode(), default_value=[], help="Models tried in order when the main model fails."
    ).tag(config=True, pattern=_MODEL_NAME, group="LLM")
    llm_temperature = Float(0.2, help="Sampling temperature.").tag(
        config=True, min=0.0, max=2.0, unit="", group="LLM"
    )
    llm_max_output_tokens = _limit(
        1024, 1, 200_000, "tokens", "LLM", "Most tokens a model may write in one answer."
    )
    llm_max_request_tokens = _limit(
        16_000,
        256,
        2_000_000,
        "tokens",
        "LLM",
        "Most tokens one request may send (prompt, summaries and history together).",
    )
    llm_request_timeout = Float(60.0, help="Seconds before a model call is abandoned.").tag(
        config=True, min=1.0, max=3600.0, unit="seconds", group="LLM"
    )
    llm_retries = _limit(2, 0, 10, "retries", "LLM", "Retries of a failed model call.")

    # -- features ----------------------------------------------------------------------
    summary_only = _flag(
        True, "Send the model summaries only (profiles, schemas), never rows or files."
    )
    thumbnails = _flag(True, "Make JPEG thumbnails of uploaded images.")
    safe_unzip = _flag(
        True,
        "Accept ZIP archives and extract their members through the checked extractor; "
        "when off, ZIP uploads are refused.",
    )
    automl = _flag(True, "Allow AutoML runs.")
    strip_exif = _flag(True, "Remove EXIF, GPS and other metadata from uploaded images.")

    # -- logging -----------------------------------------------------------------------
    log_level = Unicode("INFO", help="Level of the jupyter_dsagent loggers.").tag(
        config=True, choices=LOG_LEVELS, group="Logging"
    )
    log_format = Unicode("text", help="'json' for one JSON object per line, or 'text'.").tag(
        config=True, choices=LOG_FORMATS, group="Logging"
    )

    @traitlets.validate("log_level")
    def _normalise_log_level(self, proposal: dict[str, Any]) -> str:
        return str(proposal["value"]).upper()

    @traitlets.validate("log_format", "automl_preset")
    def _normalise_lower(self, proposal: dict[str, Any]) -> str:
        return str(proposal["value"]).lower()

    def __init__(self, *, environ: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_origins: dict[str, str] = {}
        self._env_sources: dict[str, str] = {}
        self._apply_environment(os.environ if environ is None else environ)

    # -- introspection -----------------------------------------------------------------
    @classmethod
    def setting_names(cls) -> list[str]:
        """Configurable settings in the order they are declared (grouped by topic)."""
        return [
            name
            for name, value in vars(cls).items()
            if isinstance(value, TraitType) and value.metadata.get("config")
        ]

    @staticmethod
    def env_var(name: str) -> str:
        """The environment variable that overrides setting ``name``."""
        return ENV_PREFIX + name.upper()

    def source_of(self, name: str) -> str:
        """Where the effective value of ``name`` came from: default, config file or env."""
        if name in self._env_sources:
            return f"env {self._env_sources[name]}"
        if name in self.config_origins:
            return f"config file {self.config_origins[name]}"
        if any(name in self.config.get(cls.__name__, {}) for cls in type(self).mro()):
            return "config file"
        return "default"

    def effective(self) -> Iterator[tuple[str, Any, str]]:
        """Yield ``(name, value, source)`` for every setting."""
        for name in self.setting_names():
            yield name, getattr(self, name), self.source_of(name)

    def non_defaults(self) -> dict[str, Any]:
        """Settings that differ from their defaults, for the audit log."""
        return {n: v for n, v, source in self.effective() if source != "default"}

    # -- environment -------------------------------------------------------------------
    def _apply_environment(self, environ: Mapping[str, str]) -> None:
        names = self.setting_names()
        by_var = {self.env_var(n): n for n in names}
        for var, raw in environ.items():
            if not var.startswith(ENV_PREFIX):
                continue
            name = by_var.get(var)
            if name is None:
                hint = difflib.get_close_matches(var, by_var, n=1)
                log.warning(
                    "Ignoring %s: no such setting%s.",
                    var,
                    f" (did you mean {hint[0]}?)" if hint else "",
                )
                continue
            trait = self.traits()[name]
            try:
                value = _parse_env_value(trait, raw)
                setattr(self, name, value)
            except (TraitError, ValueError):
                raise ConfigError(
                    f"{var}={raw!r} is not a valid value for DSAgent.{name}: {_expectation(trait)}."
                ) from None
            self._env_sources[name] = var

    # -- validation --------------------------------------------------------------------
    def validate(self) -> DSAgent:
        """Check ranges, choices and relations; raise ConfigError naming the first bad one."""
        for name in self.setting_names():
            trait = self.traits()[name]
            problem = _check_value(trait, getattr(self, name))
            if problem:
                raise ConfigError(
                    f"DSAgent.{name} = {getattr(self, name)!r} (from {self.source_of(name)}) "
                    f"is invalid: {problem}."
                )
        self._check_relations()
        return self

    def _check_relations(self) -> None:
        if self.automl_default_seconds > self.automl_max_seconds:
            raise ConfigError(
                f"DSAgent.automl_default_seconds = {self.automl_default_seconds} "
                f"(from {self.source_of('automl_default_seconds')}) is larger than "
                f"DSAgent.automl_max_seconds = {self.automl_max_seconds}: the default budget "
                "must not exceed the maximum."
            )
        forbidden = sorted(set(self.allowed_extensions) & NEVER_ALLOWED_EXTENSIONS)
        if forbidden:
            raise ConfigError(
                f"DSAgent.allowed_extensions lists {', '.join(forbidden)} "
                f"(from {self.source_of('allowed_extensions')}): executables, scripts, "
                "browser markup and pickles are never accepted."
            )
        data_dir = Path(self.data_dir).expanduser()
        if not data_dir.is_absolute():
            raise ConfigError(
                f"DSAgent.data_dir = {self.data_dir!r} (from {self.source_of('data_dir')}) "
                "is invalid: it must be an absolute path."
            )


def _parse_env_value(trait: TraitType, raw: str) -> Any:
    """Parse an environment string the way a user would write it."""
    text = raw.strip()
    if isinstance(trait, List):
        if text.startswith("["):
            value = json.loads(text)
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
        return value
    if isinstance(trait, Unicode):
        return raw
    if isinstance(trait, Int) and not isinstance(trait, Bool):
        return int(text)
    if isinstance(trait, Float):
        return float(text)
    return trait.from_string(text)


def _expectation(trait: TraitType) -> str:
    """Describe in words what a setting accepts, range included."""
    meta = trait.metadata
    if isinstance(trait, Bool):
        return "use true or false"
    if "min" in meta:
        kind = "an integer" if isinstance(trait, Int) else "a number"
        unit = f" {meta['unit']}" if meta.get("unit") else ""
        return f"use {kind} from {meta['min']:,} to {meta['max']:,}{unit}"
    if "choices" in meta:
        return "use one of " + ", ".join(meta["choices"])
    if isinstance(trait, List):
        return "use a comma-separated list or a JSON list of strings"
    return "use a text value"


def _check_value(trait: TraitType, value: Any) -> str | None:
    """Return what is wrong with ``value`` for ``trait``, or None."""
    meta = trait.metadata
    if "min" in meta and not meta["min"] <= value <= meta["max"]:
        return _expectation(trait)
    if "choices" in meta and value not in meta["choices"]:
        return _expectation(trait)
    if "pattern" in meta:
        pattern, meaning = meta["pattern"]
        items = value if isinstance(value, list) else [value]
        bad = [item for item in items if not pattern.match(item)]
        if bad:
            return f"{bad[0]!r} is not {meaning}"
    return None


def read_jupyter_config(
    name: str = SERVER_CONFIG_NAME, paths: list[str] | None = None
) -> tuple[Config, dict[str, str]]:
    """Read ``name``.py/.json from the Jupyter config path, as the server would.

    Returns the merged configuration and, for each DSAgent setting it sets, the file
    that set it last (highest priority wins, as in Jupyter).
    """
    merged = Config()
    origins: dict[str, str] = {}
    for directory in reversed(paths if paths is not None else jupyter_config_path()):
        for loader_class, filename in (
            (JSONFileConfigLoader, f"{name}.json"),
            (PyFileConfigLoader, f"{name}.py"),
        ):
            loader = loader_class(filename, path=directory)
            try:
                loaded = loader.load_config()
            except ConfigFileNotFound:
                continue
            except Exception as exc:
                raise ConfigError(
                    f"The Jupyter config file {loader.full_filename} could not be read: {exc}."
                ) from None
            merged.merge(loaded)
            for key in loaded.get("DSAgent", {}):
                origins[key] = loader.full_filename
    return merged, origins


def load_config(
    *,
    parent: Configurable | None = None,
    config: Config | None = None,
    config_origins: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> DSAgent:
    """Build the settings from Jupyter config and environment, and validate them.

    With ``parent`` (the server extension), the configuration the server loaded is
    used; otherwise (a kernel, the CLI) pass ``config`` from :func:`read_jupyter_config`.
    """
    try:
        settings = DSAgent(parent=parent, config=config, environ=environ)
    except TraitError as exc:
        raise ConfigError(_explain_trait_error(exc)) from None
    settings.config_origins = dict(config_origins or {})
    return settings.validate()


def _explain_trait_error(exc: TraitError) -> str:
    """Turn traitlets' type error into our one sentence, with the allowed range."""
    match = re.search(r"The '(\w+)' trait", str(exc))
    name = match.group(1) if match else None
    trait = DSAgent.class_traits().get(name) if name else None
    if trait is None:
        return f"The jupyter_dsagent configuration is invalid: {exc}"
    return (
        f"DSAgent.{name} in the Jupyter config has the wrong type: {_expectation(trait)} ({exc})."
    )
