"""Reasoning and cache-write tokens (m014) through the gateway, over the loopback server's
OpenAI-shaped usage (`completion_tokens_details.reasoning_tokens`,
`prompt_tokens_details.cached_tokens`, `cache_creation_input_tokens`): recorded apart on the
row, priced at the table's own rates, sealed, and read back from the file."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.costs.pricing import PER_MILLION
from llmbench.gateway.engine import Gateway
from llmbench.gateway.model_table import bundled_model_table
from llmbench.gateway.outcomes import GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store, open_db
from tests.support.litellm_callbacks import only_these_callbacks
from tests.support.openai_server import OpenAICompatibleServer

MESSAGES = [{"role": "user", "content": "Think hard: what is the capital of France?"}]
# An OpenAI entry of litellm's table with a cache-write rate of its own and no cache-read one
# (cache reads are then billed as input).
PRICED = "ft:gpt-4o-2024-11-20"
DETAILS = {"reasoning_tokens": 7, "cache_write_tokens": 5, "cached_tokens": 3}


@pytest.fixture(autouse=True)
def loopback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "tokens.db") as opened:
        yield opened


def _gateway(store: Store, server: OpenAICompatibleServer, transport: str, *models: str) -> Gateway:
    settings = Settings(
        gateway=replace(GatewaySettings(), openai_transport=transport, max_retries=1),
        model={model: ModelOptions(api_base=server.base_url) for model in models},
    )
    return Gateway(AuditRecorder(store), settings)


def _rows(store: Store, gateway: Gateway) -> list[dict[str, Any]]:
    gateway.recorder.flush()
    return list(store.read().query("SELECT * FROM calls ORDER BY id"))


def _expected_cost(row: dict[str, Any]) -> float:
    entry = bundled_model_table()[PRICED]
    written, cached = (row[n] for n in ("cache_write_tokens", "cached_tokens"))
    uncached = row["prompt_tokens"] - cached - written
    # No cache-read rate: read as input. No reasoning rate: reasoning billed as output.
    return (
        (uncached + cached) * entry["input_cost_per_token"]
        + written * entry["cache_creation_input_token_cost"]
        + row["completion_tokens"] * entry["output_cost_per_token"]
    )


async def _call(gateway: Gateway, model: str, streamed: bool, **kwargs: Any) -> GatewayResult:
    if not streamed:
        return await gateway.complete(model, MESSAGES, **kwargs)
    final = None
    async for piece in gateway.stream(model, MESSAGES, **kwargs):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None
    return final


@pytest.mark.parametrize("transport", ["direct", "litellm"])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_reasoning_and_cache_tokens_are_recorded_apart_and_priced(
    store: Store, server: OpenAICompatibleServer, transport: str, streamed: bool
) -> None:
    name = server.scenario(
        f"think-{transport}-{streamed}", reply="Paris.", answer_model=PRICED, **DETAILS
    )
    plain = server.scenario(f"plain-{transport}-{streamed}", reply="Paris.")
    gateway = _gateway(store, server, transport, f"openai/{name}", f"openai/{plain}")
    result = await _call(gateway, f"openai/{name}", streamed)
    usage = result.completion.usage
    assert (usage.reasoning_tokens, usage.cache_write_tokens, usage.cached_tokens) == (7, 5, 3)
    await _call(gateway, f"openai/{plain}", streamed)

    row, without = _rows(store, gateway)
    assert (row["reasoning_tokens"], row["cache_write_tokens"], row["cached_tokens"]) == (7, 5, 3)
    assert row["completion_tokens"] == usage.completion_tokens >= 7 and not row["tokens_estimated"]
    # Without the answered name (litellm's stream wrapper names the requested model), a
    # self-hosted model is unpriced, as before: its tokens are still kept apart.
    assert (row["cost"] is None) == (streamed and transport == "litellm")
    if row["cost"] is not None:
        _assert_priced(row, result)
    # A provider that tells none: NULL (litellm's stream builder says 0 reasoning: NULL too).
    assert (without["reasoning_tokens"], without["cache_write_tokens"]) == (None, None)
    assert verify_chain(store.read(), gateway.recorder.key).ok


def _assert_priced(row: dict[str, Any], result: GatewayResult) -> None:
    entry = bundled_model_table()[PRICED]
    assert row["cache_write_price"] == pytest.approx(
        entry["cache_creation_input_token_cost"] * PER_MILLION
    )
    assert row["reasoning_price"] is None  # no rate of its own: billed as output
    assert row["cost"] == pytest.approx(_expected_cost(row))
    assert row["cost"] == pytest.approx(result.completion.cost)


async def test_a_response_cache_hit_costs_nothing_and_writes_no_provider_cache(
    store: Store, server: OpenAICompatibleServer
) -> None:
    name = server.scenario("think-cached", reply="Paris.", answer_model=PRICED, **DETAILS)
    gateway = _gateway(store, server, "direct", f"openai/{name}")
    await gateway.complete(f"openai/{name}", MESSAGES, cache=True)
    await gateway.complete(f"openai/{name}", MESSAGES, cache=True)
    answered, hit = _rows(store, gateway)
    assert hit["status"] == "cache_hit" and hit["cost"] == 0.0
    assert hit["saving"] == pytest.approx(answered["cost"]) and answered["cost"] > 0
    assert hit["reasoning_tokens"] == 7 and hit["cache_write_tokens"] is None
    assert verify_chain(store.read(), gateway.recorder.key).ok


async def test_the_litellm_callback_records_them_priced(
    store: Store, server: OpenAICompatibleServer
) -> None:
    from llmbench.gateway.callback import LLMBenchLogger
    from llmbench.gateway.litellm_setup import litellm_module

    litellm = litellm_module()
    logger = LLMBenchLogger(store=store)
    with only_these_callbacks(litellm, logger):
        name = server.scenario("think-callback", reply="Paris.", answer_model=PRICED, **DETAILS)
        await litellm.acompletion(
            model=f"openai/{name}",
            messages=MESSAGES,
            api_base=server.base_url,
            api_key="sk-test-loopback-0123456789",
            max_retries=0,
        )
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

        await GLOBAL_LOGGING_WORKER.flush()
        rows: list[dict[str, Any]] = []
        for _ in range(250):
            logger.flush()
            rows = list(store.read().query("SELECT * FROM calls"))
            if rows:
                break
            await asyncio.sleep(0.02)
        key = logger.recorder.key
    logger.close()
    (row,) = rows
    assert (row["reasoning_tokens"], row["cache_write_tokens"], row["cached_tokens"]) == (7, 5, 3)
    assert row["cost"] == pytest.approx(_expected_cost(row))
    assert row["cache_write_price"] == pytest.approx(1.875) and row["reasoning_price"] is None
    assert verify_chain(store.read(), key).ok
