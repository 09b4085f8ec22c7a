"""Import and configure litellm once, on first use.

litellm takes seconds to import: callers get it from litellm_module() inside the function
that makes a call, never at module level, so it stays off the TUI's start path.

It also takes milliseconds of CPU per call, and at a few hundred calls a second that CPU, not
the network, sets the pace. The largest share that llmbench does not need is litellm pricing
each response: completion_cost() walks its model table, its generalisation rules and its
zero-cost diagnostics (a fifth of its CPU per call for a model its table does not list), then
its success logging looks the model up again to build a payload for callbacks (a tenth), while
the gateway prices every call itself from its own tables. litellm has no setting that turns
either off, so calls made inside gateway_pricing() are priced by the gateway instead, and their
success logging is skipped when no litellm callback is registered to read it (see
_install_gateway_hooks). Every other litellm call in the process is untouched. Together this
takes about 1.5 ms of the ~5 ms of CPU litellm spends per call (tests/benchmarks/bench_gateway.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import llmbench  # noqa: F401  # sets the offline environment before litellm is imported
from llmbench.builtin_models.simulator import PROVIDER
from llmbench.core.costs.pricing import PER_MILLION, SIMULATOR_PRICES, cost_of
from llmbench.core.models import Price, Usage
from llmbench.gateway.usage_details import token_details

_lock = threading.Lock()
_configured: ModuleType | None = None


@dataclass(frozen=True)
class _GatewayPricing:
    price: Price | None  # None: unpriced, which litellm reports as a response_cost of None


_gateway_pricing: ContextVar[_GatewayPricing | None] = ContextVar(
    "llmbench_gateway_pricing", default=None
)
# Set on litellm's per-call Logging object of a gateway call, so that what litellm does for that
# call later, from its logging worker (another task, outside the context), knows it too.
_GATEWAY_CALL = "_llmbench_gateway_pricing"


@contextlib.contextmanager
def gateway_pricing(price: Price | None) -> Iterator[None]:
    """litellm calls started inside this block are priced at `price` (None: unpriced) instead
    of by litellm's cost calculator. Their response_cost, which litellm's callbacks and
    `response._hidden_params` see, is then the gateway's own figure."""
    token = _gateway_pricing.set(_GatewayPricing(price))
    try:
        yield
    finally:
        _gateway_pricing.reset(token)


