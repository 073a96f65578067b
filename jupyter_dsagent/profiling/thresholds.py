"""The limits and warning thresholds a profile uses, read from ``DSAgent`` (config.py).

Each field carries the name of its ``DSAgent`` setting, so ``Profile.to_dict()`` can say
exactly which setting produced a warning and how to change it
(``c.DSAgent.<name>`` or ``DSAGENT_<NAME>``). The settings are built lazily, once per
Jupyter config path and set of ``DSAGENT_*`` overrides of these fields, from the same
Jupyter config files and environment the kernel reads (an edit to a config file is seen
by the next kernel, as with every other setting).
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_dsagent.config import DSAgent

__all__ = ["Thresholds", "configured_thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """Profiling settings; see each ``DSAgent`` trait of the same name for its meaning."""

    sample_threshold_rows: int
    profile_exact_distinct_rows: int
    profile_correlation_max_columns: int
    profile_association_max_columns: int
    profile_high_missing_share: float
    profile_high_cardinality_share: float
    profile_skew_limit: float
    profile_identifier_min_rows: int
    profile_imbalance_share: float
    profile_leakage_error_reduction: float
    profile_leakage_variance_share: float

    @classmethod
    def from_settings(cls, settings: DSAgent) -> Thresholds:
        """The profiling fields of ``settings``."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def as_dict(self) -> dict[str, float | int]:
        """Setting name to value, for ``Profile.thresholds``."""
        return asdict(self)


def configured_thresholds() -> Thresholds:
    """The thresholds of the Jupyter config and ``DSAGENT_*`` environment, built lazily.

    Only the variables that set these fields are read (and, with the config path, key
    the cache), so a change to one of them in the running process takes effect on the
    next profile.
    """
    from jupyter_core.paths import jupyter_config_path

    from jupyter_dsagent.config import DSAgent

    names = [DSAgent.env_var(f.name) for f in fields(Thresholds)]
    overrides = tuple((name, os.environ[name]) for name in names if name in os.environ)
    return _load(tuple(jupyter_config_path()), overrides)


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...], overrides: tuple[tuple[str, str], ...]) -> Thresholds:
    from jupyter_dsagent.config import load_config, read_jupyter_config

    config, origins = read_jupyter_config(paths=list(paths))
    settings = load_config(config=config, config_origins=origins, environ=dict(overrides))
    return Thresholds.from_settings(settings)
