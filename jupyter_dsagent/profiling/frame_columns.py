"""Every column's profile, built two at a time, and what the frame findings take from them.

Columns are built in threads: numpy's sorts and counts release the GIL, so two columns
use two cores. Text columns go first, because hashing text holds the GIL for long: a
long text column started last would finish alone. Results are taken in as they come,
in any order: the duplicate-row hash does not depend on the order of columns, while the
association matrix takes the *first* ``profile_association_max_columns`` qualifying
columns by position, so those are committed in position order.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from jupyter_dsagent.profiling.columns import ColumnResult, build_column
from jupyter_dsagent.profiling.model import ColumnProfile, ProfileWarning
from jupyter_dsagent.profiling.rowhash import RowHasher
from jupyter_dsagent.profiling.threads import THREADS
from jupyter_dsagent.profiling.thresholds import Thresholds
from jupyter_dsagent.profiling.values import CODES_MAX_LEVELS

__all__ = ["ASSOCIATED_TYPES", "FrameColumns", "build_columns"]

#: Semantic types whose columns (with few distinct values) enter the association matrix.
ASSOCIATED_TYPES = ("categorical", "boolean", "integer-coded categorical")


@dataclass
class FrameColumns:
    """The column profiles by position, and what the frame findings need from them."""

    profiles: tuple[ColumnProfile, ...]
    warnings: list[ProfileWarning]
    #: The first qualifying columns by position, with their per-row codes.
    associated: list[tuple[ColumnProfile, np.ndarray]]
    #: Per-row codes counting made, by position (for the target's leakage check).
    known_codes: dict[int, np.ndarray]
    duplicates: int


class _Gatherer:
    """Takes in built columns in any order."""

    def __init__(self, width: int, rows: int, most_associated: int, keep_codes: bool) -> None:
        self.profiles: list[ColumnProfile | None] = [None] * width
        self.warnings: list[list[ProfileWarning]] = [[] for _ in range(width)]
        self.associated: list[tuple[ColumnProfile, np.ndarray]] = []
        self.known_codes: dict[int, np.ndarray] = {}
        self._rows = rows
        self._most_associated = most_associated
        self._keep_codes = keep_codes
        self._hasher = RowHasher(rows) if rows > 1 and width else None
        # Built columns waiting for the columns before them, as association candidates.
        self._waiting: dict[int, tuple[ColumnProfile, np.ndarray] | None] = {}
        self._next = 0

    def association_room(self) -> bool:
        """Whether a column not yet built could still join the association matrix."""
        return len(self.associated) < self._most_associated

    def add(self, result: ColumnResult) -> None:
        column, codes = result.profile, result.part_codes
        position = column.position
        if self._hasher is not None:
            if column.values_exact and column.missing == 0 and column.distinct == self._rows:
                self._hasher = None  # rows that differ in one column are never duplicates
            else:
                self._hasher.add(result.row_key)
        self.profiles[position] = column
        self.warnings[position] = result.warnings
        if codes is not None and self._keep_codes:
            self.known_codes[position] = codes
        candidate = (
            codes is not None
            and column.distinct <= CODES_MAX_LEVELS
            and column.semantic_type in ASSOCIATED_TYPES
        )
        self._waiting[position] = (column, codes) if candidate and codes is not None else None
        while self._next in self._waiting:
            entry = self._waiting.pop(self._next)
            self._next += 1
            if entry is not None and self.association_room():
                self.associated.append(entry)

    def result(self) -> FrameColumns:
        duplicates = self._hasher.duplicates() if self._hasher is not None else 0
        self._hasher = None
        profiles = tuple(p for p in self.profiles if p is not None)
        warnings = [w for found in self.warnings for w in found]
        return FrameColumns(profiles, warnings, self.associated, self.known_codes, duplicates)


def _text_first(frame: pd.DataFrame) -> list[int]:
    def slow(dtype: Any) -> bool:
        return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)

    dtypes = list(frame.dtypes)
    return sorted(range(len(dtypes)), key=lambda p: not slow(dtypes[p]))


def build_columns(
    frame: pd.DataFrame,
    take: np.ndarray | None,
    names: list[str],
    *,
    pool: Executor,
    limits: Thresholds,
    exact: bool,
    leak_levels: int,
    rows: int,
) -> FrameColumns:
    """Profile every column of ``frame`` (labelled by position) on ``pool``.

    ``leak_levels``: also keep the per-row codes of columns with up to this many
    distinct values (the target's leakage check reuses them); 0 without a target.
    """
    gatherer = _Gatherer(
        frame.shape[1], rows, limits.profile_association_max_columns, keep_codes=leak_levels > 0
    )
    running: set[Future[ColumnResult]] = set()

    def take_in(done: set[Future[ColumnResult]]) -> None:
        for future in done:
            running.discard(future)
            gatherer.add(future.result())

    for position in _text_first(frame):
        while len(running) >= THREADS:
            take_in(wait(running, return_when=FIRST_COMPLETED).done)
        # Codes for the association are kept while the matrix has room; a column that
        # turns out to come after the last one taken has its codes dropped.
        levels = max(CODES_MAX_LEVELS if gatherer.association_room() else 0, leak_levels)
        future = pool.submit(
            build_column,
            frame[position],
            take,
            position=position,
            name=names[position],
            limits=limits,
            exact=exact,
            codes_levels=levels,
        )
        running.add(future)
        done = {f for f in running if f.done()}
        if done:
            take_in(done)
    take_in(set(running))
    return gatherer.result()
