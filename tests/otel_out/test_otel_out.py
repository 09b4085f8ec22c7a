"""Spans out, received by a real OTLP/HTTP receiver on 127.0.0.1 built from opentelemetry-proto
(tests/support/otlp_receiver.py): from the SDK's gateway calls to llmbench/mock, from the litellm
callback, and from `llmbench export otel` over the recorded history; a collector that is down or
hangs never slows a call."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.config import OtelSettings, Settings
from llmbench.demo.optimize_runs import call_count
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.litellm_setup import litellm_module
from llmbench.gateway.otel_spans import SpanSink
from llmbench.services.sdk import Bench
from tests.support.litellm_callbacks import only_these_callbacks
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan

SECRET = "sk-test-OtelOut7Qx2Lm9Wv4Rb8Zn3"
ASK = [{"role": "user", "content": f"Where is my refund? My key is {SECRET}"}]
CLIENT = 3  # opentelemetry.proto.trace.v1.Span.SPAN_KIND_CLIENT


@pytest.fixture(autouse=True)
def secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider key the recorder knows from the environment: masked wherever it appears."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def _conversation(bench: Bench) -> list[str]:
    """Three steps of one conversation, each made under the one before; their request ids."""
    with bench.conversation("support-42", trace=True) as chat:
        first = chat.complete("llmbench/mock", ASK, tags={"feature": "refunds"})
        second = chat.step(first).complete("llmbench/mock", ASK, tags={"feature": "refunds"})
        third = chat.step(second).complete("llmbench/mock", ASK, tags={"feature": "refunds"})
    return [first.request_id, second.request_id, third.request_id]


def _by_request(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {str(span.attributes["llmbench.request_id"]): span for span in spans}


def _assert_conversation(spans: list[ReceivedSpan], requests: list[str]) -> None:
    by_request = _by_request(spans)
    steps = [by_request[request] for request in requests]
    assert len({step.trace_id for step in steps}) == 1
    assert [step.parent_span_id for step in steps] == ["", steps[0].span_id, steps[1].span_id]
    for step in steps:
        attributes = step.attributes
        assert step.span.name == "chat mock" and step.span.kind == CLIENT
        assert step.schema_url == "https://opentelemetry.io/schemas/1.37.0"
        assert step.resource["service.name"] == "llmbench"
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "llmbench"
        assert attributes["gen_ai.request.model"] == "mock"
        assert attributes["gen_ai.response.model"] == "mock"
        assert attributes["gen_ai.conversation.id"] == "support-42"
        assert attributes["gen_ai.response.finish_reasons"] == ["stop"]
        assert attributes["gen_ai.usage.input_tokens"] > 0
        assert attributes["gen_ai.usage.output_tokens"] > 0
        assert attributes["llmbench.cost_usd"] > 0
        assert attributes["llmbench.tag.feature"] == "refunds"
        assert step.span.end_time_unix_nano > step.span.start_time_unix_nano


def test_gateway_calls_go_out_as_a_trace_of_genai_spans(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    settings = Settings(otel=OtelSettings(endpoint=receiver.endpoint))
    with Bench(db=tmp_path / "sdk.db", settings=settings) as bench:
        requests = _conversation(bench)
        rows = list(bench.store.read().query("SELECT * FROM calls ORDER BY id"))
    spans = receiver.wait_for(3)
    assert len(spans) == 3
    _assert_conversation(spans, requests)
    first = _by_request(spans)[requests[0]]
    # The span is the row: its start is the call's ts, its length the call's latency.
    assert first.trace_id == rows[0]["trace_id"]  # the SDK's trace ids are OTel's 32 hex
    assert first.attributes["gen_ai.usage.input_tokens"] == rows[0]["prompt_tokens"]
    assert first.attributes["llmbench.cost_usd"] == pytest.approx(rows[0]["cost"])
    duration_ms = (first.span.end_time_unix_nano - first.span.start_time_unix_nano) / 1e6
    assert duration_ms == pytest.approx(rows[0]["latency_ms"], abs=0.001)
    # No bodies unless asked for: neither the question nor the key in it left.
    for span in spans:
        assert not {"gen_ai.input.messages", "gen_ai.output.messages"} & set(span.attributes)
        assert not any("my refund" in str(v) or SECRET in str(v) for v in span.attributes.values())


def test_bodies_go_when_asked_for_with_keys_masked(tmp_path: Path, receiver: OtlpReceiver) -> None:
    settings = Settings(
        otel=OtelSettings(
            endpoint=receiver.endpoint, include_bodies=True, headers={"x-team": "support"}
        )
    )
    with Bench(db=tmp_path / "sdk.db", settings=settings) as bench:
        bench.complete("llmbench/mock", ASK)
    (span,) = receiver.wait_for(1)
    sent = json.loads(span.attributes["gen_ai.input.messages"])
    assert sent[0]["role"] == "user" and "Where is my refund?" in sent[0]["parts"][0]["content"]
    assert SECRET not in span.attributes["gen_ai.input.messages"]
    answer = json.loads(span.attributes["gen_ai.output.messages"])
    assert answer[0]["role"] == "assistant" and answer[0]["parts"][0]["type"] == "text"
    assert receiver.headers[0]["x-team"] == "support"
    assert receiver.headers[0]["content-type"] == "application/x-protobuf"


@pytest.fixture
def litellm() -> Iterator[ModuleType]:
    yield litellm_module()  # registers the llmbench/ simulator provider


def _spans_of_session(receiver: OtlpReceiver, session: str) -> list[ReceivedSpan]:
    deadline = time.monotonic() + 10
    while True:
        found = [
            span
            for span in receiver.wait_for(1, timeout_s=max(deadline - time.monotonic(), 0))
            if span.attributes.get("gen_ai.conversation.id") == session
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def _logged(litellm: ModuleType) -> None:
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await GLOBAL_LOGGING_WORKER.flush()


async def test_the_litellm_callback_sends_the_calls_it_records(
    tmp_path: Path,
    receiver: OtlpReceiver,
    litellm: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[otel]\nendpoint = "{receiver.endpoint}"\n', encoding="utf-8")
    monkeypatch.setenv("LLMBENCH_CONFIG", str(config))
    logger = LLMBenchLogger(tmp_path / "app.db")
    try:
        with only_these_callbacks(litellm, logger):
            await litellm.acompletion(
                model="llmbench/mock",
                messages=ASK,
                metadata={"feature": "chat", "session_id": "app-session-1"},
            )
            # litellm runs async callbacks on its logging worker: let it drain first.
            await _logged(litellm)
            # Only this call's span: litellm's logging worker may carry an earlier test's
            # pending callbacks onto this loop, and this logger records those too.
            (span,) = await asyncio.to_thread(_spans_of_session, receiver, "app-session-1")
    finally:
        logger.close()
    attributes = span.attributes
    assert span.span.name == "chat mock"
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "llmbench"
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["llmbench.tag.feature"] == "chat"
    assert attributes["gen_ai.conversation.id"] == "app-session-1"
    assert "gen_ai.input.messages" not in attributes


def test_export_otel_sends_the_history_as_the_live_spans_were(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    db = tmp_path / "history.db"
    live = Settings(otel=OtelSettings(endpoint=receiver.endpoint))
    with Bench(db=db, settings=live) as bench:
        requests = _conversation(bench)
        # A first attempt that fails and its retry: two spans, the failure an error.
        # (the simulator counts the attempts of identical requests: this one is new)
        once = [{"role": "user", "content": "Fail once, then answer."}]
        retried = bench.complete(
            "llmbench/mock", once, params={"mock_fail": "server", "mock_fail_attempts": 1}
        )
        bench.complete("llmbench/echo", [{"role": "user", "content": "alone"}])
    sent_live = receiver.wait_for(6)
    assert len(sent_live) == 6
    attempts = sorted(
        (s for s in sent_live if s.attributes["llmbench.request_id"] == retried.request_id),
        key=lambda s: s.attributes["llmbench.attempt"],
    )
    assert [s.span.status.code for s in attempts] == [2, 0]  # STATUS_CODE_ERROR, then UNSET
    assert attempts[0].attributes["error.type"] == "server"
    assert attempts[0].span_id != attempts[1].span_id
    receiver.spans.clear()

    result = CliRunner().invoke(
        cli, ["export", "otel", "--endpoint", receiver.endpoint, "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    history = receiver.wait_for(len(sent_live))
    assert f"sent {len(history)} spans to {receiver.endpoint}" in result.output
    _assert_conversation(history, requests)
    # The same spans as live: same ids, same attributes (the rows are what was sent).
    live_spans = {(s.trace_id, s.span_id): s.attributes for s in sent_live}
    assert {(s.trace_id, s.span_id): s.attributes for s in history} == live_spans

    receiver.spans.clear()
    export = ["export", "otel", "--endpoint", receiver.endpoint, "--db", str(db)]
    with_bodies = CliRunner().invoke(cli, [*export, "--bodies", "--header", "x-team=support"])
    assert with_bodies.exit_code == 0, with_bodies.output
    full = _by_request(receiver.wait_for(len(sent_live)))[requests[0]].attributes
    assert "Where is my refund?" in full["gen_ai.input.messages"]
    assert SECRET not in full["gen_ai.input.messages"]  # masked when it was recorded
    assert json.loads(full["gen_ai.output.messages"])[0]["role"] == "assistant"
    assert receiver.headers[-1]["x-team"] == "support"

    receiver.spans.clear()
    later = CliRunner().invoke(
        cli,
        [
            "export",
            "otel",
            "--endpoint",
            receiver.endpoint,
            "--db",
            str(db),
            "--since",
            "2999-01-01",
        ],
    )
    assert later.exit_code == 0 and "sent 0 spans" in later.output

    receiver.fail_with = 400
    refused = CliRunner().invoke(
        cli, ["export", "otel", "--endpoint", receiver.endpoint, "--db", str(db)]
    )
    assert refused.exit_code == 1
    assert "did not take the spans after 0 were sent" in refused.output


def test_export_otel_needs_an_endpoint(tmp_path: Path) -> None:
    with Bench(db=tmp_path / "x.db", settings=Settings()) as bench:
        bench.complete("llmbench/mock", ASK)
    result = CliRunner().invoke(cli, ["export", "otel", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "--endpoint" in result.output


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _SilentCollector:
    """Accepts connections and never answers: an export waits for its whole timeout."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.server.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.server.close()
        for held in self.held:
            held.close()
        self.thread.join(5)


