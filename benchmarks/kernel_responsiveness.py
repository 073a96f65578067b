"""How long a small cell takes while an AutoML run trains in the background.

A real kernel runs `%dsagent automl` (engine sklearn, then autogluon); while each run
is going, `1 + 1` is executed repeatedly and its round trip timed (execute request to
idle). Baseline in the same kernel: the same cell before any run started.

Target: under 100 ms while a run progresses.
Run: .venv/bin/python benchmarks/kernel_responsiveness.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from jupyter_client.manager import start_new_kernel

SETUP = """\
%load_ext jupyter_dsagent
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
df = pd.DataFrame(rng.normal(size=(20000, 12)), columns=[f"x{i}" for i in range(12)])
df["y"] = (df["x0"] + rng.normal(size=len(df)) > 0).astype(int)
"""


def round_trip_ms(client: object, code: str = "1 + 1") -> float:
    started = time.perf_counter()
    client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)  # type: ignore[attr-defined]
    return (time.perf_counter() - started) * 1000


def sample(client: object, seconds: float) -> list[float]:
    timings = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        timings.append(round_trip_ms(client))
        time.sleep(0.2)
    return timings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DSAGENT_DATA_DIR"] = f"{tmp}/dsagent"
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
        try:
            client.execute_interactive(SETUP, timeout=120, output_hook=lambda msg: None)
            idle = [round_trip_ms(client) for _ in range(30)]
            print(f"idle kernel: 1 + 1 median {statistics.median(idle):.1f} ms")
            for engine in ("sklearn", "autogluon"):
                round_trip_ms(client, f"%dsagent automl df --target y --time 30 --engine {engine}")
                busy = sample(client, 20)
                median, worst = statistics.median(busy), max(busy)
                ratio = median / statistics.median(idle)
                verdict = "met" if median < 100 else "NOT met"
                print(
                    f"during a {engine} run: 1 + 1 median {median:.1f} ms, max {worst:.1f} ms "
                    f"over {len(busy)} cells; ratio to idle {ratio:.1f}x "
                    f"(target < 100 ms: {verdict})"
                )
                client.execute_interactive("run.wait(120)", timeout=180, output_hook=lambda m: None)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
