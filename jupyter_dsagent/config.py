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
import fnmatch
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
from .redaction import redact, redact_text

__all__ = ["ENV_PREFIX", "NON_SETTING_VARIABLES", "DSAgent", "load_config", "read_jupyter_config"]

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
AGENT_CONTEXTS = ("schema", "summary", "sample")
# (pattern, what it means) pairs checked by validate() on text settings and list items.
_MODEL_NAME = (
    re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"),
    "a model name (letters, digits and ._:/@+- only, no spaces)",
)
_EXTENSION = (
    re.compile(r"^[a-z0-9]{1,10}$"),
    "an extension (1 to 10 lower-case letters or digits, no dot)",
)
_OPTIONAL_MODEL_NAME = (
    re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199})?$"),
    "empty or a model name (letters, digits and ._:/@+- only, no spaces)",
)
_MODEL_PATTERN = (
    re.compile(r"^[A-Za-z0-9*?\[][A-Za-z0-9._:/@+*?\[\]!-]{0,199}$"),
    "a model name or shell pattern (letters, digits, ._:/@+- and *?[]! only)",
)
# http(s), a host, a path: no user:password@, no query or fragment where a key could hide.
_URL = r"https?://[^\s/@?#]+(?:/[^\s?#]*)?"
_OPTIONAL_URL = (
    re.compile(rf"^(?:{_URL})?$"),
    "empty or an http(s) URL without credentials, query or fragment",
)
_MODEL_URL = (
    re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{{0,199}}={_URL}$"),
    "model=url, the url an http(s) URL without credentials, query or fragment",
)
#: DSAGENT_* variables that are not settings: a key and the gateway's address and
#: credential, which the server gives the kernels it starts. Never reported, never shown.
NON_SETTING_VARIABLES = frozenset(
    {"DSAGENT_API_KEY", "DSAGENT_GATEWAY_URL", "DSAGENT_GATEWAY_TOKEN"}
)


def _limit(default: int, lo: int, hi: int, unit: str, group: str, help: str) -> Int:
    return Int(default, help=help).tag(config=True, min=lo, max=hi, unit=unit, group=group)


def _flag(default: bool, help: str) -> Bool:
    return Bool(default, help=help).tag(config=True, group="Features")


