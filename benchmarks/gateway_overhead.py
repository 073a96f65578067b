"""What the model gateway adds to a model call, and how it carries 20 streams at once.

A real ``jupyter server`` subprocess runs the gateway in front of the scripted
OpenAI-compatible model (``tests/scripted_llm.py``) on loopback. The baseline, measured
in the same run, is the same request sent straight to the scripted model.

1. Latency: ``calls`` plain completions, alternating gateway and direct, one client with
   keep-alive; prints each median and the added latency per call (target < 15 ms
   median). It covers everything on a call's path: Jupyter's HTTP handling and
   authentication, the rate limit, token counting, litellm's Router and the answer's
   conversion (no budget is set, so nothing is reserved; the charge and the audit
   record are written just after the answer). Then where the time goes: Jupyter alone
   (the model list both ways), and in this process litellm's Router alone and the
   gateway's library with it.
2. Throughput: ``streams`` streamed completions of ``words`` words each, 20 at a time;
   prints streams per second and chunks per second through the gateway and direct,
   and their ratio.

Run: .venv/bin/python benchmarks/gateway_overhead.py [calls] [streams] [words]
(defaults 200, 200, 50)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

# The live-server helper and the scripted model live with the tests; run from the root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.config import load_config
from jupyter_dsagent.llm import direct_service
from tests.scripted_llm import Reply, ScriptedLLM
from tests.server.live import LiveServer, live_server

CONCURRENCY = 20
FAKE_KEY = "sk-" + "benchmark" + "0" * 32
MODEL = "openai/gpt-4o-mini"


def request_body(stream: bool) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You suggest pandas code for a data scientist."},
            {"role": "user", "content": "Profile the sales table and suggest a first plot."},
        ],
        "stream": stream,
    }


def direct_body(stream: bool) -> dict[str, Any]:
    """What the gateway sends upstream, for a like-for-like baseline."""
    body = request_body(stream)
    body.update(model="gpt-4o-mini", temperature=0.2, max_tokens=2048)
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def settings(llm: ScriptedLLM) -> dict[str, str]:
    return {
        "DSAGENT_MODEL": MODEL,
        "DSAGENT_API_BASE": llm.url,
        "OPENAI_API_KEY": FAKE_KEY,
        "DSAGENT_RATE_LIMIT_PER_MINUTE": "100000",
        "DSAGENT_REQUESTS_PER_MINUTE_PER_USER": "1000000",
    }


def gateway_url(server: LiveServer) -> str:
    return f"http://127.0.0.1:{server.port}/dsagent/api/llm/v1/chat/completions"


def wait_until_ready(client: httpx.Client, server: LiveServer) -> None:
    """The first call waits for litellm's import in the server; a few more warm it up."""
    for _ in range(5):
        answer = client.post(gateway_url(server), json=request_body(False), timeout=120)
        answer.raise_for_status()


def latency(server: LiveServer, llm: ScriptedLLM, calls: int) -> dict[str, float]:
    """Median seconds per request: completions through the gateway and straight to the
    model, and the model list both ways (Jupyter's HTTP handling, without a model call)."""
    times: dict[str, list[float]] = {"through": [], "direct": [], "list": [], "list_direct": []}
    models_url = f"http://127.0.0.1:{server.port}/dsagent/api/llm/v1/models"
    with httpx.Client(headers=server.auth) as client, httpx.Client() as plain:
        wait_until_ready(client, server)
        for _ in range(calls):
            for name, send in (
                ("through", lambda: client.post(gateway_url(server), json=request_body(False))),
                (
                    "direct",
                    lambda: plain.post(f"{llm.url}/chat/completions", json=direct_body(False)),
                ),
                ("list", lambda: client.get(models_url)),
                ("list_direct", lambda: plain.get(f"{llm.url}/models")),
            ):
                started = time.perf_counter()
                send().raise_for_status()
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def in_process(llm: ScriptedLLM, calls: int, data_dir: Path) -> dict[str, float]:
    """Median seconds per call in this process: litellm's Router alone, and the gateway's
    library (policy, counting, accounting, litellm) without HTTP: where the time goes."""
    config = load_config(environ={"DSAGENT_DATA_DIR": str(data_dir), **settings(llm)})
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    service = direct_service(config, AuditLog(data_dir / "audit.sqlite"), environ=settings(llm))
    body = request_body(False)
    arguments = {**body, "temperature": 0.2, "max_tokens": 2048}
    del arguments["stream"]

    async def measure() -> dict[str, float]:
        router = service.router()
        times: dict[str, list[float]] = {"router": [], "library": []}
        for index in range(calls + 10):
            for name, call in (
                ("router", lambda: router.acompletion(**arguments)),
                ("library", lambda: service.acomplete(body, user="bench")),
            ):
                started = time.perf_counter()
                await call()
                if index >= 10:
                    times[name].append(time.perf_counter() - started)
        await service.aclose()
        return {name: statistics.median(values) for name, values in times.items()}

    return asyncio.run(measure())


async def stream_many(
    url: str, body: dict[str, Any], headers: dict[str, str], streams: int
) -> tuple[float, int]:
    """Seconds to finish ``streams`` streams, ``CONCURRENCY`` at a time, and chunks read."""
    slots = asyncio.Semaphore(CONCURRENCY)
    chunks = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal chunks
        async with slots, client.stream("POST", url, json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[len("data: ") :])
                    chunks += 1

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(streams)))
        return time.perf_counter() - started, chunks


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    streams = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    words = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    text = " ".join(f"word{i}" for i in range(words))
    with tempfile.TemporaryDirectory() as tmp, ScriptedLLM() as llm:
        llm.respond_with(lambda body: Reply(text=text))
        home = Path(tmp)
        with live_server(home, home / "data", settings(llm)) as server:
            medians = latency(server, llm, calls)
            through, direct = medians["through"], medians["direct"]
            print(f"plain completion, {calls} calls each way, median:")
            print(f"  direct to the model   {direct * 1000:8.2f} ms")
            print(f"  through the gateway   {through * 1000:8.2f} ms")
            print(
                f"  added by the gateway  {(through - direct) * 1000:8.2f} ms "
                f"(target < 15 ms; ratio {through / direct:.1f}x)"
            )
            print(
                "  of which Jupyter's HTTP handling and authentication (GET models, no "
                f"model call): {(medians['list'] - medians['list_direct']) * 1000:.2f} ms"
            )
            gateway_seconds, gateway_chunks = asyncio.run(
                stream_many(gateway_url(server), request_body(True), server.auth, streams)
            )
            direct_seconds, direct_chunks = asyncio.run(
                stream_many(f"{llm.url}/chat/completions", direct_body(True), {}, streams)
            )
        local = in_process(llm, calls, home / "in-process")
        print(f"in this process, {calls} calls each, median:")
        print(f"  litellm's Router alone                 {local['router'] * 1000:8.2f} ms")
        print(f"  the gateway's library (with the Router) {local['library'] * 1000:8.2f} ms")
        print(f"{streams} streams of {words} words, {CONCURRENCY} at a time:")
        for name, seconds, chunks in (
            ("direct to the model", direct_seconds, direct_chunks),
            ("through the gateway", gateway_seconds, gateway_chunks),
        ):
            print(
                f"  {name}   {streams / seconds:8.1f} streams/s  {chunks / seconds:10.0f} chunks/s"
            )
        print(f"  gateway / direct throughput: {direct_seconds / gateway_seconds:.2f}")


if __name__ == "__main__":
    main()
