"""Compression by rules: a version's text with duplicate sentences and boilerplate removed,
and its few-shot pool without the examples dynamic few-shot never selected.

A sentence holding template code ({{ }}, {% %}) is never touched: it carries the call's values.
The token saving per call is counted on the static text, with the template code taken out, as
the prompt-caching advice counts it (services/costs/cache_savings.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from llmbench.core.models import Example

TokenCount = Callable[[str], int]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Whole sentences that ask nothing a model does not already do.
_BOILERPLATE = re.compile(
    r"^(?:please\s+)?(?:do your best|take your time|thank you|thanks"
    r"|think carefully|be helpful|you are a helpful assistant|good luck)[.!]?$",
    re.IGNORECASE,
)
# Lead-ins that add words, not meaning: "Please note that X." is "X."
_LEAD_IN = re.compile(
    r"^(?:please\s+(?:note|remember)\s+that\s+|it\s+is\s+(?:very\s+)?important\s+that\s+you\s+"
    r"|please\s+make\s+sure\s+(?:that\s+you\s+|to\s+)|make\s+sure\s+(?:that\s+you\s+|to\s+)"
    r"|always\s+remember\s+to\s+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Compression:
    sections: dict[str, str]
    examples: tuple[Example, ...]
    removed: tuple[str, ...]  # what was taken out, one line each, for the review

    def changed(self, sections: Mapping[str, str], examples: Sequence[Example]) -> bool:
        return self.sections != dict(sections) or self.examples != tuple(examples)


def _key(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.casefold()))


def _tidy(sentence: str) -> str:
    shorter = _LEAD_IN.sub("", sentence, count=1)
    return shorter[:1].upper() + shorter[1:] if shorter != sentence else sentence


def compress_sections(sections: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Each section with its repeated sentences (seen earlier in any section), boilerplate
    sentences and wordy lead-ins removed; the line breaks kept."""
    seen: set[str] = set()
    removed: list[str] = []
    result: dict[str, str] = {}
    for name, text in sections.items():
        lines = []
        for line in text.split("\n"):
            kept = []
            before = len(removed)
            for sentence in _SENTENCE_END.split(line):
                if not sentence.strip() or TEMPLATE_CODE.search(sentence):
                    kept.append(sentence)
                    continue
                key = _key(sentence)
                if key and key in seen:
                    removed.append(f"{name}: repeated “{sentence.strip()}”")
                    continue
                if _BOILERPLATE.match(sentence.strip()):
                    removed.append(f"{name}: boilerplate “{sentence.strip()}”")
                    continue
                seen.add(key)
                tidied = _tidy(sentence.strip())
                if tidied != sentence.strip():
                    removed.append(f"{name}: lead-in of “{sentence.strip()}”")
                kept.append(sentence.replace(sentence.strip(), tidied))
            if len(removed) == before:
                lines.append(line)  # nothing taken out: the line as written, spacing and all
                continue
            joined = " ".join(part for part in kept if part.strip())
            if line.strip() and not joined.strip():
                continue  # the whole line was removed
            lines.append(joined)
        result[name] = "\n".join(lines)
    return result, removed


def unused_examples(
    examples: Sequence[Example], few_shot_k: int | None, uses: Sequence[int]
) -> tuple[tuple[Example, ...], list[str]]:
    """The pool without the examples never selected (`uses[i]`: calls that showed example i).
    Only with dynamic few-shot: a pool shown whole is used by every call."""
    if few_shot_k is None or len(uses) != len(examples):
        return tuple(examples), []
    kept = tuple(example for example, used in zip(examples, uses, strict=True) if used)
    if not kept:  # no call showed any: nothing says which help, keep them all
        return tuple(examples), []
    dropped = [
        f"example never selected: “{example.input[:60]}”"
        for example, used in zip(examples, uses, strict=True)
        if not used
    ]
    return kept, dropped


def compress(
    sections: Mapping[str, str],
    examples: Sequence[Example],
    few_shot_k: int | None,
    example_uses: Sequence[int],
) -> Compression:
    compressed, removed = compress_sections(sections)
    kept, dropped = unused_examples(examples, few_shot_k, example_uses)
    return Compression(compressed, kept, tuple(removed + dropped))


def static_text(sections: Mapping[str, str]) -> str:
    return "\n".join(TEMPLATE_CODE.sub("", text) for text in sections.values())


def tokens_saved_per_call(
    before: Mapping[str, str], after: Mapping[str, str], count: TokenCount
) -> int:
    """Prompt tokens every call saves: the static text's tokens before less after. Examples
    never selected were never sent, so dropping them saves no tokens (only the pool's size)."""
    return max(count(static_text(before)) - count(static_text(after)), 0)