def _share(default: float, group: str, help: str) -> Float:
    return Float(default, help=help).tag(config=True, min=0.0, max=1.0, unit="", group=group)


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

    # -- profiling ---------------------------------------------------------------------
    profile_exact_distinct_rows = _limit(
        1_000_000,
        0,
        10**10,
        "rows",
        "Profiling",
        "In a sampled profile, number, date and duration columns up to this many rows still "
        "get exact distinct counts and top values (one sort of the whole column); longer "
        "ones get an estimate from the sample. Text, category and boolean columns are "
        "always counted exactly.",
    )
    profile_correlation_max_columns = _limit(
        50,
        0,
        1000,
        "columns",
        "Profiling",
        "Pearson correlations are computed between the first this-many numeric columns.",
    )
    profile_association_max_columns = _limit(
        20,
        0,
        1000,
        "columns",
        "Profiling",
        "Cramer's V associations are computed between the first this-many categorical and "
        "boolean columns (with at most 50 distinct values each).",
    )
    profile_high_missing_share = _share(
        0.5, "Profiling", "Share of missing values from which a column gets high_missing."
    )
    profile_high_cardinality_share = _share(
        0.5,
        "Profiling",
        "Share of distinct values among present ones above which a categorical or text "
        "column with more than 50 distinct values gets high_cardinality.",
    )
    profile_skew_limit = Float(
        2.0, help="Absolute skewness above which a numeric column gets skewed."
    ).tag(config=True, min=0.0, max=1000.0, unit="", group="Profiling")
    profile_identifier_min_rows = _limit(
        50,
        1,
        10**10,
        "rows",
        "Profiling",
        "Fewest present values a column needs, all distinct, to be called an identifier "
        "(possible_id).",
    )
    profile_imbalance_share = _share(
        0.1,
        "Profiling",
        "A classification target whose rarest class holds less than this share of rows "
        "gets imbalanced_target.",
    )
    profile_leakage_error_reduction = _share(
        0.98,
        "Profiling",
        "Classification target: a column leaks (possible_leakage) when predicting the "
        "target from it alone removes at least this share of the errors of always "
        "guessing the majority class.",
    )
    profile_leakage_variance_share = _share(
        0.9,
        "Profiling",
        "Regression target: a column leaks (possible_leakage) when it alone explains at "
        "least this share of the target's variance (r squared for a number, eta squared "
        "for the groups of a categorical column).",
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
    automl_max_concurrent_runs = _limit(
        1,
        1,
        64,
        "runs",
        "AutoML",
        "Most AutoML runs one kernel may have going at once; another is refused (automl_busy).",
    )
    automl_cpus = _limit(
        0,
        0,
        1024,
        "cores",
        "AutoML",
        "Cores an AutoML run may use (the engine's num_cpus and n_jobs, native thread "
        "pools); 0: all the cores the kernel may use.",
    )
    automl_niceness = _limit(
        10,
        0,
        19,
        "",
        "AutoML",
        "How much lower the run's CPU priority is than the kernel's (nice), so the notebook "
        "stays responsive while it trains.",
    )
    automl_memory_bytes = _limit(
        4 * 1024**3,
        256 * 1024**2,
        1024**4,
        "bytes",
        "AutoML",
        "Address-space limit (RLIMIT_AS) of every process of an AutoML run; a run that needs "
        "more fails with automl_failed and the kernel is unharmed.",
    )
    automl_sample_threshold_rows = _limit(
        200_000,
        100,
        10**10,
        "rows",
        "AutoML",
        "Tables with more rows are trained and evaluated on a seeded random sample of this "
        "many rows; the result says so.",
    )
    automl_max_rows = _limit(
        1_000_000,
        100,
        10**10,
        "rows",
        "AutoML",
        "Tables with more rows are refused (automl_too_large).",
    )
    automl_max_columns = _limit(
        1000, 2, 100_000, "columns", "AutoML", "Tables with more columns are refused."
    )
    automl_max_classes = _limit(
        100,
        2,
        100_000,
        "classes",
        "AutoML",
        "Most classes a classification target may have; more are refused (automl_bad_target).",
    )
    automl_importance_seconds = _limit(
        10,
        0,
        3600,
        "seconds",
        "AutoML",
        "Longest time permutation feature importance may take, never more than a tenth of "
        "the run's budget; features not reached in time are reported as such. 0: none.",
    )
    automl_engine_share = Float(
        0.85,
        help="Share of the time left for fitting that the engine is given as its own (soft) "
        "time limit; the rest absorbs its overrun before the runner's hard cut-off.",
    ).tag(config=True, min=0.1, max=1.0, unit="", group="AutoML")
    automl_keep_runs = _limit(
        20,
        0,
        100_000,
        "runs",
        "AutoML",
        "Finished runs kept in runs/; older ones are removed first, a run in progress never. "
        "0: no limit by count.",
    )
    automl_keep_days = _limit(
        30,
        0,
        3650,
        "days",
        "AutoML",
        "Finished runs older than this many days are removed from runs/. 0: no limit by age.",
    )

    # -- models and the gateway --------------------------------------------------------
    model = Unicode(
        "",
        help="Model the agent calls, in litellm's naming (openai/gpt-4o-mini, "
        "anthropic/claude-3-5-haiku-latest, gemini/gemini-2.0-flash, ollama/llama3.1, ...). "
        "Empty: no model, and the agent uses its offline planner. Keys are never settings: "
        "the provider's usual variable (OPENAI_API_KEY, ...) or DSAGENT_API_KEY.",
    ).tag(config=True, pattern=_OPTIONAL_MODEL_NAME, group="Models")
    fallback_models = List(
        Unicode(),
        default_value=[],
        help="Models tried in this order when the model fails (after its retries) or is "
        "cooling down.",
    ).tag(config=True, pattern=_MODEL_NAME, group="Models")
    api_base = Unicode(
        "",
        help="Base URL of the model's server (a local OpenAI-compatible server, Ollama, a "
        "proxy); empty: the provider's own. No credentials in the URL.",
    ).tag(config=True, pattern=_OPTIONAL_URL, group="Models")
    model_api_bases = List(
        Unicode(),
        default_value=[],
        help="Base URLs of other models (fallbacks, allowed models), each as "
        "'model=url', e.g. 'openai/backup=http://127.0.0.1:8000/v1'.",
    ).tag(config=True, pattern=_MODEL_URL, group="Models")
    allowed_models = List(
        Unicode(),
        default_value=[],
        help="Models a request may name besides the model and its fallbacks (which are "
        "always allowed). A request for any other model is refused with 403.",
    ).tag(config=True, pattern=_MODEL_NAME, group="Models")
    denied_models = List(
        Unicode(),
        default_value=[],
        help="Models no request may name, as names or shell patterns (openai/gpt-4*); "
        "the deny-list wins over the allow-list.",
    ).tag(config=True, pattern=_MODEL_PATTERN, group="Models")
    temperature = Float(
        0.2, help="Sampling temperature of model calls whose request does not set one."
    ).tag(config=True, min=0.0, max=2.0, unit="", group="Models")
    max_tokens_per_request = _limit(
        16_000,
        256,
        2_000_000,
        "tokens",
        "Models",
        "Most tokens one request may send (messages and tool definitions, counted with "
        "the model's tokenizer before sending); a larger one is refused with 400.",
    )
    max_output_tokens = _limit(
        2048,
        1,
        200_000,
        "tokens",
        "Models",
        "Most tokens a model may write in one answer; requests without max_tokens get this.",
    )
    model_timeout_seconds = Float(
        60.0,
        help="Seconds one attempt of a model call may take before it is abandoned, "
        "retried or passed to the next fallback.",
    ).tag(config=True, min=0.1, max=3600.0, unit="seconds", group="Models")
    model_retries = _limit(
        2,
        0,
        10,
        "retries",
        "Models",
        "Retries of a model that answered 429, 5xx or timed out, before the next fallback.",
    )
    retry_max_wait_seconds = Float(
        20.0,
        help="Longest wait before a retry. litellm backs off exponentially from half a "
        "second, or waits as long as the provider's Retry-After asks; this caps the wait.",
    ).tag(config=True, min=0.0, max=60.0, unit="seconds", group="Models")
    cooldown_after_failures = _limit(
        3,
        1,
        1000,
        "failures",
        "Models",
        "Failures within a minute after which a model is skipped for cooldown_seconds.",
    )
    cooldown_seconds = Float(
        60.0, help="How long a failing model is skipped (its fallbacks answer meanwhile)."
    ).tag(config=True, min=0.1, max=86_400.0, unit="seconds", group="Models")
    rate_limit_per_minute = _limit(
        60,
        1,
        100_000,
        "requests",
        "Models",
        "Most model calls one user may make per minute (short bursts up to this number); "
        "more are refused with 429 and Retry-After.",
    )
    user_token_budget = _limit(
        0, 0, 10**12, "tokens", "Models", "Tokens (in and out) one user may use; 0: no limit."
    )
    user_cost_budget = Float(
        0.0, help="US dollars one user's model calls may cost in all; 0: no limit."
    ).tag(config=True, min=0.0, max=1_000_000.0, unit="USD", group="Models")
    user_daily_token_budget = _limit(
        0, 0, 10**12, "tokens", "Models", "Tokens one user may use per UTC day; 0: no limit."
    )
    user_daily_cost_budget = Float(
        0.0, help="US dollars one user's model calls may cost per UTC day; 0: no limit."
    ).tag(config=True, min=0.0, max=1_000_000.0, unit="USD", group="Models")
    server_token_budget = _limit(
        0,
        0,
        10**12,
        "tokens",
        "Models",
        "Tokens all users of this server may use in all (the instructor's budget); 0: no limit.",
    )
    server_cost_budget = Float(
        0.0, help="US dollars all model calls of this server may cost in all; 0: no limit."
    ).tag(config=True, min=0.0, max=1_000_000.0, unit="USD", group="Models")
    server_daily_token_budget = _limit(
        0, 0, 10**12, "tokens", "Models", "Tokens all users may use per UTC day; 0: no limit."
    )
    server_daily_cost_budget = Float(
        0.0, help="US dollars all model calls may cost per UTC day; 0: no limit."
    ).tag(config=True, min=0.0, max=1_000_000.0, unit="USD", group="Models")
    max_gateway_body_bytes = _limit(
        8 * 1024 * 1024,
        1024,
        512 * 1024 * 1024,
        "bytes",
        "Models",
        "Largest JSON body the model gateway accepts; a larger one is refused with 413 "
        "before it is read.",
    )
    keep_keys_from_kernels = Bool(
        True,
        help="Hold provider API keys in the server and remove them from the environment "
        "that kernels and terminals inherit; kernels reach models through the gateway.",
    ).tag(config=True, group="Models")
    store_transcripts = Bool(
        False,
        help="Also write each model call's messages and answer, redacted, to "
        "llm-transcripts.jsonl in the data directory (mode 0600) for teaching review. "
        "The audit log only ever keeps a SHA-256 of the prompt.",
    ).tag(config=True, group="Models")

    # -- agent -------------------------------------------------------------------------
    agent_context = Unicode(
        "summary",
        help="What the agent may show the model about a DataFrame: 'schema' (names and "
        "types), 'summary' (the profile summary) or 'sample' (summary plus "
        "agent_sample_rows rows).",
    ).tag(config=True, choices=AGENT_CONTEXTS, group="Agent")
    agent_sample_rows = _limit(
        0, 0, 50, "rows", "Agent", "Rows sent to the model with agent_context='sample'."
    )
    agent_mask_columns = Unicode(
        r"e-?mail|phone|mobile|ssn|social.?security|passport|password|credit.?card|iban"
        r"|address|birth",
        help="Regular expression (case-insensitive) of column names whose values never "
        "leave the kernel: the model sees such a column's name and type only.",
    ).tag(config=True, group="Agent")
    agent_max_tool_rounds = _limit(
        8, 1, 50, "rounds", "Agent", "Model calls with tool use allowed in one answer."
    )
    agent_history_tokens = _limit(
        6_000,
        500,
        1_000_000,
        "tokens",
        "Agent",
        "Budget of one request's conversation history; older turns are dropped first.",
    )
    agent_tool_result_tokens = _limit(
        1_500, 100, 100_000, "tokens", "Agent", "Longest tool result the model is shown."
    )

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
    automl_warm_worker = _flag(
        True,
        "Keep one AutoML worker started, its libraries imported, waiting for the next run, "
        "so a run's time limit is not spent starting Python and importing AutoGluon.",
    )
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
            if not var.startswith(ENV_PREFIX) or var in NON_SETTING_VARIABLES:
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
                # Redacted: a URL setting may carry a password the person pasted in.
                raise ConfigError(
                    f"DSAgent.{name} = {redact(getattr(self, name))!r} "
                    f"(from {self.source_of(name)}) is invalid: {problem}."
                )
        self._check_relations()
        return self

    def _check_relations(self) -> None:
        self._check_models()
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
        try:
            re.compile(self.agent_mask_columns)
        except re.error as exc:
            raise ConfigError(
                f"DSAgent.agent_mask_columns = {self.agent_mask_columns!r} "
                f"(from {self.source_of('agent_mask_columns')}) is not a regular "
                f"expression: {exc}."
            ) from None

    def _check_models(self) -> None:
        """The model, its fallbacks and the lists must describe one coherent set of models."""
        if self.fallback_models and not self.model:
            raise ConfigError(
                f"DSAgent.fallback_models is set (from {self.source_of('fallback_models')}) "
                "but DSAgent.model is empty: set DSAGENT_MODEL to the model they back up."
            )
        chain = [self.model, *self.fallback_models] if self.model else []
        repeated = sorted({name for name in chain if chain.count(name) > 1})
        if repeated:
            raise ConfigError(
                f"DSAgent.fallback_models repeats {', '.join(repeated)} (from "
                f"{self.source_of('fallback_models')}): each model may appear once in the "
                "chain of the model and its fallbacks."
            )
        for name in chain:
            pattern = next((p for p in self.denied_models if fnmatch.fnmatchcase(name, p)), None)
            if pattern is not None:
                raise ConfigError(
                    f"DSAgent.denied_models refuses {name!r} (pattern {pattern!r}, from "
                    f"{self.source_of('denied_models')}), which is the configured model or "
                    "one of its fallbacks: remove one or the other."
                )
        known = {*chain, *self.allowed_models}
        for entry in self.model_api_bases:
            name = entry.partition("=")[0]
            if name not in known:
                raise ConfigError(
                    f"DSAgent.model_api_bases names {name!r} (from "
                    f"{self.source_of('model_api_bases')}), which is neither the model, a "
                    "fallback nor an allowed model."
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
            return f"{redact_text(bad[0])!r} is not {meaning}"
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
