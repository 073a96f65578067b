"""How long ``%load_ext jupyter_dsagent`` takes, against starting the IPython shell alone.

Each measurement is a fresh process, as in a new kernel. Prints the median of the
extension's own cost (load minus baseline) and the ratio of the two.
Run: .venv/bin/python benchmarks/bench_load_ext.py [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

SHELL = (
    "from IPython.core.interactiveshell import InteractiveShell\n"
    "shell = InteractiveShell.instance()\n"
)
LOAD = "shell.run_line_magic('load_ext', 'jupyter_dsagent')\n"
TIMED = "import time\nt0 = time.perf_counter()\n{body}print(time.perf_counter() - t0)\n"


def seconds(body: str, env: dict[str, str]) -> float:
    code = SHELL + TIMED.format(body=body) if body else TIMED.format(body=SHELL)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout.split()[-1])


def main(runs: int = 7) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DSAGENT_DATA_DIR": f"{tmp}/dsagent",
            "DSAGENT_LOG_LEVEL": "WARNING",
            "IPYTHONDIR": f"{tmp}/ipython",
        }
        baseline = statistics.median(seconds("", env) for _ in range(runs))
        started = time.perf_counter()
        load = statistics.median(seconds(LOAD, env) for _ in range(runs))
        print(f"IPython shell start (baseline): {baseline * 1000:7.1f} ms")
        print(f"%load_ext jupyter_dsagent:      {load * 1000:7.1f} ms  (target < 1000 ms)")
        print(f"ratio load_ext / shell start:   {load / baseline:7.2f}")
        print(f"({runs} fresh processes each; {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
