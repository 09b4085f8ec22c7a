"""openai/... models through the OpenAI SDK directly (the default) and through litellm: the same
answers, the same failure kinds and statuses, the same usage, against the loopback server; and
a process that only calls such models never imports litellm."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmbench.config import ConfigError, GatewaySettings, ModelOptions, Settings, parse_settings
from llmbench.gateway import openai_direct
from llmbench.gateway.engine import Gateway
from llmbench.gateway.errors import classify
from llmbench.gateway.outcomes import GatewayError, GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.db import Store, open_db
from tests.support.openai_server import OpenAICompatibleServer

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
TRANSPORTS = ("direct", "litellm")
ROOT = Path(__file__).resolve().parents[2]


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture(autouse=True)
def loopback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "gw.db") as opened:
        yield opened


def _gateway(
    store: Store, server: OpenAICompatibleServer, model: str, transport: str, **options: float
) -> Gateway:
    settings = Settings(
        gateway=replace(GatewaySettings(), openai_transport=transport, max_retries=1),
        model={model: ModelOptions(api_base=server.base_url, **options)},  # type: ignore[arg-type,dict-item]
    )
    return Gateway(AuditRecorder(store), settings, sleep=_no_sleep)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_answer_and_its_usage_are_the_same_either_way(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = server.scenario(f"same-{transport}", reply="Paris.", cached_tokens=2)
    gateway = _gateway(store, server, f"openai/{name}", transport)
    result = await gateway.complete(
        f"openai/{name}", MESSAGES, params={"temperature": 0.2, "top_k": 3}
    )
    assert result.text == "Paris."
    usage = result.completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0 and usage.cached_tokens == 2
    assert not usage.estimated
    (request,) = server.requests_for(name)
    # A parameter the SDK does not name still reaches the server, in the body.
    assert request.body["temperature"] == 0.2 and request.body["top_k"] == 3
    assert request.body["model"] == name


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stream_arrives_in_pieces_with_its_usage(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = server.scenario(f"stream-{transport}", reply="Paris is the capital of France.")
    gateway = _gateway(store, server, f"openai/{name}", transport)
    pieces: list[str] = []
    final: GatewayResult | None = None
    async for piece in gateway.stream(f"openai/{name}", MESSAGES):
        if isinstance(piece, GatewayResult):
            final = piece
        else:
            pieces.append(piece)
    assert final is not None and "".join(pieces) == final.text == "Paris is the capital of France."
    assert len(pieces) > 1 and final.completion.ttft_ms is not None
    assert not final.completion.usage.estimated


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("hang", "timeout", "timeout"),
        ("malformed", "error", "protocol"),
        ("drop", "error", "connection"),
    ],
)
async def test_faults_are_classified_the_same_either_way(
    store: Store, server: OpenAICompatibleServer, transport: str, fault: str, status: str, kind: str
) -> None:
    name = server.scenario(f"fault-{fault}-{transport}", fault=fault)
    gateway = _gateway(store, server, f"openai/{name}", transport, timeout_s=0.5)
    with pytest.raises(GatewayError) as error:
        await gateway.complete(f"openai/{name}", MESSAGES)
    assert error.value.failure.kind == kind
    gateway.recorder.flush()
    rows = store.read().execute("SELECT status, error_kind FROM calls").fetchall()
    attempts = 1 if kind == "protocol" else 2  # an unreadable answer is not asked for again
    assert [tuple(row) for row in rows] == [(status, kind)] * attempts


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("code", "kind"), [(401, "auth"), (400, "bad_request"), (503, "server")])
async def test_status_codes_are_classified_the_same_either_way(
    store: Store, server: OpenAICompatibleServer, transport: str, code: int, kind: str
) -> None:
    name = server.scenario(f"status-{code}-{transport}", fault="status", status=code)
    gateway = _gateway(store, server, f"openai/{name}", transport)
    with pytest.raises(GatewayError) as error:
        await gateway.complete(f"openai/{name}", MESSAGES)
    assert error.value.failure.kind == kind and error.value.failure.status_code == code
    assert str(code) in str(error.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_429_is_rate_limited_and_retried_after_its_retry_after(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = server.scenario(
        f"busy-{transport}", fault="status", status=429, retry_after=0.2, fault_times=1
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    gateway = _gateway(store, server, f"openai/{name}", transport)
    gateway = Gateway(gateway.recorder, gateway.settings, sleep=sleep)
    result = await gateway.complete(f"openai/{name}", MESSAGES)
    assert result.text and result.attempts[0].status == "rate_limited"
    assert waits and waits[0] >= 0.2


def test_a_process_calling_only_openai_models_never_imports_litellm(
    server: OpenAICompatibleServer, tmp_path: Path
) -> None:
    name = server.scenario("no-litellm", reply="ok")
    script = f"""
