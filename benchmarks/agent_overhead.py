"""The agent's own cost per turn, and the prompt size of a typical first question.

A model that answers instantly (an in-process client replaying a fixed script) takes
the model's latency out, so what is timed is the agent: building messages, trimming
history, running tools (the profile included), checking and hashing suggestions,
neutralising the answer. Baseline in the same process: the same replies fed through
the client alone, with no agent around it.

Targets: overhead < 50 ms per turn; < 2 000 prompt tokens for "profile this and
suggest next steps" on a 100-column frame (counted with litellm's token counter on
what each request actually contained).

Run: .venv/bin/python benchmarks/agent_overhead.py [turns]
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from jupyter_dsagent.agent import Agent, ModelReply, Workspace
from jupyter_dsagent.config import DSAgent
from jupyter_dsagent.llm.tokens import count_tokens

QUESTION = "profile this and suggest next steps"


def wide_frame(rows: int = 5_000, columns: int = 100, seed: int = 0) -> pd.DataFrame:
    """100 columns of the usual kinds: numbers, categories, flags, dates, ids, text."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i in range(columns):
        kind = i % 6
        name = f"feature_{i:03d}"
        if kind == 0:
            data[name] = rng.normal(size=rows)
        elif kind == 1:
            data[name] = rng.integers(0, 1000, size=rows)
        elif kind == 2:
            data[name] = rng.choice(["north", "south", "east", "west"], size=rows)
        elif kind == 3:
            data[name] = rng.random(size=rows) < 0.3
        elif kind == 4:
            data[name] = pd.date_range("2024-01-01", periods=rows, freq="h")
        else:
            data[name] = [f"id-{j}" for j in rng.permutation(rows)]
    data["target"] = rng.integers(0, 2, size=rows)
    return pd.DataFrame(data)


class ReplayClient:
    """Answers from a fixed list, instantly; records what each request contained."""

    model = "gpt-4o-mini"

    def __init__(self, replies: Callable[[], list[ModelReply]]) -> None:
        self._make = replies
        self._replies: list[ModelReply] = []
        self.requests: list[dict[str, Any]] = []

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ModelReply:
        if not self._replies:
            self._replies = self._make()
        self.requests.append({"messages": json.loads(json.dumps(messages)), "tools": tools})
        reply = self._replies.pop(0)
        if on_delta is not None and reply.text:
            on_delta(reply.text)
        return reply

    def usage(self) -> dict[str, Any]:
        return {"rows": []}


def script() -> list[ModelReply]:
    suggestion = json.dumps(
        {"code": "df['feature_000'].hist()", "explanation": "Distribution of feature_000."}
    )
    return [
        ModelReply(
            tool_calls=[
                {
                    "id": "1",
                    "name": "profile_dataframe",
                    "arguments": '{"name": "df", "target": "target"}',
                }
            ]
        ),
        ModelReply(tool_calls=[{"id": "2", "name": "suggest_cell", "arguments": suggestion}]),
        ModelReply(
            text="Balanced target; no missing values.\n\n1. Plot feature_000\n"
            "2. Train a model on target"
        ),
    ]


def prompt_tokens(request: dict[str, Any]) -> int:
    text = json.dumps(request["messages"]) + json.dumps(request["tools"])
    return count_tokens(text)


def main(turns: int = 20) -> None:
    frame = wide_frame()
    settings = DSAgent(environ={})
    count_tokens("warm up the tokenizer")

    client = ReplayClient(script)
    agent = Agent(Workspace(namespace={"df": frame}), settings=settings, client=client)
    agent.ask(QUESTION)  # first turn: imports and caches
    first_turn_requests = list(client.requests)
    timings, cpu = [], []
    for _ in range(turns):
        agent.reset()
        started, started_cpu = time.perf_counter(), time.process_time()
        agent.ask(QUESTION)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)

    baseline_client = ReplayClient(script)
    baseline = []
    for _ in range(turns):
        started = time.perf_counter()
        for _reply in range(3):
            baseline_client.chat([{"role": "user", "content": QUESTION}], [])
        baseline.append((time.perf_counter() - started) * 1000)

    overhead = statistics.median(timings)
    print(f"frame: {frame.shape[0]} rows x {frame.shape[1]} columns")
    print(
        f"agent turn (3 model calls, profile + suggestion tools), median of {turns}: "
        f"{overhead:.1f} ms wall, {statistics.median(cpu):.1f} ms CPU  "
        f"(target < 50 ms: {'met' if overhead < 50 else 'NOT met'})"
    )
    print(
        f"baseline, the same replies without the agent: {statistics.median(baseline):.3f} ms; "
        f"ratio {overhead / max(statistics.median(baseline), 1e-3):.0f}x"
    )
    sizes = [prompt_tokens(request) for request in first_turn_requests]
    print(
        "prompt tokens per request of the first turn: "
        + ", ".join(str(size) for size in sizes)
        + f"; largest {max(sizes)} (target < 2000: {'met' if max(sizes) < 2000 else 'NOT met'})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
