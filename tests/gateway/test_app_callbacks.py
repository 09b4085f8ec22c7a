"""An application's own litellm callbacks (Langfuse's, a CustomLogger) see every gateway call:
openai/... models, which the gateway otherwise calls without litellm, go through litellm while
such a callback is registered; whole answers and streams, from async code and from the SDK's
synchronous methods, on every supported Python.

Every gateway call is an async litellm call underneath, and for those litellm runs a
CustomLogger's async hook (not its sync one, nor plain function callbacks), so that is the hook
these tests register."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.gateway.call_arguments import app_litellm_callbacks, uses_direct
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.client import shutdown, shutdown_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.sdk import Bench
from llmbench.store.db import Store, open_db
from tests.support.openai_server import OpenAICompatibleServer

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
# A model litellm's table prices, served by the loopback server: the callback sees its cost.
PRICED_MODEL = "openai/gpt-4o-mini"


@pytest.fixture(autouse=True)
def loopback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "callbacks.db") as opened:
        yield opened


class Seen:
    """The response costs an application's CustomLogger was told of."""

    def __init__(self) -> None:
        self.costs: list[float | None] = []

    def wait_for(self, count: int, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.costs) < count and time.monotonic() < deadline:
            time.sleep(0.02)


def _register(litellm: ModuleType) -> Seen:
    from litellm.integrations.custom_logger import CustomLogger

    seen = Seen()

    class AppLogger(CustomLogger):  # type: ignore[misc]
        async def async_log_success_event(self, kwargs: Any, *_: Any, **__: Any) -> None:
            seen.costs.append(kwargs.get("response_cost"))

    litellm.callbacks = [AppLogger()]
    return seen


def _settings(server: OpenAICompatibleServer, model: str) -> Settings:
    # The default transport: openai/... models skip litellm when nothing needs it.
    assert GatewaySettings().openai_transport == "direct"
    return Settings(
        gateway=replace(GatewaySettings(), max_retries=1),
        model={model: ModelOptions(api_base=server.base_url)},  # type: ignore[arg-type]
    )


async def _drive_async(gateway: Gateway, model: str) -> list[GatewayResult]:
    whole = await gateway.complete(model, MESSAGES)
    final = None
    async for piece in gateway.stream(model, MESSAGES):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None
    return [whole, final]


def _costs(results: list[GatewayResult]) -> Any:
    costs = [result.completion.cost for result in results]
    assert all(cost is not None and cost > 0 for cost in costs), costs
    return pytest.approx(sorted(costs))  # type: ignore[type-var]


async def test_async_gateway_calls_reach_the_apps_callback_whole_and_streamed(
    store: Store, server: OpenAICompatibleServer, no_litellm_callbacks: ModuleType
) -> None:
    seen = _register(no_litellm_callbacks)
    model = PRICED_MODEL
    gateway = Gateway(AuditRecorder(store), _settings(server, model))

    results = await _drive_async(gateway, model)
    await shutdown()
    await asyncio.to_thread(seen.wait_for, 2)

    assert len(server.requests_for("gpt-4o-mini")) == 2
    assert sorted(seen.costs) == _costs(results)


def test_sdk_calls_from_sync_code_reach_the_apps_callback_whole_and_streamed(
    tmp_path: Path, server: OpenAICompatibleServer, no_litellm_callbacks: ModuleType
) -> None:
    seen = _register(no_litellm_callbacks)
    model = PRICED_MODEL
    bench = Bench(db=tmp_path / "sdk.db", settings=_settings(server, model))
    try:
        whole = bench.complete(model, MESSAGES)
        streamed = [piece for piece in bench.stream(model, MESSAGES)][-1]
        assert isinstance(streamed, GatewayResult)
        shutdown_sync()
        seen.wait_for(2)
    finally:
        bench.close()

    assert sorted(seen.costs) == _costs([whole, streamed])


@pytest.mark.parametrize(
    ("register", "direct"),
    [
        (lambda litellm, db: None, True),
        (lambda litellm, db: litellm.callbacks.append(LLMBenchLogger(db=db)), True),
        (lambda litellm, db: litellm.success_callback.append(lambda *args: None), False),
        (lambda litellm, db: litellm._async_failure_callback.append(lambda *args: None), False),
    ],
    ids=["none", "llmbench's own logger", "a success function", "an async failure function"],
)
def test_only_the_apps_own_callbacks_send_openai_models_through_litellm(
    tmp_path: Path,
    no_litellm_callbacks: ModuleType,
    register: Callable[[ModuleType, Path], None],
    direct: bool,
) -> None:
    register(no_litellm_callbacks, tmp_path / "logger.db")
    assert app_litellm_callbacks() is not direct
    assert uses_direct("openai/gpt-4o-mini", "direct") is direct
    assert uses_direct("openai/gpt-4o-mini", "litellm") is False
