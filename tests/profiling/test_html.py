"""The HTML table: no scripts, no external assets, every text escaped, themable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jupyter_dsagent.profiling import profile

HOSTILE = "<img src=x onerror=alert(1)>"


def test_html_escapes_names_and_values_and_loads_nothing() -> None:
    frame = pd.DataFrame({HOSTILE: [1.0, 2.5, 3.0, 7.0], "t": ["<b>", "<b>", "&", "x"]})
    html = profile(frame)._repr_html_()
    assert "<script" not in html and "http" not in html
    assert "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_numeric_columns_get_an_svg_sparkline_in_current_colour() -> None:
    frame = pd.DataFrame({"x": np.arange(100.0), "s": ["a"] * 100})
    html = profile(frame)._repr_html_()
    assert html.count("<svg") == 1
    assert 'fill="currentColor"' in html and "var(--jp-" in html
