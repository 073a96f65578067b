"""``Profile._repr_html_``: a compact table with inline SVG histogram sparklines
(numbers, durations and dates over time).

No scripts and no external assets; colours come from ``currentColor`` and JupyterLab's
CSS variables (with fallbacks), so the table reads in light and dark themes. Every piece
of text is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from jupyter_dsagent.profiling.model import ColumnProfile, Histogram, Profile

__all__ = ["HTML_MAX_COLUMNS", "render_html"]

HTML_MAX_COLUMNS = 200
_WIDTH, _HEIGHT = 80, 18
_CELL = "padding:2px 8px;text-align:left;border-bottom:1px solid var(--jp-border-color2, #8884);"


def _sparkline(histogram: Histogram | None) -> str:
    if histogram is None or not histogram.counts:
        return ""
    peak = max(histogram.counts) or 1
    width = _WIDTH / len(histogram.counts)
    bars = []
    for i, count in enumerate(histogram.counts):
        height = _HEIGHT * count / peak
        bars.append(
            f'<rect x="{i * width:.2f}" y="{_HEIGHT - height:.2f}"'
            f' width="{max(width - 1, 0.5):.2f}" height="{height:.2f}"/>'
        )
    return (
        f'<svg width="{_WIDTH}" height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}"'
        ' role="img" aria-label="histogram" fill="currentColor" style="opacity:0.7">'
        + "".join(bars)
        + "</svg>"
    )


def _stats(column: ColumnProfile) -> str:
    numeric = column.numeric
    if numeric is not None and numeric.min is not None:
        mean = "n/a" if numeric.mean is None else f"{numeric.mean:.4g}"
        return f"{numeric.min:.4g} … {numeric.max:.4g} (mean {mean})"
    if column.datetime_min is not None:
        return f"{column.datetime_min} … {column.datetime_max}"
    if column.top_values:
        value, count = column.top_values[0]
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"top: {shown} ({count})"
    return ""


def render_html(profile: Profile) -> str:
    """The HTML table of ``profile`` (first ``HTML_MAX_COLUMNS`` columns)."""
    sampled = f", sampled {profile.sample_rows} rows" if profile.sampled else ""
    caption = (
        f"{profile.rows} rows x {profile.n_columns} columns{sampled};"
        f" {profile.duplicate_rows} duplicate rows; {len(profile.warnings)} warnings"
    )
    if profile.target is not None:
        caption += f"; target {profile.target.column}: {profile.target.task}"
    by_column: dict[int, list[str]] = {}
    for warning in profile.warnings:
        if warning.position is not None:
            by_column.setdefault(warning.position, []).append(warning.code)
    head = "".join(
        f'<th style="{_CELL}">{h}</th>'
        for h in (
            "column",
            "dtype",
            "type",
            "missing",
            "distinct",
            "summary",
            "histogram",
            "warnings",
        )
    )
    rows = []
    for column in profile.columns[:HTML_MAX_COLUMNS]:
        numeric = column.numeric
        histogram = numeric.histogram if numeric is not None else column.datetime_histogram
        cells = (
            escape(column.name),
            escape(column.dtype),
            escape(column.semantic_type),
            f"{column.missing} ({column.missing_share:.0%})",
            f"{column.distinct}" if column.values_exact else f"~{column.distinct}",
            escape(_stats(column)),
            _sparkline(histogram),
            escape(", ".join(by_column.get(column.position, []))),
        )
        rows.append("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in cells) + "</tr>")
    left = profile.n_columns - HTML_MAX_COLUMNS
    if left > 0:
        rows.append(f'<tr><td colspan="8" style="{_CELL}">… {left} more columns</td></tr>')
    return (
        '<div class="dsagent-profile" style="color:var(--jp-ui-font-color1, currentColor);'
        'font-size:var(--jp-ui-font-size1, 12px)">'
        f'<table style="border-collapse:collapse"><caption style="text-align:left">'
        f"{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