def _call_times(db: Path, settings: Settings, calls: int) -> tuple[list[float], Bench]:
    bench = Bench(db=db, settings=settings)
    bench.complete("llmbench/mock", ASK)  # the first call loads what every call needs
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        bench.complete("llmbench/mock", ASK)
        times.append(time.perf_counter() - started)
    bench.close()
    return times, bench


def test_a_collector_that_is_down_or_silent_never_slows_a_call(tmp_path: Path) -> None:
    calls = 30
    baseline, _ = _call_times(tmp_path / "plain.db", Settings(), calls)
    down = OtelSettings(endpoint=f"http://127.0.0.1:{_unused_port()}", max_queue_size=10)
    refused, bench = _call_times(tmp_path / "down.db", Settings(otel=down), calls)
    silent = _SilentCollector()
    try:
        hanging = OtelSettings(endpoint=silent.endpoint, max_queue_size=10, timeout_s=5.0)
        waited, silent_bench = _call_times(tmp_path / "silent.db", Settings(otel=hanging), calls)
        sink = silent_bench.gateway.spans
        assert isinstance(sink, SpanSink)
        # The export thread holds at most one batch (10) while the queue holds 10 more:
        # the others were dropped, oldest first, and counted.
        assert sink.emitted == calls + 1 and sink.dropped >= calls + 1 - 20
    finally:
        silent.close()
    limit = statistics.median(baseline) * 3 + 0.01
    for times in (refused, waited):
        assert statistics.median(times) < limit, (times, baseline)
        assert max(times) < 1.0  # an export waiting 5 s on the collector is never waited on
    down_sink = bench.gateway.spans
    assert isinstance(down_sink, SpanSink) and down_sink.emitted == calls + 1
    assert down_sink.dropped > 0  # the export thread sits in its backoff: the queue overflows


