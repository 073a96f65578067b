"""Code cells the offline planner suggests, written for the person's real names.

Every cell is self-contained (it imports what it uses), needs only pandas, numpy,
matplotlib and ``jupyter_dsagent``, and quotes every column name with ``repr`` so a
name with quotes, spaces or code in it stays a string. DataFrame names must be
identifiers (the planner only uses variables that are).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

__all__ = [
    "DISCRETE_MAX_VALUES",
    "MATRIX_MAX_COLUMNS",
    "MAX_GROUPS",
    "SCATTER_SAMPLE",
    "ColumnKind",
    "NumberStyle",
    "automl",
    "column_kind",
    "correlations",
    "dataframe_inventory",
    "describe_column",
    "list_uploads",
    "load_upload",
    "missing",
    "nullable_integers",
    "overview",
    "pip_install",
    "plot_distribution",
    "plot_relationship",
    "text_columns",
    "to_datetime",
    "to_numeric",
    "upload_variable",
]

ColumnKind = Literal["numeric", "discrete", "boolean", "categorical", "datetime", "datetime_text"]

#: Numeric columns with at most this many distinct values are plotted as categories.
DISCRETE_MAX_VALUES = 12
#: Categories beyond the most frequent this-many are left out of grouped plots and tables.
MAX_GROUPS = 15
#: Scatter plots of larger frames use a random sample of this many rows.
SCATTER_SAMPLE = 5_000
#: Largest correlation matrix shown whole; beyond it the strongest pairs are listed.
MATRIX_MAX_COLUMNS = 12
_HISTOGRAM_MAX_COLUMNS = 16
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_CATEGORY_LIKE = ("discrete", "boolean", "categorical")
_DATE_LIKE = ("datetime", "datetime_text")


def column_kind(series: Any) -> ColumnKind:
    """How a column is best summarised and plotted.

    ``discrete`` is a number column with few distinct values (plotted like a category);
    ``datetime_text`` is text holding ISO dates (converted with ``pd.to_datetime``).
    """
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "discrete" if series.nunique() <= DISCRETE_MAX_VALUES else "numeric"
    sample = series.dropna().head(20)
    if len(sample) and all(isinstance(v, str) and _ISO_DATE.match(v) for v in sample):
        return "datetime_text"
    return "categorical"


def _cell(*lines: str) -> str:
    return "\n".join(lines).strip("\n")


def _col(frame: str, column: Any) -> str:
    return f"{frame}[{column!r}]"


def _as_datetime(frame: str, column: Any, kind: ColumnKind) -> str:
    if kind == "datetime_text":
        return f'pd.to_datetime({_col(frame, column)}, format="ISO8601", errors="coerce")'
    return _col(frame, column)


# -- looking at data ---------------------------------------------------------------------


def overview(frame: str) -> str:
    """A profile of the whole frame: types, missing values, distributions, warnings."""
    return _cell("import jupyter_dsagent as dsa", "", f"dsa.profile({frame})")


def missing(frame: str, columns: Sequence[Any] = ()) -> str:
    """Missing values per column (only columns that have some), most first."""
    data = f"{frame}[{list(columns)!r}]" if columns else frame
    return _cell(
        "import pandas as pd",
        "",
        f"missing_counts = {data}.isna().sum()",
        'print(f"{int(missing_counts.sum())} missing cells in '
        f"{{int((missing_counts > 0).sum())}} of {{len(missing_counts)}} columns, "
        f'{{len({frame})}} rows")',
        "pd.DataFrame(",
        "    {",
        '        "missing": missing_counts,',
        f'        "share": (missing_counts / max(len({frame}), 1)).round(3),',
        "    }",
        ').query("missing > 0").sort_values("missing", ascending=False)',
    )


def describe_column(frame: str, column: Any, kind: ColumnKind) -> str:
    """Summary statistics for numbers and dates, value counts for categories."""
    series = _col(frame, column)
    if kind in ("numeric", "discrete"):
        return _cell(
            f"{series}.describe().to_frame({column!r}).T.assign(",
            f"    missing={series}.isna().sum(), distinct={series}.nunique()",
            ")",
        )
    if kind in _DATE_LIKE:
        return _cell(
            "import pandas as pd",
            "",
            f"{_as_datetime(frame, column, kind)}.describe().to_frame({column!r})",
        )
    return _cell(
        f'print(f"{{{series}.nunique()}} distinct values, {{{series}.isna().sum()}} missing")',
        f'{series}.value_counts(dropna=False).head(20).to_frame("count").assign(',
        f'    share=lambda counts: (counts["count"] / max(len({frame}), 1)).round(3)',
        ")",
    )


# -- plots -------------------------------------------------------------------------------


def _distribution_lines(frame: str, column: Any, kind: ColumnKind, ax: str) -> list[str]:
    series = _col(frame, column)
    title = f"Distribution of {column}"
    if kind == "numeric":
        return [
            f"{series}.dropna().plot.hist(bins=30, ax={ax})",
            f"{ax}.set_xlabel({str(column)!r})",
            f"{ax}.set_title({title!r})",
        ]
    if kind in _DATE_LIKE:
        return [
            f"{ax}.hist({_as_datetime(frame, column, kind)}.dropna(), bins=30)",
            f"{ax}.set_ylabel('rows')",
            f"{ax}.set_title({title!r})",
            f"{ax}.tick_params(axis='x', labelrotation=30)",
        ]
    if kind == "discrete":
        return [
            f"{series}.value_counts().sort_index().plot.bar(ax={ax})",
            f"{ax}.set_ylabel('rows')",
            f"{ax}.set_title({title!r})",
        ]
    return [
        f"{series}.value_counts().head(20).sort_values().plot.barh(ax={ax})",
        f"{ax}.set_xlabel('rows')",
        f"{ax}.set_title({(title + ' (20 most frequent values)')!r})",
    ]


def plot_distribution(
    frame: str, columns: Sequence[tuple[Any, ColumnKind]], numeric_columns: int = 0
) -> str:
    """A histogram per number column, a bar chart of counts per category.

    With no columns, histograms of the frame's first number columns
    (``numeric_columns`` says how many it has, for the figure size).
    """
    needs_pandas = any(kind == "datetime_text" for _, kind in columns)
    header = ["import matplotlib.pyplot as plt", *(["import pandas as pd"] if needs_pandas else [])]
    if not columns:
        shown = max(1, min(numeric_columns, _HISTOGRAM_MAX_COLUMNS))
        rows = (shown + 3) // 4
        return _cell(
            *header,
            "",
            f'{frame}.select_dtypes("number").iloc[:, :{shown}].hist(',
            f"    bins=30, figsize=(12, {2.5 * rows:g}), layout=({rows}, 4)",
            ")",
            "plt.tight_layout()",
            "plt.show()",
        )
    if len(columns) == 1:
        (column, kind), ax = columns[0], "ax"
        return _cell(
            *header,
            "",
            "fig, ax = plt.subplots(figsize=(8, 4.5))",
            *_distribution_lines(frame, column, kind, ax),
            "plt.tight_layout()",
            "plt.show()",
        )
    shown_columns = list(columns)[:6]
    lines = [
        *header,
        "",
        f"fig, axes = plt.subplots(1, {len(shown_columns)}, "
        f"figsize=({5 * len(shown_columns)}, 4.5), squeeze=False)",
    ]
    for index, (column, kind) in enumerate(shown_columns):
        lines += _distribution_lines(frame, column, kind, f"axes[0][{index}]")
    return _cell(*lines, "plt.tight_layout()", "plt.show()")


def plot_relationship(
    frame: str,
    x: tuple[Any, ColumnKind],
    y: tuple[Any, ColumnKind],
    *,
    rows: int,
    distinct: tuple[int, int] = (0, 0),
) -> str:
    """Scatter (number vs number), box plot (category vs number), crosstab (categories).

    ``rows`` decides whether a scatter plot samples; ``distinct`` (distinct values of
    x and y) decides whether a crosstab keeps only the most frequent categories.
    """
    (x_name, x_kind), (y_name, y_kind) = x, y
    x_category, y_category = x_kind in _CATEGORY_LIKE, y_kind in _CATEGORY_LIKE
    if x_category and y_category:
        return _crosstab(frame, x_name, y_name, distinct)
    if x_kind in _DATE_LIKE or y_kind in _DATE_LIKE:
        return _over_time(frame, x, y)
    if x_category or y_category:
        group, value = (x_name, y_name) if x_category else (y_name, x_name)
        return _boxplot(frame, group, value)
    data = f"{frame}.sample({SCATTER_SAMPLE}, random_state=0)" if rows > SCATTER_SAMPLE else frame
    title = f"{y_name} against {x_name}" + (
        f" ({SCATTER_SAMPLE:,} sampled rows)" if rows > SCATTER_SAMPLE else ""
    )
    return _cell(
        "import matplotlib.pyplot as plt",
        "",
        "fig, ax = plt.subplots(figsize=(7, 5))",
        f"{data}.plot.scatter(x={x_name!r}, y={y_name!r}, s=10, alpha=0.4, ax=ax)",
        f"ax.set_title({title!r})",
        "plt.tight_layout()",
        "plt.show()",
    )


def _boxplot(frame: str, group: Any, value: Any) -> str:
    groups = _col(frame, group)
    title = f"{value} by {group}"
    return _cell(
        "import matplotlib.pyplot as plt",
        "",
        f"top_groups = {groups}.value_counts().index[:{MAX_GROUPS}]",
        "fig, ax = plt.subplots(figsize=(8, 5))",
        f"{frame}[{groups}.isin(top_groups)].boxplot(",
        f"    column={value!r}, by={group!r}, ax=ax, rot=45",
        ")",
        f"ax.set_title({title!r})",
        'fig.suptitle("")',
        "plt.tight_layout()",
        "plt.show()",
    )


def _crosstab(frame: str, rows: Any, columns: Any, distinct: tuple[int, int]) -> str:
    def limited(column: Any, count: int) -> str:
        series = _col(frame, column)
        if count <= MAX_GROUPS:
            return series
        return (
            f"{series}.where({series}.isin({series}.value_counts().index[:{MAX_GROUPS}]), "
            '"(other)")'
        )

    return _cell(
        "import pandas as pd",
        "",
        f"pd.crosstab({limited(rows, distinct[0])}, {limited(columns, distinct[1])}, margins=True)",
    )


def _over_time(frame: str, x: tuple[Any, ColumnKind], y: tuple[Any, ColumnKind]) -> str:
    time, other_column = (x, y) if x[1] in _DATE_LIKE else (y, x)
    (time_name, time_kind), (other_name, other_kind) = time, other_column
    when = _as_datetime(frame, time_name, time_kind)
    if other_kind in _CATEGORY_LIKE:
        return _cell(
            "import pandas as pd",
            "",
            f'pd.crosstab({when}.dt.to_period("M"), {_col(frame, other_name)})',
        )
    values = (
        _as_datetime(frame, other_name, other_kind)
        if other_kind in _DATE_LIKE
        else _col(frame, other_name)
    )
    title = f"{other_name} over {time_name}"
    return _cell(
        "import matplotlib.pyplot as plt",
        "import pandas as pd",
        "",
        "fig, ax = plt.subplots(figsize=(9, 4.5))",
        f"ax.scatter({when}, {values}, s=8, alpha=0.4)",
        f"ax.set_xlabel({str(time_name)!r})",
        f"ax.set_ylabel({str(other_name)!r})",
        f"ax.set_title({title!r})",
        "fig.autofmt_xdate()",
        "plt.tight_layout()",
        "plt.show()",
    )


# -- correlations -----------------------------------------------------------------------


def correlations(
    frame: str,
    columns: Sequence[tuple[Any, ColumnKind]] = (),
    *,
    numeric_columns: int,
    groups: int = 0,
) -> str:
    """Pearson correlations between number columns.

    No column: the whole matrix when small, else the strongest pairs. One number
    column: every other number column's correlation with it. One category: the mean
    of each number column per category (``groups`` distinct values, most frequent
    kept). Several number columns: their matrix.
    """
    numbers = [name for name, kind in columns if kind in ("numeric", "discrete")]
    if len(numbers) >= 2:
        return _cell(f"{frame}[{numbers!r}].corr().round(3)")
    if numbers:
        (column,) = numbers
        label = f"correlation with {column}"
        return _cell(
            f'{frame}.select_dtypes("number").corr()[{column!r}].drop({column!r}).dropna()'
            f".sort_values(key=abs, ascending=False).to_frame({label!r}).round(3)"
        )
    if columns:
        column = columns[0][0]
        data = frame
        if groups > MAX_GROUPS:
            data = (
                f"{frame}[{_col(frame, column)}.isin("
                f"{_col(frame, column)}.value_counts().index[:{MAX_GROUPS}])]"
            )
        return _cell(f"{data}.groupby({column!r}).mean(numeric_only=True).T.round(3)")
    if numeric_columns <= MATRIX_MAX_COLUMNS:
        return _cell(f'{frame}.select_dtypes("number").corr().round(2)')
    return _cell(
        "import numpy as np",
        "import pandas as pd",
        "",
        f'correlation_matrix = {frame}.select_dtypes("number").corr()',
        "upper_rows, upper_columns = np.triu_indices(len(correlation_matrix), k=1)",
        "pd.DataFrame(",
        "    {",
        '        "column": correlation_matrix.index[upper_rows],',
        '        "other": correlation_matrix.columns[upper_columns],',
        '        "correlation": correlation_matrix.to_numpy()[upper_rows, upper_columns],',
        "    }",
        ').dropna().assign(strength=lambda pairs: pairs["correlation"].abs()).sort_values(',
        '    "strength", ascending=False',
        ").head(20).round(3)",
    )


# -- AutoML and uploads -------------------------------------------------------------------


def automl(frame: str, target: Any, time_limit: int) -> str:
    """A time-limited AutoML run on the rows that have a target, then its scores."""
    return _cell(
        "import jupyter_dsagent as dsa",
        "",
        "automl_run = dsa.automl(",
        f"    {frame}.dropna(subset=[{target!r}]), target={target!r}, time_limit={time_limit}",
        ")",
        "automl_run.wait()",
        "for note in automl_run.result.notes:  # sampling, cut-offs, suspected leakage",
        "    print('Note:', note)",
        "print(automl_run.result.metrics)",
        "automl_run.result.leaderboard",
    )


def upload_variable(name: str, kind: str = "csv") -> str:
    """A variable name for a loaded upload: ``df_sales`` for ``sales.csv``."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = re.findall(r"[a-z0-9]+", stem.casefold())
    base = "_".join(words)[:40].strip("_")
    prefix = "img" if kind == "image" else "df"
    return f"{prefix}_{base}" if base else f"{prefix}_upload"


