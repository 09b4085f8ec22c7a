"""Offline token counting with tiktoken.

Only the OpenAI encodings are available offline (litellm ships them and `import llmbench`
points TIKTOKEN_CACHE_DIR at them). Models with another tokenizer (Claude, Gemini, local
models) are counted with cl100k_base as an approximation, and `TokenCount.exact` says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import tiktoken

from llmbench.core import tool_prompt
from llmbench.core.media import content_media_tokens

O200K_BASE = "o200k_base"
CL100K_BASE = "cl100k_base"
APPROXIMATE_ENCODING = CL100K_BASE

# The chat format's framing, from OpenAI's cookbook ("How to count tokens with tiktoken"):
# every message is wrapped in <|start|>{role}\n{content}<|end|>, and the reply is primed
# with <|start|>assistant<|message|>.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3

# Checked in order: "gpt-4o" must match before the broader "gpt-4".
_MODEL_ENCODINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d)"), O200K_BASE),
    (re.compile(r"^(gpt-4|gpt-3\.5|gpt-35|text-embedding-)"), CL100K_BASE),
)

# The built-in simulators bill by cl100k_base, so for them the count is the real one.
_SIMULATOR_PREFIX = "llmbench/"


@dataclass(frozen=True)
class TokenCount:
    tokens: int
    encoding: str
    exact: bool  # False when the model's own tokenizer is not available offline


def _family_name(model: str) -> str:
    """'openrouter/openai/gpt-4o-mini' -> 'gpt-4o-mini': provider prefixes do not change
    the tokenizer."""
    return model.strip().lower().rsplit("/", 1)[-1]


def _known_encoding(model: str) -> str | None:
    if model.startswith(_SIMULATOR_PREFIX):
        return CL100K_BASE
    family = _family_name(model)
    for pattern, encoding in _MODEL_ENCODINGS:
        if pattern.match(family):
            return encoding
    return None


def encoding_for(model: str) -> str:
    """Name of the tiktoken encoding used to count `model`'s tokens."""
    return _known_encoding(model) or APPROXIMATE_ENCODING


def is_exact(model: str) -> bool:
    """Whether counts for `model` come from its own tokenizer rather than an approximation."""
    return _known_encoding(model) is not None


@cache
def _encoding(name: str) -> tiktoken.Encoding:
    # Loading an encoding parses a multi-megabyte BPE file: do it once per process.
    return tiktoken.get_encoding(name)


def encoding(model: str) -> tiktoken.Encoding:
    return _encoding(encoding_for(model))


def count_tokens(text: str, model: str) -> int:
    # encode_ordinary: text that merely contains "<|endoftext|>" is counted, not rejected.
    return len(encoding(model).encode_ordinary(text))


def measure(text: str, model: str) -> TokenCount:
    return TokenCount(count_tokens(text, model), encoding_for(model), is_exact(model))


def _content_text(content: object) -> str:
    """Text of a message's content: a string, or the text parts of a multi-part content list
    (images and audio have no text tokens to count here)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return str(content)


def count_message_tokens(
    messages: Iterable[Mapping[str, object]],
    model: str,
    params: Mapping[str, object] | None = None,
) -> int:
    """Prompt tokens of a chat request, including the chat format's per-message framing, and
    with the request's `params`, what its tool definitions, forced tool and response schema
    add to the prompt (core.tool_prompt)."""
    enc = encoding(model)
    definitions = tool_prompt.function_definitions(params) if params else ()
    total = REPLY_PRIMING_TOKENS
    has_system = False
    for message in messages:
        total += TOKENS_PER_MESSAGE
        # Definitions go into the system message, whose text then ends with a newline.
        padded = bool(definitions) and not has_system and message.get("role") == "system"
        has_system = has_system or message.get("role") == "system"
        for key, value in message.items():
            if key == "content":
                text = _content_text(value)
                if padded:
                    text += tool_prompt.SYSTEM_PADDING
                total += len(enc.encode_ordinary(text))
                if isinstance(value, list):  # images, by the model's provider's rule
                    total += content_media_tokens(value, model)
            elif isinstance(value, str):
                total += len(enc.encode_ordinary(value))
                if key == "name":
                    total += TOKENS_PER_NAME
            elif value is not None:
                # tool calls and the like reach the model serialised as JSON
                total += len(enc.encode_ordinary(json.dumps(value, ensure_ascii=False)))
    if params:
        total += _request_extra_tokens(enc, params, definitions, has_system)
    return total


def _request_extra_tokens(
    enc: tiktoken.Encoding,
    params: Mapping[str, object],
    definitions: tuple[Mapping[str, object], ...],
    has_system: bool,
) -> int:
    """The prompt tokens a request's parameters add: see core.tool_prompt for the source."""
    total = 0
    if definitions:
        rendered = tool_prompt.render_functions(definitions)
        total += len(enc.encode_ordinary(rendered)) + tool_prompt.DEFINITIONS_OVERHEAD
        total -= tool_prompt.SYSTEM_MESSAGE_SAVING if has_system else 0
    forced = tool_prompt.forced_function(params)
    if forced is not None:
        total += len(enc.encode_ordinary(forced)) + tool_prompt.FORCED_FUNCTION_TOKENS
    elif tool_prompt.forbids_calls(params):
        total += tool_prompt.NO_FUNCTION_TOKENS
    schema = tool_prompt.response_schema(params)
    return total + (len(enc.encode_ordinary(schema)) if schema else 0)


def section_tokens(sections: Mapping[str, str], model: str) -> dict[str, int]:
    """Tokens of each prompt section, in the sections' order."""
    enc = encoding(model)
    return {name: len(enc.encode_ordinary(text)) for name, text in sections.items()}


def truncate_to_tokens(text: str, max_tokens: int, model: str) -> str:
    """The longest prefix of `text` made of at most `max_tokens` whole tokens."""
    enc = encoding(model)
    tokens = enc.encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return text
    # "ignore": a cut inside a multi-byte character drops its partial bytes instead of
    # leaving a replacement character that was never in the text.
    return enc.decode(tokens[: max(max_tokens, 0)], errors="ignore")
