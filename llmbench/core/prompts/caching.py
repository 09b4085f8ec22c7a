"""Provider prompt caching of a version's marked sections: which text goes first and which
message carries the cache mark. Pure: the gateway decides per provider what to do with the marks
(gateway/prompt_caching.py).

Providers cache a request's prefix: OpenAI automatically (the longest prefix seen before),
Anthropic up to each `cache_control` mark, Gemini as cached content built from the marked
messages. Either way the cached text must come first and be the same on every call, so the
sections marked cacheable lead the system message, in section order, and nothing that varies
per call (a variable, the task) sits between them. They are sent as one system message
marked with `cache_control: {"type": "ephemeral"}` (Anthropic's mark, which litellm reads on a
message as on a content block, for every provider that caches by marks), and the system
sections not marked follow as a system message of their own, so a provider that caches whole
messages (Gemini) never caches them by accident.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from llmbench.core.models import SECTION_NAMES

CACHE_CONTROL: Mapping[str, str] = {"type": "ephemeral"}

# Where each standard section goes when nothing is marked (core/prompts/templates.py).
SYSTEM_SECTIONS = ("role", "format", "safety", "examples")
USER_SECTIONS = ("task", "freeform")


def cacheable_of(marked: Iterable[str]) -> tuple[str, ...]:
    """Marked section names, each once, in section order (standard sections, then others by
    name): how a version stores them, so two versions marking the same sections are equal."""
    names = set(marked)
    known = [name for name in SECTION_NAMES if name in names]
    return (*known, *sorted(names - set(SECTION_NAMES)))


def toggled(marked: Collection[str], section: str) -> tuple[str, ...]:
    """The marks with `section` switched on or off."""
    names = set(marked)
    names.symmetric_difference_update({section})
    return cacheable_of(names)


def _order(rendered: Mapping[str, str]) -> list[str]:
    known = [name for name in SECTION_NAMES if name in rendered]
    return known + sorted(name for name in rendered if name not in SECTION_NAMES)


def cache_split(
    rendered: Mapping[str, str], cacheable: Collection[str]
) -> tuple[list[str], list[str], list[str]]:
    """The texts of the cached head, of the other system sections and of the user message,
    each in section order; empty sections are left out."""
    head = [rendered[name] for name in _order(rendered) if name in cacheable and rendered[name]]
    system = [
        rendered[name] for name in SYSTEM_SECTIONS if rendered.get(name) and name not in cacheable
    ]
    user = [
        rendered[name]
        for name in _order(rendered)
        if name not in SYSTEM_SECTIONS and name not in cacheable and rendered[name]
    ]
    return head, system, user


def ordered_messages(
    rendered: Mapping[str, str], cacheable: Collection[str]
) -> list[dict[str, str]]:
    """The messages as plain text, the cached head leading the system message: what an
    OpenAI-style provider gets (its automatic prefix cache), and what the editor previews."""
    head, system, user = cache_split(rendered, cacheable)
    messages = []
    if head or system:
        messages.append({"role": "system", "content": "\n\n".join(head + system)})
    if user:
        messages.append({"role": "user", "content": "\n\n".join(user)})
    return messages


def marked_messages(
    rendered: Mapping[str, str], cacheable: Collection[str]
) -> list[dict[str, Any]]:
    """The messages with the cached head as a system message carrying `cache_control`, then
    the other system sections, then the user message. The mark sits on the message, its
    content stays text (litellm's message-level form: every reader of messages, from the
    judges to F6, sees text); litellm sends it to Anthropic as a `system` content block with
    the mark, and Gemini's cached content is made of it."""
    head, system, user = cache_split(rendered, cacheable)
    messages: list[dict[str, Any]] = []
    if head:
        text = "\n\n".join(head)
        messages.append({"role": "system", "content": text, "cache_control": dict(CACHE_CONTROL)})
    if system:
        messages.append({"role": "system", "content": "\n\n".join(system)})
    if user:
        messages.append({"role": "user", "content": "\n\n".join(user)})
    return messages


def is_marked(message: Mapping[str, Any]) -> bool:
    """Whether a message carries a cache mark, on itself or on one of its content blocks."""
    if isinstance(message.get("cache_control"), Mapping):
        return True
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(part, Mapping) and isinstance(part.get("cache_control"), Mapping)
        for part in content
    )


def unmarked(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The messages without cache marks, for a provider that caches prefixes by itself (or
    not at all): a marked content of text blocks only becomes their text, and the marked
    system head and the system message after it become one, so the text sent is exactly the
    plain rendering's (`ordered_messages`). Other content (images) keeps its blocks."""
    if not any(is_marked(message) for message in messages):
        return [dict(message) for message in messages]
    result: list[dict[str, Any]] = []
    head_open = False  # the last message kept is a marked system head, still open for the rest
    for message in messages:
        plain = {key: value for key, value in message.items() if key != "cache_control"}
        content = plain.get("content")
        if isinstance(content, list) and is_marked({"content": content}):
            parts = [_without_mark(part) for part in content]
            if all(isinstance(p, Mapping) and p.get("type") == "text" for p in parts):
                plain["content"] = "\n\n".join(str(p.get("text") or "") for p in parts)
            else:
                plain["content"] = parts
        text = plain.get("content")
        if head_open and plain.get("role") == "system" and isinstance(text, str):
            result[-1]["content"] = f"{result[-1]['content']}\n\n{text}"
            head_open = False
            continue
        result.append(plain)
        head_open = plain.get("role") == "system" and isinstance(text, str) and is_marked(message)
    return result


def _without_mark(part: object) -> object:
    if isinstance(part, Mapping) and "cache_control" in part:
        return {key: value for key, value in part.items() if key != "cache_control"}
    return part


def cache_notes(
    sections: Mapping[str, str], cacheable: Collection[str], few_shot: bool
) -> list[str]:
    """Why a marked section would not be served from the cache: it uses variables (the text
    changes with them) or it is the examples section with examples chosen per call."""
    notes = []
    for name in cacheable_of(cacheable):
        text = sections.get(name, "")
        if not text.strip():
            notes.append(f"{name}: marked cacheable but empty")
        elif "{{" in text or "{%" in text:
            notes.append(f"{name}: uses template code, so it is cached only while it renders alike")
        elif name == "examples" and few_shot:
            notes.append("examples: chosen per call (few_shot_k), so they change the prefix")
    return notes