def test_nothing_imports_opentelemetry_until_otel_is_configured() -> None:
    code = (
        "import sys\n"
        "import llmbench.gateway.engine, llmbench.gateway.callback, llmbench.services.sdk\n"
        "from llmbench.config import Settings\n"
        "from llmbench.gateway.otel_spans import span_sink\n"
        "span_sink(Settings().otel)\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert found.stdout.strip() == "[]"


def test_export_otel_sends_a_demo_database_in_batches(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    from llmbench.demo.build import build_demo

    db = build_demo(tmp_path / "demo.db", calls=600).path
    with Bench(db=db, settings=Settings()) as bench:
        rows = list(bench.store.read().query("SELECT request_id, attempt, status FROM calls"))
    result = CliRunner().invoke(
        cli, ["export", "otel", "--endpoint", receiver.endpoint, "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    spans = receiver.wait_for(len(rows))
    # 600 drawn, the optimizer's demo prompt's 40 and its recorded bake-off's 48 merged in:
    # 688 spans, 512 a batch.
    assert len(spans) == len(rows) == 640 + call_count() == 688 and receiver.requests == 2
    assert {
        (s.attributes["llmbench.request_id"], s.attributes["llmbench.attempt"]) for s in spans
    } == {(row["request_id"], row["attempt"]) for row in rows}
    assert {s.attributes["gen_ai.provider.name"] for s in spans} == {
        "anthropic",
        "gcp.gemini",
        "llmbench",
        "openai",
    }
    failed = [s for s in spans if s.span.status.code == 2]
    assert len(failed) == sum(row["status"] not in ("ok", "cache_hit") for row in rows) > 0
    assert all("error.type" in s.attributes for s in failed)
    for span in spans:
        assert span.attributes["gen_ai.operation.name"] == "chat"
        assert span.attributes["gen_ai.request.model"]
        assert "gen_ai.input.messages" not in span.attributes