def load_upload(reference: str, variable: str, kind: str = "csv") -> str:
    """Load an upload (by id or name) through the validating loader and show it."""
    shown = variable if kind == "image" else f"{variable}.head()"
    return _cell(
        "import jupyter_dsagent as dsa",
        "",
        f"{variable} = dsa.load({reference!r})",
        shown,
    )


def list_uploads() -> str:
    """A table of the uploads, archive members included."""
    return _cell(
        "import pandas as pd",
        "import jupyter_dsagent as dsa",
        "",
        "upload_records = [",
        "    member for record in dsa.uploads() for member in (record, *record.children)",
        "]",
        "pd.DataFrame(",
        "    [(u.id, u.name, u.kind, u.size, u.created) for u in upload_records],",
        '    columns=["id", "name", "kind", "bytes", "created"],',
        ")",
    )


def dataframe_inventory() -> str:
    """A table of the DataFrames defined in the notebook and their shapes."""
    return _cell(
        "import pandas as pd",
        "",
        "pd.DataFrame(",
        "    [",
        "        (name, *value.shape)",
        "        for name, value in list(globals().items())",
        '        if isinstance(value, pd.DataFrame) and not name.startswith("_")',
        "    ],",
        '    columns=["dataframe", "rows", "columns"],',
        ")",
    )


