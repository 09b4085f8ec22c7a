"""Graded items named as a reviewer recognises them, not by their row ("result #8"): the test
case (its description, else an excerpt of its most telling input) or the call's question, then
the prompt version and the model that answered."""

from __future__ import annotations

import json
from collections.abc import Iterable

from llmbench.store.db import Store
from llmbench.store.grading.item_names import ItemFacts, item_facts

EXCERPT_CHARS = 48


def item_names(store: Store, keys: Iterable[str]) -> dict[str, str]:
    """A name for each item of `keys` ("result:12", "call:7") found in the database."""
    return {key: name_of(facts) for key, facts in item_facts(store.read(), keys).items()}


def name_of(facts: ItemFacts) -> str:
    """'"Hi, I was charged twice for my…" · support-reply v4 · gpt-4o' for an item."""
    what = facts.description or _excerpt(facts.inputs)
    parts = [f"“{what}”" if what else _fallback(facts.key)]
    parts.append(facts.version or "no prompt")
    parts.append(facts.model)
    return " · ".join(parts)


def _excerpt(inputs: dict[str, object]) -> str:
    """The longest input (the ticket, the question: what tells cases apart), on one line."""
    texts = [
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for value in inputs.values()
    ]
    if not texts:
        return ""
    text = " ".join(max(texts, key=len).split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def _fallback(key: str) -> str:
    kind, _, number = key.partition(":")
    return f"{'case' if kind == 'result' else kind} #{number} (no input)"
