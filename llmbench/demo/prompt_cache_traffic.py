"""The search-answer feature's calls requested of Claude as calls of `answer-from-docs`
(docs_prompt.py), each on the version in production when it was made, and what the providers'
prompt caches made of them (a call that fell back to another model keeps its request).

Every call sends the version's system text first and the same each time (the product guide,
the format and the examples), then the retrieved articles and the question. The request is
recorded as the gateway records it: v3, which marks the system sections cacheable, as one system
message carrying `cache_control` (core/prompts/caching.marked_messages), the versions before it
as the plain rendering. Its usage follows each provider's cache, which lives 5 minutes after
its last use (Anthropic's ephemeral cache; OpenAI's prefix cache lasts about as long when
idle), both caching nothing shorter than 1,024 tokens:

- Claude caches only what is marked: on v3 a call within 5 minutes of the last one on that
  model reads the head from the cache (`cached_tokens`), any other writes it
  (`cache_write_tokens`), so a quiet night ends with a write and a busy afternoon reads;
  before v3 nothing is cached.
- A call that fell back to gpt-4o: OpenAI caches the longest prefix it has seen by itself, in
  128-token steps, marks or not.

Costs are the demo's prices (catalog.DEMO_PRICES, which bill cache writes as input). Drawn from
no random stream: the traffic decides everything, so the demo stays what its seed makes it.
Rows the other steps made special are left alone: guarded injections (their flags point into
the text), conversations and the image call."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Usage
from llmbench.core.prompts.caching import marked_messages, ordered_messages
from llmbench.core.tokens import count_tokens
from llmbench.demo import media_call, texts
from llmbench.demo.docs_prompt import FEATURE, SERVED_MODEL
from llmbench.demo.records import DemoPrompt, DemoVersion

Row = dict[str, Any]

CACHE_TTL_S = 300.0
MIN_CACHED_TOKENS = 1024
OPENAI_STEP = 128
_CONTEXT, _QUESTION = "Context:\n", "\n\nQuestion: "


def _eligible(row: Row) -> bool:
    return (
        row.get("feature") == FEATURE
        and row.get("model_requested") == SERVED_MODEL
        and row.get("prompt_version") is None
        and row.get("run") is None
        and not row.get("guard_flags")
        and not row.get("conversation_id")
        and media_call.PARTS not in row
    )


def _values(messages_json: str) -> dict[str, str] | None:
    """The articles and the question of a search-answer request as the traffic wrote it."""
    user = [m for m in json.loads(messages_json) if m.get("role") == "user"]
    text = user[-1].get("content") if user else None
    if not isinstance(text, str) or not text.startswith(_CONTEXT) or _QUESTION not in text:
        return None
    articles, question = text[len(_CONTEXT) :].split(_QUESTION, 1)
    return {"articles": articles, "question": question}


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


class Caches:
    """When each (model, version) cache was last used, and each version's head in tokens:
    carried from one slice of the month to the next."""

    def __init__(self) -> None:
        self.last_used: dict[tuple[str, int], float] = {}
        self.tokens: dict[int, int] = {}

    def head_tokens(self, version: DemoVersion, system: str) -> int:
        """Counted once per version, as the served model counts them (a fallback's tokenizer
        differs by a few tokens; counting with it too would load a second encoding)."""
        if version.number not in self.tokens:
            self.tokens[version.number] = count_tokens(system, SERVED_MODEL)
        return self.tokens[version.number]

    def warm(self, model: str, version: int, ts: str) -> bool:
        """Whether the cache still holds this head; either way, it does after this call."""
        now = _seconds(ts)
        last = self.last_used.get((model, version))
        self.last_used[(model, version)] = now
        return last is not None and now - last < CACHE_TTL_S


def _cache_tokens(
    row: Row, version: DemoVersion, head: int, caches: Caches
) -> tuple[int, int | None]:
    """(cache-read tokens, cache-write tokens) of an answered call."""
    provider, model = row.get("provider"), str(row["model"])
    if head < MIN_CACHED_TOKENS:
        return 0, None
    if provider == "anthropic" and version.cacheable:
        return (head, None) if caches.warm(model, version.number, row["ts"]) else (0, head)
    if provider == "openai" and caches.warm(model, version.number, row["ts"]):
        return head // OPENAI_STEP * OPENAI_STEP, None
    return 0, None


def add_docs_prompt(
    calls: Sequence[Row], prompt: DemoPrompt, prices: PriceTable, caches: Caches | None = None
) -> int:
    """Turn the search-answer calls into calls of `prompt`'s production versions; how many.
    `caches` carries the caches over from the calls before these (none: a fresh start)."""
    moves = sorted(
        (move.moved_at, move.to_version)
        for move in prompt.label_moves
        if move.label == "production"
    )
    times = [moved_at for moved_at, _number in moves]
    versions = {version.number: version for version in prompt.versions}
    caches = caches if caches is not None else Caches()
    changed = 0
    for row in calls:  # in time order, as the caches see them
        if not _eligible(row):
            continue
        serving = bisect_right(times, row["ts"])
        values = _values(row["messages"])
        if not serving or values is None:
            continue
        version = versions[moves[serving - 1][1]]
        rendered = {name: texts.render(text, values) for name, text in version.sections.items()}
        messages = (
            marked_messages(rendered, version.cacheable)
            if version.cacheable
            else ordered_messages(rendered, ())
        )
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        row["messages"] = json.dumps(messages, ensure_ascii=False)
        row["prompt_version"] = (prompt.name, version.number)
        if row.get("prompt_tokens") is not None:  # answered, or replayed by llmbench's cache
            _price(row, version, caches.head_tokens(version, system), caches, prices)
        changed += 1
    return changed


def _price(row: Row, version: DemoVersion, head: int, caches: Caches, prices: PriceTable) -> None:
    """The call's tokens with the head added to what it sent, its cache use and its cost."""
    prompt = int(row["prompt_tokens"]) + head
    completion = int(row.get("completion_tokens") or 0)
    price = prices.price(str(row["model"]), row["ts"])
    if row.get("status") == "cache_hit":  # llmbench's own cache: nothing billed, all saved
        row.update(
            prompt_tokens=prompt, saving=texts.call_cost(Usage(prompt, completion), price) or 0.0
        )
        return
    cached, written = _cache_tokens(row, version, head, caches)
    usage = Usage(prompt, completion, cached, cache_write_tokens=written)
    row.update(
        prompt_tokens=prompt,
        cached_tokens=cached,
        cache_write_tokens=written,
        cost=texts.call_cost(usage, price),
    )
