"""``profile(df)``: sample, profile every column in one pass, then the frame findings."""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from jupyter_dsagent.exceptions import BadRequest, NotFoundError
from jupyter_dsagent.profiling.association import cramers_v_matrix
from jupyter_dsagent.profiling.cache import ProfileCache, fingerprint
from jupyter_dsagent.profiling.columns import FIXED_THRESHOLDS
from jupyter_dsagent.profiling.correlation import pearson
from jupyter_dsagent.profiling.frame_columns import build_columns
from jupyter_dsagent.profiling.model import ColumnProfile, Profile, ProfileWarning
from jupyter_dsagent.profiling.target import LEAK_MAX_GROUP_SHARE, TARGET_THRESHOLDS, target_hint
from jupyter_dsagent.profiling.threads import column_pool
from jupyter_dsagent.profiling.thresholds import Thresholds, configured_thresholds

if TYPE_CHECKING:
    from jupyter_dsagent.config import DSAgent

__all__ = ["clear_cache", "profile"]

_CORRELATED = ("numeric", "integer-coded categorical")
_cache = ProfileCache()


def clear_cache() -> None:
    """Forget every cached profile."""
    _cache.clear()


def _sample_size(rows: int, sample: int | bool | None, threshold: int) -> int:
    if sample is None:
        return min(rows, threshold)
    if sample is False:
        return rows
    if isinstance(sample, bool) or not isinstance(sample, int | np.integer) or sample < 1:
        raise BadRequest(f"sample must be None, False or a positive number of rows, not {sample!r}")
    return min(rows, int(sample))


def _target_position(labels: pd.Index, names: list[str], target: Hashable) -> int:
    for position, label in enumerate(labels):
        try:
            if label is target or bool(label == target):
                return position
        except (TypeError, ValueError):  # labels that do not compare to the target
            continue
    if isinstance(target, str) and target in names:
        return names.index(target)
    raise NotFoundError(f"no column named {target!r} to use as the target")


def _rounded(matrix: np.ndarray) -> tuple[tuple[float | None, ...], ...]:
    return tuple(
        tuple(round(float(v), 4) if np.isfinite(v) else None for v in row) for row in matrix
    )


def _correlations(
    part: pd.DataFrame, columns: tuple[ColumnProfile, ...], limit: int, pool: Executor
) -> tuple[tuple[str, ...], tuple[tuple[float | None, ...], ...]]:
    chosen = [
        c
        for c in columns
        if c.semantic_type in _CORRELATED
        and c.numeric is not None
        and not c.dtype.startswith("timedelta")
    ][:limit]
    if len(chosen) < 2 or len(part) < 3:
        return (), ()
    centres = [c.numeric.mean if c.numeric.mean is not None else 0.0 for c in chosen if c.numeric]
    corr = pearson(part, [c.position for c in chosen], centres, pool)
    return tuple(c.name for c in chosen), _rounded(corr)


def _associations(codes: list[np.ndarray]) -> tuple[tuple[float | None, ...], ...]:
    return _rounded(cramers_v_matrix(codes)) if len(codes) > 1 else ()


def profile(
    df: pd.DataFrame | pd.Series,
    *,
    target: Hashable | None = None,
    sample: int | bool | None = None,
    settings: DSAgent | None = None,
    seed: int = 0,
    use_cache: bool = True,
) -> Profile:
    """Profile a DataFrame: per-column statistics, frame findings and warnings.

    Each column is read once: numbers, dates and durations are sorted once, text is
    factorized once, and that single count gives missing and distinct counts, top
    values, quantiles, histograms, the duplicate-row hash and the association codes.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
        The data; a Series is profiled as a one-column frame. Columns are profiled by
        position, so duplicate names and MultiIndex labels are fine (``name`` is ``str``
        of the label).
    target : hashable, optional
        Label (or ``str`` of the label) of the column to predict; adds the task
        (binary / multiclass / regression) and leakage candidates.
    sample : None, False or int
        ``None`` samples ``DSAgent.sample_threshold_rows`` rows when the frame is longer,
        ``False`` never samples, an int samples that many rows. Sampling is uniform
        without replacement, seeded by ``seed``. Row and missing counts stay exact.
    settings : DSAgent, optional
        Where limits and thresholds come from; by default the Jupyter config and the
        ``DSAGENT_*`` environment, as the kernel reads them (built once, then cached).
    seed : int
        Seed of the sample.
    use_cache : bool
        Return the cached profile of an unchanged frame (recognised by a content
        fingerprint, see ``profiling.cache``).

    Returns
    -------
    Profile
    """
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise BadRequest(f"profile() takes a pandas DataFrame, not {type(df).__name__}")
    limits = configured_thresholds() if settings is None else Thresholds.from_settings(settings)
    rows, width = df.shape
    size = _sample_size(rows, sample, limits.sample_threshold_rows)
    key = None
    if use_cache:
        key = (fingerprint(df), repr(target), size, seed, limits)
        cached = _cache.get(key)
        if cached is not None:
            return cached
    names = [str(label) for label in df.columns]
    target_at = None if target is None else _target_position(df.columns, names, target)
    frame = df.copy(deep=False)
    frame.columns = pd.RangeIndex(width)
    sampled = size < rows
    take = None
    if sampled:
        take = np.sort(np.random.default_rng(seed).choice(rows, size=size, replace=False))
    exact = not sampled or rows <= limits.profile_exact_distinct_rows
    # The leakage check groups rows by each column's values, up to this many groups.
    leak_levels = 0 if target_at is None else int(LEAK_MAX_GROUP_SHARE * size)
    with column_pool(size) as pool:
        built = build_columns(
            frame,
            take,
            names,
            pool=pool,
            limits=limits,
            exact=exact,
            leak_levels=leak_levels,
            rows=rows,
        )
        columns, warnings, associated = built.profiles, built.warnings, built.associated
        part = frame if take is None else frame.iloc[take]
        # Cramer's V and the target's findings on the pool's threads, the correlations
        # on the caller's and (half of the rows) on a pool thread.
        associations = pool.submit(_associations, [codes for _, codes in associated])
        hint_found = None
        if target_at is not None:
            hint_found = pool.submit(
                target_hint, part, columns, target_at, limits=limits, codes=built.known_codes
            )
        correlation_columns, correlation_matrix = _correlations(
            part, columns, limits.profile_correlation_max_columns, pool
        )
        association_matrix = associations.result()
        if built.duplicates:
            warnings.append(
                ProfileWarning("duplicate_rows", f"{built.duplicates} rows repeat an earlier row")
            )
        hint = None
        if hint_found is not None:
            hint, found = hint_found.result()
            warnings += found
        built.known_codes.clear()  # only the leakage check needed them
    result_profile = Profile(
        rows=rows,
        columns=columns,
        sampled=sampled,
        sample_rows=size,
        seed=seed,
        memory_bytes=int(df.memory_usage(index=True, deep=False).sum()),
        duplicate_rows=built.duplicates,
        correlation_columns=correlation_columns,
        correlation_matrix=correlation_matrix,
        association_columns=tuple(c.name for c, _ in associated) if association_matrix else (),
        association_matrix=association_matrix,
        warnings=tuple(warnings),
        target=hint,
        thresholds={**limits.as_dict(), **FIXED_THRESHOLDS, **TARGET_THRESHOLDS},
    )
    if key is not None:
        _cache.put(key, result_profile)
    return result_profile
