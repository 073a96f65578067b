"""The profile as plain text, for terminals (IPython without a notebook) and ``print``.

The notebook shows the HTML report; a terminal gets the same facts as a fixed-width
table: one line per column, then the warnings and the target hint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_dsagent.profiling.model import ColumnProfile, Profile

__all__ = ["render_text"]

#: Widest a name or a shown value gets before it is cut with an ellipsis.
NAME_WIDTH = 24
VALUE_WIDTH = 40


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())  # no newlines or tabs from the data in the table
    return text if len(text) <= width else text[: width - 1] + "…"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _column_summary(column: ColumnProfile) -> str:
    if column.numeric is not None:
        stats = column.numeric
        return f"{_number(stats.min)} … {_number(stats.max)}, mean {_number(stats.mean)}"
    if column.datetime_min is not None:
        return f"{column.datetime_min} … {column.datetime_max}"
    if column.top_values:
        value, count = column.top_values[0]
        return f"top {_cut(repr(value), VALUE_WIDTH - 12)} ({count:,})"
    return ""


def render_text(profile: Profile) -> str:
    """A fixed-width report: header, a line per column, warnings, target hint."""
    how = f"sample of {profile.sample_rows:,} rows" if profile.sampled else "every row"
    lines = [
        f"Profile of {profile.rows:,} rows x {profile.n_columns} columns ({how}); "
        f"{profile.duplicate_rows:,} duplicate rows, {profile.memory_bytes / 1e6:,.1f} MB",
        "",
        f"{'column':<{NAME_WIDTH}}  {'type':<26}  {'missing':>8}  {'distinct':>9}  summary",
    ]
    for column in profile.columns:
        distinct = f"{column.distinct:,}" + ("" if column.values_exact else "~")
        lines.append(
            f"{_cut(column.name, NAME_WIDTH):<{NAME_WIDTH}}  {_cut(column.semantic_type, 26):<26}"
            f"  {column.missing_share:>8.1%}  {distinct:>9}  {_column_summary(column)}"
        )
    if profile.warnings:
        lines += ["", "Warnings:"]
        lines += [
            f"  - {_cut(w.column, NAME_WIDTH) + ': ' if w.column is not None else ''}"
            f"{w.message} [{w.code}]"
            for w in profile.warnings
        ]
    if profile.target is not None:
        hint = profile.target
        lines += ["", f"Target {hint.column!r}: {hint.task or 'nothing to learn'} ({hint.reason})"]
        if hint.leakage_candidates:
            lines.append(f"  possible leakage: {', '.join(hint.leakage_candidates)}")
    return "\n".join(lines)