import json, sys
import llmbench
from llmbench.config import ModelOptions, Settings
from llmbench.gateway.client import complete_sync, shutdown_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.recorder import AuditRecorder
from llmbench.gateway.client import run_sync
from llmbench.store.db import open_db
settings = Settings(model={{"openai/{name}": ModelOptions(api_base={server.base_url!r})}})
with open_db({str(tmp_path / "p.db")!r}) as store:
    gateway = Gateway(AuditRecorder(store), settings)
    result = run_sync(gateway.complete("openai/{name}", [{{"role": "user", "content": "hi"}}]))
    gateway.recorder.flush()
    shutdown_sync()
print(json.dumps({{"text": result.text, "litellm": "litellm" in sys.modules}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "", "OPENAI_API_KEY": "sk-test-loopback", "HOME": str(tmp_path)},
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {"text": "ok", "litellm": False}


def test_an_unknown_transport_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="openai_transport"):
        parse_settings({"gateway": {"openai_transport": "carrier-pigeon"}})
    assert parse_settings({"gateway": {"openai_transport": "litellm"}}).gateway.openai_transport


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_malformed_json_is_a_protocol_error_asked_once(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = server.scenario(f"garbled-{transport}", fault="malformed")
    gateway = _gateway(store, server, f"openai/{name}", transport)  # max_retries=1
    with pytest.raises(GatewayError) as error:
        await gateway.complete(f"openai/{name}", MESSAGES)
    failure = error.value.failure
    assert (failure.kind, failure.retryable, failure.status_code) == ("protocol", False, None)
    # Says what happened (the parser's words kept) and what to check.
    assert "not in the API's format" in failure.message and "api_base" in failure.message
    assert "Expecting value: line 1 column 25" in failure.message
    assert len(server.requests_for(name)) == 1  # asking again would get the same answer
    gateway.recorder.flush()
    rows = store.read().execute("SELECT status, error_kind, error FROM calls").fetchall()
    assert [(row[0], row[1]) for row in rows] == [("error", "protocol")]
    assert "api_base" in rows[0][2]


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b'{"object": "list", "data": []}', b'{"choices": []}',
     b'{"choices": [{"message": {"content": ["parts"]}}]}', b"[" * 100_000],
    ids=["html", "other-json", "no-choice", "content-not-text", "deep"],
)  # fmt: skip
def test_a_body_that_is_not_a_chat_completion_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(openai_direct.MalformedAnswer) as error:
        openai_direct._answer(body, "http://127.0.0.1:9/v1")
    failure = classify(error.value)
    assert failure.kind == "protocol" and not failure.retryable
    assert "http://127.0.0.1:9/v1/chat/completions" in failure.message


async def test_missing_credentials_in_litellm_are_an_auth_error_asked_once(
    store: Store, server: OpenAICompatibleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    name = server.scenario("keyless")
    gateway = _gateway(store, server, f"openai/{name}", "litellm")  # max_retries=1
    with pytest.raises(GatewayError) as error:
        await gateway.complete(f"openai/{name}", MESSAGES)
    failure = error.value.failure
    assert (failure.kind, failure.retryable, failure.status_code) == ("auth", False, None)
    assert failure.message.startswith(
        "no API key for this provider: `llmbench keys set openai` or set OPENAI_API_KEY"
    )
    assert "Missing credentials" in failure.message  # litellm's own words kept after it
    assert len(error.value.attempts) == 1 and server.requests_for(name) == []
