"""The gateway's overhead: many concurrent calls to a slow local server, next to raw clients.

Run: python tests/benchmarks/bench_gateway.py [--calls 1000] [--concurrency 50] [--runs 1]
[--only gateway,gateway_async] [--profile]

A real OpenAI-compatible server (tests/support/openai_server.py) answers every request after
--latency-ms (100 by default) in a process of its own, so its CPU is not charged to the client.
With 1,000 calls at concurrency 50 the ideal wall time is 1000 / 50 x 0.1 s = 2.0 s. Each
variant runs in a fresh child process of this script against a fresh server, warms up first
(imports, connection pools, litellm's first call), then times the calls:

- raw_http: aiohttp POSTs of the same chat body (litellm's own transport); raw_httpx: the same
  with httpx.AsyncClient, which is several times slower at this concurrency;
- raw_litellm: `litellm.acompletion` with retries off;
- gateway: `Gateway.complete` auditing every call to a temporary database, the recorder flushed
  inside the timed region so that every row is on disk when the clock stops; each call returns
  only once its row is committed (durability "durable", the default: group commit);
- gateway_async: the same with durability "async" (a call returns once its row is queued), so
  `durable_vs_async` is what waiting for the commit costs;
- gateway_tools: durable gateway calls that send two tool definitions and get a tool call back
  (OpenAI's wire shape), so the tool calls' parsing, sealing and search indexing are timed too;
- logging: N `AuditRecorder.record` calls of a realistic row, then a flush: the whole cost per
  call, and the caller's share (until record() returns, the rest happens in the writer thread).

Prints JSON: {"ideal_s", "raw_http_s", "raw_http_x_ideal", "raw_litellm_s",
"raw_litellm_x_ideal", "gateway_s", "gateway_x_ideal", "gateway_vs_litellm",
"cpu_ms_per_call" (per variant: CPU of all the client's threads per call, which is what sets
the pace once the server is fast enough), "logging_ms_per_call", "logging_caller_ms_per_call",
"durability" (durable and async wall times, median of the rounds, and their ratio),
"calls", "concurrency", "rows_written", ...},
the best of --runs rounds for each variant (rounds alternate the variants), except the
durability figure, a median; every gateway run must have written exactly one audit row per
call. --only runs some variants (the report then holds what they measure).
With --profile, the timed region of raw_litellm and gateway also runs under cProfile and the
top functions by own time are written to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import llmbench  # noqa: F401  # the offline environment, before any child imports litellm

if TYPE_CHECKING:
    from llmbench.store.db import Store

ROOT = Path(__file__).resolve().parents[2]
MODEL = "openai/bench"
API_KEY = "sk-bench-0123456789abcdefghijklmnop"
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for a benchmark."},
    {"role": "user", "content": "Summarise the benefits of connection pooling in two lines."},
]
VARIANTS = (
    "raw_http",
    "raw_httpx",
    "raw_litellm",
    "gateway",
    "gateway_async",
    "gateway_tools",
    "logging",
)
GATEWAYS = {"gateway": "durable", "gateway_async": "async", "gateway_tools": "durable"}
# The tool-call variant's model: a scenario of the loopback server that answers with TOOL_CALL.
TOOLS_MODEL = "openai/scenario/tools"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search_docs",
            "description": "Search the product documentation.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["query"],
            },
        },
    },
]
TOOL_CALL = {"id": "call_bench", "name": "get_weather", "arguments": '{"city": "Lisbon"}'}
PROFILED = ("raw_litellm", "gateway", "gateway_tools")
GOAL_X_IDEAL = 1.5
GOAL_VS_LITELLM = 1.05
GOAL_LOGGING_MS = 0.5
GOAL_DURABLE_VS_ASYNC = 1.10

# The server's child: report the port, then serve until our end of its stdin closes.
SERVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.support.openai_server import OpenAICompatibleServer
server = OpenAICompatibleServer(default_latency_ms=float(sys.argv[2])).start()
server.scenario("tools", latency_ms=float(sys.argv[2]), tool_calls=(json.loads(sys.argv[3]),))
print(server.port, flush=True)
sys.stdin.read()
server.stop()
"""

