"""Neutralise spreadsheet formulas in tables we write out (OWASP CSV injection, CWE-1236).

A cell such as ``=HYPERLINK(...)`` or ``@SUM(...)`` is inert in pandas but runs when
the exported file is opened in a spreadsheet. We never change data in memory; only
the copy that is about to be written gets a leading ``'``, which spreadsheets treat
as "this is text". Plain numbers such as ``-5`` or ``+3.2`` are left alone: they are
harmless and people expect them to stay numbers.

The same rule decides which cells every table validator counts as formula cells, so
the upload warning matches what an export escapes. The .xlsx validator, which runs
without pandas, imports this module too, so pandas is imported only to sanitise a frame.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMULA_LEAD",
    "FORMULA_PREFIXES",
    "NUMBER_BODY",
    "PLAIN_NUMBER",
    "is_formula_like",
    "sanitize_for_export",
]

#: First characters that make a spreadsheet evaluate a cell (OWASP's list).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

#: What may follow an optional sign in a plain number: digits with '.' or ',' as decimal
#: or grouping marks and an optional exponent. Such a cell can only ever be a number,
#: whatever the spreadsheet's locale. ASCII digits only.
NUMBER_BODY = r"[.,]?[0-9][0-9.,]*(?:[eE][+-]?[0-9]+)?"

#: The same rule as two patterns, for matching many cells at once (Arrow's RE2): a cell
#: is formula-like when it starts with ``FORMULA_LEAD`` and is not wholly a
#: ``PLAIN_NUMBER``. ``FORMULA_LEAD`` is one character of ``FORMULA_PREFIXES`` in hex
#: escapes, so that Python's re and RE2 read the class alike (no ranges, no raw tab or CR).
FORMULA_LEAD = "[" + "".join(f"\\x{ord(prefix):02x}" for prefix in FORMULA_PREFIXES) + "]"
PLAIN_NUMBER = rf"[+-]?{NUMBER_BODY}"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could run ``text`` as a formula (plain numbers are not)."""
    return text.startswith(FORMULA_PREFIXES) and _PLAIN_NUMBER.fullmatch(text) is None


def _escape(value: Any) -> Any:
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def _escape_label(label: Hashable) -> Hashable:
    if isinstance(label, tuple):  # MultiIndex columns
        return tuple(_escape(part) for part in label)
    return _escape(label)


def _escape_series(series: pd.Series) -> pd.Series:
    """Escape the string cells of one column, keeping its dtype and every other cell.

    Built cell by cell rather than with ``Series.map``, which re-infers the dtype and
    would turn an object column such as ``[None, 0]`` into floats.
    """
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = [_escape(c) for c in dtype.categories]
        if len(set(categories)) == len(categories):
            return series.cat.rename_categories(categories)
        series = series.astype(object)
    elif not (isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype)):
        return series
    values = [_escape(value) for value in series.to_numpy(dtype=object)]
    return pd.Series(values, index=series.index, name=series.name, dtype=series.dtype)


def sanitize_for_export(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose formula-like strings (cells, labels) start with ``'``.

    Numbers, dates and other non-string cells are untouched; ``df`` itself is never
    modified, because the data people analyse must stay exactly as they loaded it.
    """
    import pandas as pd

    out = df.copy()
    for position in range(out.shape[1]):
        out.isetitem(position, _escape_series(out.iloc[:, position]))
    out.columns = out.columns.map(_escape_label)
    if pd.api.types.is_object_dtype(out.index.dtype):
        out.index = out.index.map(_escape_label)
    return out
