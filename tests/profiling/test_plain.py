"""The text report a terminal shows: every column on one line, warnings named."""

from __future__ import annotations

import pandas as pd

from jupyter_dsagent.profiling import profile


def test_the_text_report_has_a_line_per_column_and_names_each_warning() -> None:
    frame = pd.DataFrame(
        {
            "price": [1.0, 2.5, None, 4.0],
            "city\nname": ["Köln", "Köln", "Paris", "Oslo"],
            "paid": ["yes", "no", "yes", "no"],
        }
    )
    report = profile(frame, target="paid", sample=False)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("Profile of 4 rows x 3 columns (every row)")
    [price] = [line for line in lines if line.startswith("price ")]
    assert "25.0%" in price and "1 … 4, mean 2.5" in price
    assert any(line.startswith("city name ") and "top 'Köln' (2)" in line for line in lines)
    for warning in report.warnings:
        assert f"{warning.message} [{warning.code}]" in text
    assert "Target 'paid': binary" in text


def test_repr_is_one_line_and_ipython_prints_the_report() -> None:
    from IPython.lib.pretty import pretty

    report = profile(pd.DataFrame({"x": range(10)}), sample=False)
    assert repr(report) == "<Profile 10 rows x 1 columns (exact), 0 warnings>"
    assert pretty(report) == str(report)
