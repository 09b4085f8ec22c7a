"""What one model call sends: the keyword arguments litellm (or the OpenAI SDK) gets, with the
settings the gateway keeps for itself, the provider litellm places a model name under, and the
provider's key from the OS keyring when its environment variable is not set.

litellm is imported on first use (it takes seconds), never when this module is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, Literal

from llmbench.builtin_models.simulator import PROVIDER
from llmbench.core.prompts.caching import is_marked, unmarked
from llmbench.gateway import openai_direct
from llmbench.gateway.keys import get_key, provider_for_litellm
from llmbench.gateway.prompt_caching import provider_messages

# Set by the gateway itself on every call; a caller's params may not override them.
RESERVED_PARAMS = frozenset(
    {"model", "messages", "stream", "timeout", "num_retries", "max_retries", "mock_response"}
)

Message = Mapping[str, Any]
Transport = Literal["direct", "litellm"]


def load_litellm() -> ModuleType:
    from llmbench.gateway.litellm_setup import litellm_module

    return litellm_module()


def _caller_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of the caller's params; ValueError if they set what the gateway sets."""
    params = dict(params or {})
    reserved = sorted(RESERVED_PARAMS.intersection(params))
    if reserved:
        raise ValueError(f"params may not set {', '.join(reserved)}: the gateway sets them")
    return params


def call_kwargs(
    model: str,
    messages: Sequence[Message],
    params: Mapping[str, Any] | None,
    timeout: float,
) -> dict[str, Any]:
    """litellm's keyword arguments for one attempt."""
    kwargs: dict[str, Any] = {
        **_caller_params(params),
        "model": model,
        # A prompt version's cache marks, as this provider caches (gateway/prompt_caching.py).
        "messages": _messages_for(model, messages),
        "timeout": timeout,
        # litellm's retries and the OpenAI SDK's (2 by default) would hide attempts.
        "num_retries": 0,
        "max_retries": 0,
    }
    if "api_key" not in kwargs:
        api_key = keyring_api_key(model)
        if api_key is not None:
            kwargs["api_key"] = api_key
    return kwargs


def direct_request(
    model: str, messages: Sequence[Message], params: Mapping[str, Any] | None
) -> tuple[openai_direct.Endpoint, dict[str, Any]]:
    """The endpoint and body of one attempt through the OpenAI SDK (transport "direct")."""
    params = _caller_params(params)
    api_key = None if "api_key" in params else keyring_api_key(model, "openai")
    return openai_direct.request(model, unmarked(messages), params, api_key)


def _messages_for(model: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Copies of the messages; the provider is looked up only for messages with cache marks."""
    if any(is_marked(message) for message in messages):
        return provider_messages(provider_of(model), model, messages)
    return [dict(message) for message in messages]


# litellm's route to OpenAI's Responses API (`POST /responses`): the direct client speaks only
# chat completions, so these models always go through litellm.
RESPONSES_PREFIX = "openai/responses/"


def uses_direct(model: str, transport: Transport) -> bool:
    """openai/... models skip litellm, unless the application has registered litellm callbacks
    of its own (Langfuse's, a CustomLogger): they see only calls made through litellm, so the
    call goes there and they see it like any other. `openai/responses/...` never does."""
    return (
        transport == "direct"
        and openai_direct.handles(model)
        and not model.startswith(RESPONSES_PREFIX)
        and not app_litellm_callbacks()
    )


def priced_name(model: str) -> str:
    """The name a model is priced by: `openai/responses/gpt-4.1` is gpt-4.1 over another
    endpoint, at the same rates (litellm's table has no `responses/` entries, and its answer
    names the requested model, not the dated one the server answered with)."""
    if model.startswith(RESPONSES_PREFIX):
        return openai_direct.PREFIX + model.removeprefix(RESPONSES_PREFIX)
    return model


# Where an application registers litellm callbacks; llmbench's own logger is not one that needs
# the call routed through litellm, since the gateway records its calls itself.
_CALLBACK_LISTS = (
    "callbacks",
    "success_callback",
    "_async_success_callback",
    "failure_callback",
    "_async_failure_callback",
)


def app_litellm_callbacks() -> bool:
    """Whether the application registered litellm callbacks. An application that has registers
    them on litellm's module, so it is already imported: this never imports it."""
    litellm = sys.modules.get("litellm")
    if litellm is None:
        return False
    return any(
        not _is_llmbench_logger(callback)
        for name in _CALLBACK_LISTS
        for callback in getattr(litellm, name, None) or ()
    )


def _is_llmbench_logger(callback: object) -> bool:
    return type(callback).__module__ == "llmbench.gateway.callback"


# get_llm_provider() costs tens of microseconds and a call needs it up to three times; its
# answer for a name changes only when a custom provider is registered, hence the second key.
_providers: dict[tuple[str, int], str | None] = {}


def provider_of(model: str) -> str | None:
    litellm = load_litellm()
    key = (model, len(litellm.custom_provider_map))
    if key in _providers:
        return _providers[key]
    try:
        provider: str | None = litellm.get_llm_provider(model)[1]
    except litellm.exceptions.BadRequestError:
        provider = None  # litellm will report the unknown provider when called
    if len(_providers) < 1024:  # model names come from config: a handful, but never unbounded
        _providers[key] = provider
    return provider


def keyring_api_key(model: str, provider: str | None = None) -> str | None:
    """A key from the OS keyring when the provider's environment variable is not set;
    litellm (and the OpenAI SDK) read the environment themselves."""
    if model.startswith(f"{PROVIDER}/"):
        return None
    provider = provider or provider_of(model)
    spec = provider_for_litellm(provider) if provider else None
    if spec is None:
        return None
    source = get_key(spec.provider)
    if source is None or source.source == "env":
        return None
    return source.value
