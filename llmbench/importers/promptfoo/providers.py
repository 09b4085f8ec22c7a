"""promptfoo provider ids (`openai:gpt-4o-mini`, `anthropic:messages:claude-...`,
`ollama:chat:llama3`) as the litellm model names llmbench calls, and provider `config` as call
params. API keys in a config are refused outright: a converted suite's plan is saved in the
database, where keys never go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.evaluation.tool_checks import tools_problem

# promptfoo's provider prefix -> litellm's. Each model id after the prefix is kept as it is.
LITELLM_PREFIXES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure",
    "azureopenai": "azure",
    "vertex": "vertex_ai",
    "google": "gemini",
    "mistral": "mistral",
    "groq": "groq",
    "openrouter": "openrouter",
    "bedrock": "bedrock",
    "deepseek": "deepseek",
    "togetherai": "together_ai",
    "perplexity": "perplexity",
    "cohere": "cohere",
    "xai": "xai",
    "fireworks": "fireworks_ai",
}
# The environment variable litellm reads each provider's key from, for the refusal message.
KEY_VARIABLES: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "azure": "AZURE_API_KEY",
    "azureopenai": "AZURE_API_KEY",
    "google": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "togetherai": "TOGETHERAI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "xai": "XAI_API_KEY",
    "fireworks": "FIREWORKS_AI_API_KEY",
}
# `<prefix>:<kind>:<model>`: the kinds that are chat completions, as llmbench calls models.
_CHAT_KINDS = frozenset({"chat", "messages", "responses"})
# Kinds that are not a chat model at all (embeddings, images, assistants, ...).
_OTHER_KINDS = frozenset(
    {
        "completion",
        "embedding",
        "embeddings",
        "assistant",
        "realtime",
        "image",
        "moderation",
        "transcription",
        "tts",
        "agents",
        "video",
    }
)
# Provider config keys that are call params under the same name in litellm.
PARAM_KEYS = frozenset(
    {
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "top_p",
        "top_k",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "response_format",
        "reasoning_effort",
        "tool_choice",
        "functions",
        "function_call",
    }
)
# Key names (lower case, without _ and -) whose values are credentials.
_SECRET_NAMES = frozenset(
    {
        "apikey",
        "accesstoken",
        "authtoken",
        "bearertoken",
        "token",
        "secretkey",
        "secretaccesskey",
        "sessiontoken",
        "password",
        "clientsecret",
    }
)
_NAME_NOISE = re.compile(r"[_\-\s]")


class SecretInConfig(ValueError):
    """A provider config holds a credential; the message names the key, never its value."""


def is_secret_key(key: str) -> bool:
    return _NAME_NOISE.sub("", key).lower() in _SECRET_NAMES


def litellm_model(provider_id: str) -> str | None:
    """The litellm model name for a promptfoo provider id, or None when llmbench cannot call
    it (scripts, HTTP endpoints, embeddings, unknown providers)."""
    text = provider_id.strip()
    if text == "echo":
        return "llmbench/echo"  # promptfoo's echo provider answers with the prompt, as ours does
    if text.startswith("llmbench/"):
        return text
    prefix, separator, rest = text.partition(":")
    if not separator or not rest:
        return None
    kind, _, model = rest.partition(":")
    if not model:
        kind, model = "", rest
    if kind and kind not in _CHAT_KINDS | _OTHER_KINDS:
        # A colon inside the model id (ollama tags: llama3:8b), not a kind.
        kind, model = "", rest
    if prefix == "ollama":
        if kind in ("", "completion"):
            return f"ollama/{model}"
        return f"ollama_chat/{model}" if kind == "chat" else None
    if prefix == "openai" and kind == "completion":
        return f"text-completion-openai/{model}"
    if kind in _OTHER_KINDS or prefix not in LITELLM_PREFIXES:
        return None
    return f"{LITELLM_PREFIXES[prefix]}/{model}"


def key_hint(provider_id: str) -> str:
    prefix = provider_id.partition(":")[0]
    variable = KEY_VARIABLES.get(prefix)
    where = f"set {variable}" if variable else "set the provider's environment variable"
    return f"{where} or run `llmbench keys set {prefix or 'PROVIDER'}`"


@dataclass(frozen=True)
class ProviderConfig:
    params: dict[str, Any] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()  # config keys that have no place in a suite
    why: dict[str, str] = field(default_factory=dict)  # an ignored key's own reason, if any


def provider_config(config: Mapping[str, Any], where: str, provider_id: str) -> ProviderConfig:
    """Call params from a provider's `config`; SecretInConfig for a credential."""
    params: dict[str, Any] = {}
    ignored: list[str] = []
    why: dict[str, str] = {}
    for key, value in config.items():
        if is_secret_key(str(key)):
            raise SecretInConfig(
                f"{where}.{key}: an API key is not converted — keys never go in a suite (its "
                f"plan is saved in the database); remove it and {key_hint(provider_id)}"
            )
        if key == "tools":
            # OpenAI's function tools, sent as they are (the suite checks them when read).
            problem = _tools_problem(value)
            if problem is None:
                params[key] = value
            else:
                ignored.append(key)
                why[key] = problem
        elif key in PARAM_KEYS:
            params[key] = value
        else:
            ignored.append(str(key))
    return ProviderConfig(params, tuple(ignored), why)


def _tools_problem(value: object) -> str | None:
    if isinstance(value, str):
        return "tools named by a variable are not read: list them in the config or a file"
    problem = tools_problem(value)
    return None if problem is None else f"{problem} (OpenAI's form is needed)"
