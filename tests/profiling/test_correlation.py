"""The chunked Pearson matrix equals pandas' pairwise-complete ``corr``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from jupyter_dsagent.profiling import correlation
from jupyter_dsagent.profiling.correlation import pearson


@pytest.mark.parametrize("threads", [False, True])
@pytest.mark.parametrize("chunk", [7, 65_536])
def test_matches_pandas_with_missing_values_and_offsets(
    chunk: int, threads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(correlation, "CHUNK_ROWS", chunk)
    rng = np.random.default_rng(3)
    base = rng.normal(size=500)
    frame = pd.DataFrame(
        {
            0: base * 1e3 + 1.6e9,  # timestamp-like offset
            1: base + rng.normal(scale=0.5, size=500),
            2: rng.normal(size=500),
            3: np.full(500, 4.0),  # constant: undefined
        }
    )
    frame.iloc[rng.choice(500, 60, replace=False), 1] = np.nan
    frame.iloc[rng.choice(500, 60, replace=False), 2] = np.nan
    centres = [float(frame[c].mean()) for c in frame]
    with ThreadPoolExecutor(1) as pool:  # halves of the rows summed apart, then added
        ours = pearson(frame, list(frame.columns), centres, pool if threads else None)
    expected = frame.corr(min_periods=3).to_numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-9, equal_nan=True)
