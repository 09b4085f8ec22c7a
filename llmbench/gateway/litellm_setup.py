"""Import and configure litellm once, on first use.

litellm takes seconds to import: callers get it from litellm_module() inside the function
that makes a call, never at module level, so it stays off the TUI's start path.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import ModuleType

import llmbench  # noqa: F401  # sets the offline environment before litellm is imported
from llmbench.core.pricing import PER_MILLION, SIMULATOR_PRICES
from llmbench.core.simulator import PROVIDER

_lock = threading.Lock()
_configured: ModuleType | None = None


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
            _configured = litellm
    return _configured


async def stop_background_work(timeout_s: float = 5.0) -> None:
    """Let litellm's logging worker finish its callbacks on the running loop, then stop it.
    Call before that loop closes (app exit, end of a CLI command), or callbacks are lost and
    asyncio complains about a destroyed pending task."""
    if _configured is None:
        return
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    # A stuck callback must not hold the app open: stop() cancels what flush() left.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), timeout_s)
    await GLOBAL_LOGGING_WORKER.stop(timeout=timeout_s)