def _field(container: object, name: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(name)
    return getattr(container, name, None)


def _reported_usage(result: object) -> Usage | None:
    usage = _field(result, "usage")
    if usage is None:
        return None
    details = token_details(usage)
    return Usage(
        prompt_tokens=_field(usage, "prompt_tokens") or 0,
        completion_tokens=_field(usage, "completion_tokens") or 0,
        cached_tokens=details.cached_tokens or 0,
        reasoning_tokens=details.reasoning_tokens,
        cache_write_tokens=details.cache_write_tokens,
    )


def _gateway_cost(logging_obj: Any, pricing: _GatewayPricing, args: tuple, kwargs: dict) -> Any:
    """What litellm's Logging.response_cost_calculator(result, cache_hit, ...) answers, from the
    gateway's price: 0 for a hit of litellm's own cache, None without usage or price."""
    result = kwargs["result"] if "result" in kwargs else (args[0] if args else None)
    cache_hit = kwargs.get("cache_hit", args[1] if len(args) > 1 else None)
    if cache_hit is None:
        cache_hit = logging_obj.model_call_details.get("cache_hit", False)
    if cache_hit is True:
        return 0.0
    usage = _reported_usage(result)
    return None if usage is None else cost_of(usage, pricing.price)


def _success_logging_needed(logging_obj: Any) -> bool:
    """Whether any litellm success callback, global or passed with the call, would run, or a
    litellm budget is being kept."""
    import litellm

    return bool(
        litellm.max_budget
        or litellm.callbacks
        or litellm.success_callback
        or litellm._async_success_callback
        or getattr(logging_obj, "dynamic_success_callbacks", None)
        or getattr(logging_obj, "dynamic_async_success_callbacks", None)
    )


def _install_gateway_hooks() -> None:
    """Wrap two methods of litellm's per-call Logging object; both act only on calls made
    inside gateway_pricing(), and run litellm's original for every other call.

    - response_cost_calculator, the one method litellm prices a response through (for
      `_hidden_params` and for its callbacks): answered from the gateway's price.
    - async_success_handler, which builds litellm's standard logging payload (more model-table
      look-ups) for its callbacks: skipped for a call that was not streamed when no callback
      is registered (nor a litellm budget set). Streams keep it: litellm assembles the
      streamed response there.
    """
    from litellm.litellm_core_utils.litellm_logging import Logging

    cost_calculator: Callable[..., Any] = Logging.response_cost_calculator
    if getattr(cost_calculator, "__llmbench_wrapped__", False):
        return
    success_handler: Callable[..., Any] = Logging.async_success_handler

    @functools.wraps(cost_calculator)
    def response_cost_calculator(self: Any, *args: Any, **kwargs: Any) -> Any:
        pricing = _gateway_pricing.get() or getattr(self, _GATEWAY_CALL, None)
        if pricing is None:
            return cost_calculator(self, *args, **kwargs)
        setattr(self, _GATEWAY_CALL, pricing)
        return _gateway_cost(self, pricing, args, kwargs)

    @functools.wraps(success_handler)
    async def async_success_handler(self: Any, *args: Any, **kwargs: Any) -> Any:
        gateway_call = getattr(self, _GATEWAY_CALL, None) is not None
        if gateway_call and self.stream is not True and not _success_logging_needed(self):
            return None
        return await success_handler(self, *args, **kwargs)

    response_cost_calculator.__llmbench_wrapped__ = True  # type: ignore[attr-defined]
    Logging.response_cost_calculator = response_cost_calculator  # type: ignore[method-assign]
    Logging.async_success_handler = async_success_handler  # type: ignore[method-assign]


def _register_simulators(litellm: ModuleType) -> None:
    from llmbench.gateway.local import SimulatorProvider

    already = any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map)
    if not already:
        # Appended, not assigned: an embedding app may have its own custom providers.
        litellm.custom_provider_map.append(
            {"provider": PROVIDER, "custom_handler": SimulatorProvider()}
        )
    # litellm runs this on every call; running it now also makes get_llm_provider() and
    # cost lookups know the provider before the first call.
    from litellm.utils import custom_llm_setup

    custom_llm_setup()
    # Prices in litellm's own table too, so litellm's callbacks (a CustomLogger in an app that
    # embeds llmbench) see the same cost the gateway records.
    litellm.register_model(
        {
            model: {
                "input_cost_per_token": price.input / PER_MILLION,
                "output_cost_per_token": price.output / PER_MILLION,
                "cache_read_input_token_cost": price.cached / PER_MILLION,
                "litellm_provider": PROVIDER,
                "mode": "chat",
            }
            for model, price in SIMULATOR_PRICES.items()
        }
    )


def litellm_module() -> ModuleType:
    """The configured litellm module: quiet, no retries of its own, simulators registered."""
    global _configured
    if _configured is not None:
        return _configured
    with _lock:
        if _configured is None:
            import litellm

            # Under the TUI anything printed to stdout corrupts the screen.
            litellm.suppress_debug_info = True
            # The gateway owns retries so that every attempt is recorded.
            litellm.num_retries = 0
            _register_simulators(litellm)
            _install_gateway_hooks()
            # litellm leaves millions of objects (its model tables, its types) that live as
            # long as the process; the collector's full passes walked them all, again and
            # again. Frozen, they are left out of every collection.
            gc.freeze()
            _configured = litellm
    return _configured


async def stop_background_work(timeout_s: float = 5.0) -> None:
    """Let litellm's logging worker finish its callbacks on the running loop, then stop it.
    Call before that loop closes (app exit, end of a CLI command), or callbacks are lost and
    asyncio complains about a destroyed pending task."""
    if _configured is None:
        return
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await _callbacks_handed_to_worker(timeout_s)
    # A stuck callback must not hold the app open: stop() cancels what flush() left.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), timeout_s)
    await GLOBAL_LOGGING_WORKER.stop(timeout=timeout_s)


# litellm hands a finished call's success callbacks to its logging worker from a task of its
# own, running this coroutine; until that task has run, the worker's queue is empty and flush()
# returns at once. Whether it has run by then is the event loop's scheduling: on Python 3.11 it
# usually had, on 3.13 it has not, and the callbacks were lost.
_ENQUEUING_COROUTINE = "_client_async_logging_helper"


async def _callbacks_handed_to_worker(timeout_s: float) -> None:
    current = asyncio.current_task()
    enqueuing = [
        task
        for task in asyncio.all_tasks()
        if task is not current
        and getattr(task.get_coro(), "__qualname__", "") == _ENQUEUING_COROUTINE
    ]
    if enqueuing:
        await asyncio.wait(enqueuing, timeout=timeout_s)
