"""``profile(df)``: sample, profile every column, then the frame-wide findings."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from jupyter_dsagent.exceptions import BadRequest, NotFoundError
from jupyter_dsagent.profiling.cache import ProfileCache, fingerprint
from jupyter_dsagent.profiling.columns import profile_column
from jupyter_dsagent.profiling.correlation import pearson
from jupyter_dsagent.profiling.model import ColumnProfile, Profile, ProfileWarning
from jupyter_dsagent.profiling.target import target_hint

__all__ = ["CORRELATION_MAX_COLUMNS", "clear_cache", "profile"]

#: Pearson correlations are computed between the first this-many numeric columns.
CORRELATION_MAX_COLUMNS = 50
_HASH_MULTIPLIER = np.uint64(0x100000001B3)  # the 64-bit FNV prime
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


def _column_hash(column: pd.Series) -> np.ndarray:
    try:
        hashed = pd.util.hash_pandas_object(column, index=False, categorize=False)
    except (TypeError, ValueError):  # cells hash_pandas_object cannot handle: hash text
        hashed = pd.util.hash_pandas_object(column.astype(str), index=False, categorize=False)
    return np.asarray(hashed.to_numpy(), dtype="uint64")


def _duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows equal to an earlier row, by a 64-bit hash of each row built column by column
    (memory: a few arrays of one uint64 per row, not one per cell)."""
    if frame.shape[0] < 2 or frame.shape[1] == 0:
        return 0
    rows = np.zeros(frame.shape[0], dtype="uint64")
    for position in range(frame.shape[1]):
        rows *= _HASH_MULTIPLIER  # wraps around modulo 2**64, as intended
        rows ^= _column_hash(frame[position])
    rows.sort()  # sorting in place needs no hashtable: equal hashes become neighbours
    return int(np.count_nonzero(rows[1:] == rows[:-1]))


def _correlations(
    part: pd.DataFrame, columns: tuple[ColumnProfile, ...]
) -> tuple[tuple[str, ...], tuple[tuple[float | None, ...], ...]]:
    chosen = [
        c
        for c in columns
        if c.semantic_type in _CORRELATED
        and c.numeric is not None
        and not c.dtype.startswith("timedelta")
    ][:CORRELATION_MAX_COLUMNS]
    if len(chosen) < 2 or len(part) < 3:
        return (), ()
    centres = [c.numeric.mean if c.numeric.mean is not None else 0.0 for c in chosen if c.numeric]
    corr = pearson(part, [c.position for c in chosen], centres)
    rounded = tuple(
        tuple(round(float(v), 4) if np.isfinite(v) else None for v in row) for row in corr
    )
    return tuple(c.name for c in chosen), rounded


def profile(
    df: pd.DataFrame | pd.Series,
    *,
    target: Hashable | None = None,
    sample: int | bool | None = None,
    sample_threshold: int = 100_000,
    seed: int = 0,
    use_cache: bool = True,
) -> Profile:
    """Profile a DataFrame: per-column statistics, frame findings and warnings.

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
        ``None`` samples ``sample_threshold`` rows when the frame is longer, ``False``
        never samples, an int samples that many rows. Sampling is uniform without
        replacement, seeded by ``seed``. Row and missing counts stay exact.
    sample_threshold : int
        Row count above which ``sample=None`` samples (``DSAgent.sample_threshold_rows``).
    seed : int
        Seed of the sample.
    use_cache : bool
        Return the cached profile of an unchanged frame (see ``profiling.cache`` for what
        the fingerprint can miss).

    Returns
    -------
    Profile
    """
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise BadRequest(f"profile() takes a pandas DataFrame, not {type(df).__name__}")
    rows, width = df.shape
    size = _sample_size(rows, sample, sample_threshold)
    key = None
    if use_cache:
        key = (fingerprint(df), repr(target), size, seed)
        cached = _cache.get(key)
        if cached is not None:
            return cached
    names = [str(label) for label in df.columns]
    target_at = None if target is None else _target_position(df.columns, names, target)
    frame = df.copy(deep=False)
    frame.columns = pd.RangeIndex(width)
    sampled = size < rows
    part = frame
    if sampled:
        rng = np.random.default_rng(seed)
        part = frame.iloc[np.sort(rng.choice(rows, size=size, replace=False))]
    profiles: list[ColumnProfile] = []
    warnings: list[ProfileWarning] = []
    for position in range(width):
        column, found = profile_column(
            frame[position],
            part[position],
            position=position,
            name=names[position],
            sampled=sampled,
        )
        profiles.append(column)
        warnings += found
    columns = tuple(profiles)
    duplicates = _duplicate_rows(frame)
    if duplicates:
        warnings.append(
            ProfileWarning("duplicate_rows", f"{duplicates} rows repeat an earlier row")
        )
    hint = None
    if target_at is not None:
        hint, found = target_hint(part, columns, target_at)
        warnings += found
    correlation_columns, correlation_matrix = _correlations(part, columns)
    result = Profile(
        rows=rows,
        columns=columns,
        sampled=sampled,
        sample_rows=size,
        seed=seed,
        memory_bytes=int(df.memory_usage(index=True, deep=False).sum()),
        duplicate_rows=duplicates,
        correlation_columns=correlation_columns,
        correlation_matrix=correlation_matrix,
        warnings=tuple(warnings),
        target=hint,
    )
    if key is not None:
        _cache.put(key, result)
    return result
