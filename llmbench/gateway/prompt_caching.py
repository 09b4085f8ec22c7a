"""What each provider gets of a prompt version's cache marks (core/prompts/caching.py): the
marked messages as they are, the marks taken out, or the marks with the rest of the system
text moved, by the provider litellm places the model under. Read from litellm 1.110.2's source:

- Anthropic (`anthropic/`, and Claude on Vertex AI and Bedrock): litellm turns each system
  message into a text block of the request's `system` and keeps its `cache_control`, whether
  the mark is on the message (as core/prompts/caching puts it) or on a content block
  (`llms/anthropic/chat/transformation.py`, `translate_system_message`), so the provider caches
  the prefix up to the mark. Bedrock's Converse API gets a `cachePoint` block after it, for
  the models litellm knows accept one (`converse_transformation.py`).
- Gemini (`gemini/`, and Gemini on Vertex AI): litellm takes the first run of marked messages
  (`utils.is_cached_message`: a mark on the message or on a text block) *and every system
  message* (`llms/vertex_ai/context_caching/transformation.py`, `separate_cached_messages`),
  and names them by a key hashed from them, the tools and the model, sent as the cache's
  displayName. It reuses the cache it remembers for that key in this process (made or found
  here, until 10 s before its expireTime: `known_cached_contents.py`); otherwise it lists
  `GET cachedContents` for that displayName (`check_cache`), and creates one
  (`POST cachedContents`: the system text as its system instruction, beside a placeholder "."
  user turn when no other turn is cached, and the request's tools) when none is found. The
  rest of the request goes to generateContent with `cachedContent` naming it. The call that
  created the cache counts the cache's tokens as cache writes (`cache_creation_input_tokens`,
  added to its prompt tokens); every call counts `cachedContentTokenCount` as cache reads.
  Below the model's minimum cacheable tokens (`get_prompt_cache_min_tokens`), or when the
  list answers 404, it sends the request uncached. Since every system message goes into the
  cached content, the system sections not marked are moved to the head of the user message
  here: otherwise a section that changes per call (examples chosen per call) would create a
  new cached content on every call.
- Everyone else (OpenAI and OpenAI-compatible servers, the built-in models): no marks. OpenAI
  caches the longest prefix it has seen by itself; the cached sections already lead the
  request, in the same order on every call, and the text sent is the plain rendering's.
  (litellm would keep the marks for an `openai/` model at a custom `api_base`, where a server
  that does not know them may refuse the request.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmbench.core.prompts.caching import is_marked, unmarked

MARKS_KEPT = frozenset({"anthropic"})
# Providers serving several families: the marks are kept for the ones that cache by them.
_FAMILIES_MARKED = {
    "bedrock": ("anthropic", "claude", "nova"),
    "vertex_ai": ("claude",),
    "vertex_ai_beta": ("claude",),
}
GEMINI_PROVIDERS = frozenset({"gemini", "vertex_ai", "vertex_ai_beta"})


def provider_messages(
    provider: str | None, model: str, messages: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The messages as this provider gets them: see the module's docstring."""
    if not any(is_marked(message) for message in messages):
        return [dict(message) for message in messages]
    name = model.lower()
    if provider in MARKS_KEPT or any(
        family in name for family in _FAMILIES_MARKED.get(provider or "", ())
    ):
        return [dict(message) for message in messages]
    if provider in GEMINI_PROVIDERS and "gemini" in name:
        return gemini_messages(messages)
    return unmarked(messages)


def gemini_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The messages in their order, but the text of the system messages not marked moved to
    the head of the next user message (litellm would put it into the cached content too)."""
    result: list[dict[str, Any]] = []
    moved: list[str] = []
    for message in messages:
        content = message.get("content")
        if message.get("role") == "system" and not is_marked(message) and isinstance(content, str):
            moved.append(content)
            continue
        copy = dict(message)
        if moved and copy.get("role") == "user" and isinstance(content, str):
            copy["content"] = "\n\n".join([*moved, content])
            moved = []
        result.append(copy)
    if moved:
        result.append({"role": "user", "content": "\n\n".join(moved)})
    return result