CallOnce = Callable[[], Awaitable[Any]]
_cpu_ms_per_call: list[float] = []  # the child's timed region, set by _timed()


# --- the parent: one server and one child per variant ----------------------------------------


def _start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(ROOT), str(latency_ms), json.dumps(TOOL_CALL)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    return server, f"http://127.0.0.1:{port}/v1"


def _stop_server(server: subprocess.Popen[str]) -> None:
    assert server.stdin is not None
    server.stdin.close()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _run_variant(variant: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    server, base_url = _start_server(args.latency_ms)
    try:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--variant",
            variant,
            "--base-url",
            base_url,
            "--calls",
            str(args.calls),
            "--concurrency",
            str(args.concurrency),
            "--log-calls",
            str(args.log_calls),
        ]
        if args.profile and variant in PROFILED:
            command.append("--profile")
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    finally:
        _stop_server(server)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _report(args: argparse.Namespace, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ideal = args.calls / args.concurrency * args.latency_ms / 1000
    report: dict[str, Any] = {"ideal_s": round(ideal, 3)}
    timed = [variant for variant in VARIANTS if variant in found and variant != "logging"]
    for variant in timed:
        wall_s = found[variant]["wall_s"]
        report[f"{variant}_s"] = round(wall_s, 3)
        report[f"{variant}_x_ideal"] = round(wall_s / ideal, 3)
    if {"gateway", "raw_litellm"} <= found.keys():
        report["gateway_vs_litellm"] = round(
            found["gateway"]["wall_s"] / found["raw_litellm"]["wall_s"], 3
        )
    report["cpu_ms_per_call"] = {
        variant: round(found[variant]["cpu_ms_per_call"], 2) for variant in timed
    }
    if "logging" in found:
        report["logging_ms_per_call"] = round(found["logging"]["ms_per_call"], 4)
        report["logging_caller_ms_per_call"] = round(found["logging"]["caller_ms_per_call"], 4)
        report["logging_calls"] = args.log_calls
    report.update(
        calls=args.calls,
        concurrency=args.concurrency,
        latency_ms=args.latency_ms,
        cpus=os.cpu_count(),
        goals={
            "x_ideal": GOAL_X_IDEAL,
            "vs_litellm": GOAL_VS_LITELLM,
            "logging_ms_per_call": GOAL_LOGGING_MS,
            "durable_vs_async": GOAL_DURABLE_VS_ASYNC,
        },
    )
    return report


def _durability(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Durable against async gateway calls: medians of the rounds, which alternate them."""
    durable = statistics.median(sample["wall_s"] for sample in samples["gateway"])
    queued = statistics.median(sample["wall_s"] for sample in samples["gateway_async"])
    return {
        "durable_s_median": round(durable, 3),
        "async_s_median": round(queued, 3),
        "durable_vs_async": round(durable / queued, 3),
        "goal": GOAL_DURABLE_VS_ASYNC,
    }


def _best(samples: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return min(samples, key=lambda sample: float(sample[key]))


def main_parent(args: argparse.Namespace) -> None:
    variants = [variant for variant in VARIANTS if variant in args.only.split(",")]
    samples: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory(prefix="llmbench-bench-") as home:
        # Chain keys and any config go to a throwaway home, never the user's folders.
        env = {**os.environ, "LLMBENCH_HOME": home}
        for variable in ("LLMBENCH_DB", "LLMBENCH_CONFIG"):
            env.pop(variable, None)
        # Rounds alternate the variants so that drift in machine load hits them alike.
        for _ in range(args.runs):
            for variant in variants:
                samples[variant].append(_run_variant(variant, args, env))
    written = [
        sample["rows_written"] for variant in GATEWAYS if variant in samples
        for sample in samples[variant]
    ]  # fmt: skip
    found = {
        variant: _best(runs, "ms_per_call" if variant == "logging" else "wall_s")
        for variant, runs in samples.items()
    }
    report = _report(args, found)
    if GATEWAYS.keys() <= samples.keys():
        report["durability"] = _durability(samples)
    report["rows_written"] = written
    report["runs"] = args.runs
    if args.runs > 1:
        report["samples_s"] = {
            variant: [round(sample["wall_s"], 3) for sample in runs]
            for variant, runs in samples.items()
            if variant != "logging"
        }
    print(json.dumps(report, indent=2))
    assert written == [args.calls] * len(written), written


# --- the children: one variant each ----------------------------------------------------------


async def _fan_out(call_once: CallOnce, calls: int, concurrency: int) -> None:
    """`calls` calls, at most `concurrency` in flight; any failure fails the benchmark."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await call_once()

    await asyncio.gather(*(one() for _ in range(calls)))


async def _timed(
    call_once: CallOnce,
    args: argparse.Namespace,
    *,
    before: Callable[[], None] | None = None,
    after: CallOnce | None = None,
) -> float:
    """Warm up with one call and then one full round of concurrent calls, so pools are open
    and every lazy import is done; then time the calls (and `after`, when given). `before`
    runs after the warm-up, outside the timed region."""
    await call_once()
    await _fan_out(call_once, args.concurrency, args.concurrency)
    if before is not None:
        before()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    cpu_started = time.process_time()
    started = time.perf_counter()
    await _fan_out(call_once, args.calls, args.concurrency)
    if after is not None:
        await after()
    wall_s = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        _print_profile(args.variant, profiler)
    # CPU of every thread of this process (litellm's executor, the audit writer): the figure
    # that sets the pace here, and one that other load on the machine disturbs less.
    _cpu_ms_per_call.append((time.process_time() - cpu_started) * 1000 / args.calls)
    return wall_s


def _print_profile(variant: str, profiler: cProfile.Profile, top: int = 25) -> None:
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"=== cProfile of {variant} (timed region only) ===\n{text.getvalue()}", file=sys.stderr)


def _chat_body() -> dict[str, Any]:
    return {"model": "bench", "messages": MESSAGES}


async def bench_raw_httpx(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    body = _chat_body()
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=None)
    async with httpx.AsyncClient(
        base_url=args.base_url,
        headers={"Authorization": f"Bearer {API_KEY}"},
        limits=limits,
        timeout=60,
    ) as http:

        async def call_once() -> Any:
            response = await http.post("/chat/completions", json=body)
            response.raise_for_status()
            return response.json()

        return {"wall_s": await _timed(call_once, args)}


async def bench_raw_http(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    body = _chat_body()
    url = f"{args.base_url}/chat/completions"
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(
        connector=connector, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:

        async def call_once() -> Any:
            async with http.post(url, json=body) as response:
                response.raise_for_status()
                return await response.json()

        return {"wall_s": await _timed(call_once, args)}


async def _stop_litellm_worker() -> None:
    """Let litellm's logging worker finish on this loop before it closes."""
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await GLOBAL_LOGGING_WORKER.flush()
    await GLOBAL_LOGGING_WORKER.stop()


async def bench_raw_litellm(args: argparse.Namespace) -> dict[str, Any]:
    import litellm

    async def call_once() -> Any:
        return await litellm.acompletion(
            model=MODEL,
            messages=MESSAGES,
            api_base=args.base_url,
            api_key=API_KEY,
            num_retries=0,
            max_retries=0,
        )

    try:
        return {"wall_s": await _timed(call_once, args)}
    finally:
        await _stop_litellm_worker()


def _count_calls(store: Store, where: str = "1") -> int:
    return int(store.read().execute(f"SELECT count(*) FROM calls WHERE {where}").fetchone()[0])


async def bench_gateway(args: argparse.Namespace) -> dict[str, Any]:
    """`Gateway.complete`, durable or async by the variant's name (GATEWAYS)."""
    from llmbench.config import ModelOptions, Settings
    from llmbench.gateway import client
    from llmbench.gateway.engine import Gateway
    from llmbench.gateway.recorder import AuditRecorder
    from llmbench.store.db import open_db

    with tempfile.TemporaryDirectory(prefix="llmbench-bench-db-") as folder:
        store = open_db(Path(folder) / "bench.db")
        try:
            recorder = AuditRecorder(store)
            tools = args.variant == "gateway_tools"
            model = TOOLS_MODEL if tools else MODEL
            settings = Settings(model={model: ModelOptions(api_base=args.base_url)})
            gateway = Gateway(recorder, settings, durability=GATEWAYS[args.variant])
            params: dict[str, Any] = {"api_key": API_KEY}
            if tools:
                params["tools"] = TOOLS

            async def call_once() -> Any:
                answer = await gateway.complete(model, MESSAGES, params=params)
                if tools and not answer.completion.tool_calls:
                    raise AssertionError(f"no tool call in the answer: {answer!r}")
                return answer

            rows_before: list[int] = []

            def count_warm_up_rows() -> None:
                recorder.flush()
                rows_before.append(_count_calls(store))

            async def flush() -> None:
                recorder.flush()

            try:
                wall_s = await _timed(call_once, args, before=count_warm_up_rows, after=flush)
                rows_written = _count_calls(store) - rows_before[0]
                if tools:
                    rows_written = _count_calls(store, "tool_calls IS NOT NULL") - rows_before[0]
            finally:
                await client.shutdown()
        finally:
            store.close()
    return {"wall_s": wall_s, "rows_written": rows_written}


def _realistic_row(index: int) -> dict[str, Any]:
    """An audit row shaped like the gateway's for one successful call."""
    return {
        "request_id": uuid.uuid4().hex,
        "model_requested": MODEL,
        "prompt_version_id": None,
        "run_id": None,
        "messages": json.dumps(MESSAGES, ensure_ascii=False),
        "feature": "bench",
        "team": None,
        "customer": None,
        "task_type": None,
        "user": None,
        "ts": "2026-11-27T18:00:00.000Z",
        "attempt": 1,
        "model": MODEL,
        "provider": "openai",
        "params": json.dumps({"api_base": "http://127.0.0.1:8000/v1"}, sort_keys=True),
        "tags": json.dumps({"suite": "bench", "index": index}, sort_keys=True),
        "response": "Answer to: " + MESSAGES[-1]["content"] + " Pooling reuses connections.",
        "finish_reason": "stop",
        "prompt_tokens": 31,
        "completion_tokens": 14,
        "cached_tokens": 0,
        "tokens_estimated": 0,
        "cost": 0.0000123,
        "input_price": 0.15,
        "output_price": 0.6,
        "cached_price": 0.075,
        "latency_ms": 101.7,
        "ttft_ms": None,
        "status": "ok",
    }


async def bench_logging(args: argparse.Namespace) -> dict[str, Any]:
    from llmbench.gateway.recorder import AuditRecorder
    from llmbench.store.db import open_db

    count = args.log_calls
    with tempfile.TemporaryDirectory(prefix="llmbench-bench-db-") as folder:
        store = open_db(Path(folder) / "bench.db")
        try:
            recorder = AuditRecorder(store)
            redactor = recorder.redactor([API_KEY])
            recorder.record(_realistic_row(-1), redactor)  # starts the writer thread
            recorder.flush()
            rows = [_realistic_row(index) for index in range(count)]
            started = time.perf_counter()
            for row in rows:
                recorder.record(row, redactor)
            returned = time.perf_counter()
            recorder.flush()
            finished = time.perf_counter()
            written = _count_calls(store) - 1
        finally:
            store.close()
    assert written == count, (written, count)
    return {
        "ms_per_call": (finished - started) * 1000 / count,
        "caller_ms_per_call": (returned - started) * 1000 / count,
    }


CHILDREN: dict[str, Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]] = {
    "raw_http": bench_raw_http,
    "raw_httpx": bench_raw_httpx,
    "raw_litellm": bench_raw_litellm,
    "gateway": bench_gateway,
    "gateway_async": bench_gateway,
    "gateway_tools": bench_gateway,
    "logging": bench_logging,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0, help="the server's delay")
    parser.add_argument("--log-calls", type=int, default=10_000, help="records timed for logging")
    parser.add_argument("--runs", type=int, default=1, help="rounds; the best of each is kept")
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    parser.add_argument("--profile", action="store_true", help="cProfile to stderr")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant is None:
        main_parent(args)
        return
    result = asyncio.run(CHILDREN[args.variant](args))
    if _cpu_ms_per_call:
        result["cpu_ms_per_call"] = _cpu_ms_per_call[-1]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
