"""What the wire-format tests share: a gateway over a real SQLite file whose model points at a
loopback server, the rows read back from that file, and a call's expected cost worked out
from litellm's own table entry (not from the gateway's pricing code, which it checks)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.gateway.engine import Gateway
from llmbench.gateway.model_table import bundled_model_table
from llmbench.gateway.outcomes import GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store


@dataclass
class Sleeps:
    """The gateway's backoff waits, kept instead of slept so a retry test takes no time."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def wire_gateway(store: Store, model: str, api_base: str, sleeps: Sleeps) -> Gateway:
    settings = Settings(
        gateway=replace(GatewaySettings(), max_retries=3),
        model={model: ModelOptions(api_base=api_base)},
    )
    return Gateway(AuditRecorder(store), settings, sleep=sleeps)


def rows(store: Store, gateway: Gateway) -> list[dict[str, Any]]:
    """Every row of the audit log, read back from the file once the writer has committed."""
    gateway.recorder.flush()
    return list(store.read().query("SELECT * FROM calls ORDER BY id"))


def chain_verifies(store: Store, gateway: Gateway) -> bool:
    return verify_chain(store.read(), gateway.recorder.key).ok


async def streamed(gateway: Gateway, model: str, messages: Any, **options: Any) -> GatewayResult:
    """A streamed call to its end: its result, after every text piece."""
    final = None
    async for piece in gateway.stream(model, messages, **options):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None
    return final


def expected_cost(
    entry_name: str, *, prompt: int, completion: int, cached: int = 0, reasoning: int = 0
) -> float:
    """USD of one call at litellm's table entry: cached prompt tokens at the cache-read rate,
    reasoning tokens (part of the completion) at the reasoning rate, each falling back to the
    input and output rates where the entry has none."""
    entry = bundled_model_table()[entry_name]
    read_rate = entry.get("cache_read_input_token_cost") or entry["input_cost_per_token"]
    reasoning_rate = entry.get("output_cost_per_reasoning_token") or entry["output_cost_per_token"]
    return (
        (prompt - cached) * entry["input_cost_per_token"]
        + cached * read_rate
        + (completion - reasoning) * entry["output_cost_per_token"]
        + reasoning * reasoning_rate
    )