# -- fixes for known errors ------------------------------------------------------------------

NumberStyle = Literal["plain", "decimal_comma", "symbols"]


def to_numeric(frame: str, column: Any, style: NumberStyle = "plain") -> str:
    """Convert a text column to numbers; what cannot be read becomes NaN and is shown."""
    series = _col(frame, column)
    text = series
    if style == "decimal_comma":
        text = (
            f'{series}.astype(str).str.replace(".", "", regex=False)'
            '.str.replace(",", ".", regex=False)'
        )
    elif style == "symbols":
        text = f'{series}.astype(str).str.replace(r"[^0-9.eE+\\-]", "", regex=True)'
    return _cell(
        "import pandas as pd",
        "",
        f'as_numbers = pd.to_numeric({text}, errors="coerce")',
        f"not_numbers = {series}[as_numbers.isna() & {series}.notna()]",
        'print(f"{len(not_numbers)} values could not be read as numbers, e.g. '
        '{not_numbers.unique()[:5].tolist()}")',
        f"{series} = as_numbers",
        f"{series}.describe()",
    )


def to_datetime(frame: str, column: Any) -> str:
    """Convert a text column of dates to datetimes; unreadable values become NaT."""
    series = _col(frame, column)
    return _cell(
        "import pandas as pd",
        "",
        f'{series} = pd.to_datetime({series}, format="mixed", errors="coerce")',
        f"{series}.describe()",
    )


def nullable_integers(frame: str, column: Any) -> str:
    """Whole numbers that may be missing: pandas' nullable ``Int64``."""
    series = _col(frame, column)
    return _cell(
        "import numpy as np",
        "import pandas as pd",
        "",
        f'{series} = pd.to_numeric({series}, errors="coerce").replace([np.inf, -np.inf], np.nan)'
        '.round().astype("Int64")',
        f"{series}.describe()",
    )


def text_columns(frame: str) -> str:
    """Text columns and the share of their values that read as numbers."""
    return _cell(
        "import pandas as pd",
        "",
        f'text_data = {frame}.select_dtypes(include=["object", "string"])',
        "pd.DataFrame(",
        "    {",
        '        "dtype": text_data.dtypes.astype(str),',
        '        "reads as number": [',
        '            pd.to_numeric(text_data[c], errors="coerce").notna().mean().round(3)',
        "            for c in text_data.columns",
        "        ],",
        '        "example": [next(iter(text_data[c].dropna()), None) for c in text_data.columns],',
        "    }",
        ")",
    )


def pip_install(package: str) -> str:
    """Install a package into the kernel's environment (flagged: network and installer)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,100}", package):
        raise ValueError(f"not a package name: {package!r}")
    return f"%pip install {package}"
