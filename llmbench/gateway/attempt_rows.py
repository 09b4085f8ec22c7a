"""The audit rows of a gateway request, one per attempt: the columns every attempt of the
request shares, then what each attempt adds (its model and params, then its answer, its
failure, its cancellation, or the guard's block). The recorder redacts and seals them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Price, Usage
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway.completion_result import CompletionResult
from llmbench.gateway.errors import Failure
from llmbench.gateway.guarding import guard_columns
from llmbench.gateway.response_cache import CacheHit
from llmbench.gateway.tool_calls import tool_calls_column
from llmbench.store.timestamps import utc_now

# Tags with a column of their own (indexed, for breakdowns); the others go to `tags` as JSON.
TAG_COLUMNS = ("feature", "team", "customer", "task_type", "user")

Row = dict[str, Any]


def request_row(
    request_id: str,
    model: str,
    prompt_version_id: int | None,
    run_id: int | None,
    arm: str | None,
    stored_messages: Sequence[Mapping[str, Any]],
    tags: Mapping[str, str],
    input_flags: tuple[dict[str, Any], ...],
) -> Row:
    """The columns every attempt of one request shares."""
    return {
        "request_id": request_id,
        "model_requested": model,
        "prompt_version_id": prompt_version_id,
        "run_id": run_id,
        "arm": arm,
        "messages": json.dumps(list(stored_messages), ensure_ascii=False),
        **{column: tags.get(column) for column in TAG_COLUMNS},
        **guard_columns(input_flags),
    }


def other_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags without a column of their own."""
    return {k: v for k, v in tags.items() if k not in TAG_COLUMNS}


def public_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The params as recorded: never the call's own api_key."""
    return {k: v for k, v in params.items() if k != "api_key"}


def provider_prefix(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else ""


def attempt_row(
    base: Row,
    extra_tags: Mapping[str, Any],
    number: int,
    model: str,
    started_at: str,
    params: Mapping[str, Any],
    waited_s: float,
) -> Row:
    """One attempt's row before its outcome: `params` without the api_key, and the time it
    queued for a rate-limit slot among its tags."""
    return {
        **base,
        "ts": started_at,
        "attempt": number,
        "model": model,
        "provider": provider_prefix(model),
        "params": json.dumps(params, sort_keys=True, default=str),
        "tags": json.dumps(
            {**extra_tags, "queue_wait_ms": round(waited_s * 1000, 1)} if waited_s else extra_tags,
            sort_keys=True,
        ),
    }


def price_columns(price: Price | None) -> dict[str, float | None]:
    return {
        "input_price": price.input if price else None,
        "output_price": price.output if price else None,
        "cached_price": price.cached if price else None,
        # Only when the call had a rate of their own for them (None: billed as output, input).
        "reasoning_price": price.reasoning if price else None,
        "cache_write_price": price.cache_write if price else None,
    }


def mark_answered(row: Row, result: CompletionResult, stored_response: str) -> None:
    """An answered attempt: what it answered (as stored), its tokens, cost and timings."""
    usage = result.usage
    row.update(
        model=result.model,
        response=stored_response,
        tool_calls=tool_calls_column(result.tool_calls),
        finish_reason=result.finish_reason,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        tokens_estimated=int(usage.estimated),
        cost=result.cost,
        **price_columns(result.price),
        latency_ms=result.latency_ms,
        ttft_ms=result.ttft_ms,
        status="ok",
    )


def mark_withheld(row: Row, reason: str) -> None:
    """An answer the output guard withheld: billed, so its tokens and cost stay."""
    row.update(
        status="blocked",
        error_kind="guard_output",
        error=f"output withheld by the guard: {reason}",
    )


def mark_failed(row: Row, failure: Failure, message: str, latency_ms: float) -> None:
    row.update(
        status=failure.call_status,
        error_kind=failure.kind,
        error=message,
        latency_ms=latency_ms,
    )


def mark_cancelled(
    row: Row,
    messages: Sequence[Mapping[str, Any]],
    text: str,
    started: float,
    price_of: Callable[[str, str], Price | None],
    params: Mapping[str, Any] | None = None,
) -> None:
    """A cancelled attempt: status error, error_kind cancelled; when text had arrived, the
    tokens so far (estimated offline, the provider sent no usage, with the tool definitions
    and schema of `params`) and what they cost at `price_of(model, ts)`."""
    row.update(
        status="error",
        error_kind="cancelled",
        error=(
            f"cancelled by the caller after {len(text)} characters of the answer"
            if text
            else "cancelled by the caller before an answer"
        ),
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    if text:
        model = str(row["model"])
        usage = Usage(
            prompt_tokens=count_message_tokens(messages, model, params),
            completion_tokens=count_tokens(text, model),
            estimated=True,
        )
        price = price_of(model, str(row["ts"]))
        row.update(
            response=text,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            tokens_estimated=1,
            cost=cost_of(usage, price),
            **price_columns(price),
        )


def blocked_row(
    base: Row, extra_tags: Mapping[str, Any], model: str, reason: str, started: float
) -> Row:
    """The one row of a request the input guard blocked: no provider was called."""
    return {
        **base,
        "ts": utc_now(),
        "attempt": 1,
        "model": model,
        "provider": provider_prefix(model),
        "tags": json.dumps(dict(extra_tags), sort_keys=True),
        "status": "blocked",
        "error_kind": "guard_input",
        "error": f"blocked by the input guard: {reason}",
        "latency_ms": (time.perf_counter() - started) * 1000,
    }


def cache_hit_row(
    base: Row,
    extra_tags: Mapping[str, Any],
    hit: CacheHit,
    result: CompletionResult,
    started_at: str,
) -> Row:
    """The one row of a request the response cache answered: no cost, and as saving what
    the call would have cost now."""
    tags = {**extra_tags, "cache": hit.kind, "cache_key": hit.key[:16]}
    if hit.similarity is not None:
        tags["cache_similarity"] = hit.similarity
    usage = result.usage
    return {
        **base,
        "ts": started_at,
        "attempt": 1,
        "model": result.model,
        "provider": "cache",
        "tags": json.dumps(tags, sort_keys=True),
        "response": result.text,
        "tool_calls": tool_calls_column(result.tool_calls),
        "finish_reason": result.finish_reason,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        # The answer's reasoning, as it was made; a hit writes nothing to a provider's cache.
        "reasoning_tokens": usage.reasoning_tokens,
        "cost": 0.0,
        # What the call would have cost now: the money the cache saved.
        "saving": hit.answer.get("cost") or 0.0,
        "latency_ms": result.latency_ms,
        "status": "cache_hit",
    }
