"""The injection score of the input guard: every prompt-injection signal in a text, each with
its rule, weight and span, and how the signals add up.

- The rules of core/guard/injection_rules.toml run on the folded text (core/guard/folding.py),
  each only in windows around its triggers' occurrences.
- Fence tags ("</user_input>") are looked for with invisible characters taken out.
- Whole-text disguises: rot13, reversed, leetspeak and letter-spaced forms are read again when
  a strong word shows in that form and not in plain form.
- Encoded runs (base64, hex, base32, binary, URL-encoding, escapes, Ascii85/base85, Morse,
  Unicode tags: core/guard/decode.py) are decoded and scanned again, two layers deep, within a
  budget for the whole text.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from llmbench.core.guard.decode import decode_all
from llmbench.core.guard.excerpts import mask_sensitive
from llmbench.core.guard.folding import fold, views
from llmbench.core.guard.injection_rules import CompiledRule, compiled_rules
from llmbench.core.guard.normalize import compose, normalize
from llmbench.core.guard.policy import Finding
from llmbench.core.prompts.fences import FENCE_TAGS, fence_tag_starts

FENCE_WEIGHT = 0.8
ENCODED_MIN_SCORE = 0.7  # an instruction hidden in an encoding is an attack in itself
MAX_DEPTH = 2  # base64 inside rot13 is decoded; a third layer is not looked for
MAX_DECODED_CHARS = 65_536  # decoded text scanned per input, all layers together
_DETAIL_CHARS = 80
_FENCE_NAMES = tuple(tag.lower() for tag in FENCE_TAGS)

_RULES = compiled_rules(fold)


@dataclass(frozen=True)
class _View:
    """A folded copy of (part of) the text and where each of its characters came from."""

    text: str
    origin: Callable[[int], int]


def injection_findings(text: str, where: str = "") -> list[Finding]:
    """Every injection signal in text, each with its rule, weight and span."""
    return _signals(text, where, 0, _DecodeBudget())


class _DecodeBudget:
    """Decoding is bounded for the whole text, nested layers included: an input that is
    base64 of base64 of many base64 runs must not multiply the work."""

    def __init__(self) -> None:
        self.chars = MAX_DECODED_CHARS

    def take(self, size: int) -> bool:
        if size > self.chars:
            return False
        self.chars -= size
        return True


def _signals(text: str, where: str, depth: int, budget: _DecodeBudget) -> list[Finding]:
    base, origin, folded = views(text)
    view = _View(folded, origin)
    findings = _match_rules(view, text, where)
    if any(tag in view.text for tag in _FENCE_NAMES):
        findings += _fence_findings(base, origin, text, where)
    findings += _normalized(view, text, where)
    findings += _transformed(view, text, where, findings, depth)
    if depth < MAX_DEPTH:
        findings += _encoded(text, where, depth, budget)
    return findings


def _match_rules(view: _View, text: str, where: str, prefix: str = "") -> list[Finding]:
    """Each rule runs only in windows around its triggers' occurrences: a match contains a
    trigger and is shorter than WINDOW_MARGIN on either side of it."""
    folded = view.text
    findings = []
    for index, starts in _trigger_hits(folded).items():
        compiled = _RULES[index]
        findings += _rule_findings(compiled, view, text, where, prefix, _windows(folded, starts))
    return findings


WINDOW_MARGIN = 256  # longer than any rule's match (tests/core/test_guard_input.py checks)
_MAX_HITS = 64  # beyond this many trigger occurrences, scanning the whole text is cheaper
_WORD_TRIGGER = re.compile(r"[a-z][a-z0-9_]{2}[a-z0-9_ \-]*")


def _index_triggers() -> tuple[dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """Triggers that start a word (ASCII letters, digits, spaces, "_", "-"; every rule puts
    them after a word boundary) by their first three characters; the others in a list."""
    by_prefix: dict[str, list[tuple[str, int]]] = {}
    others: list[tuple[str, int]] = []
    for index, compiled in enumerate(_RULES):
        for trigger in compiled.triggers:
            if _WORD_TRIGGER.fullmatch(trigger):
                by_prefix.setdefault(trigger[:3], []).append((trigger, index))
            else:
                others.append((trigger, index))
    return by_prefix, others


_TRIGGERS_BY_PREFIX, _OTHER_TRIGGERS = _index_triggers()


def _trie_pattern(words: list[str]) -> str:
    """A regular expression matching any of `words`, shaped as a trie (one branch per first
    character, and so on), so the engine tries few alternatives at each position."""
    if not words:
        return "(?!)"
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for character in word:
            node = node.setdefault(character, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        if "" in node:  # a whole word ends here: the shortest match is enough
            return ""
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return pattern(trie)


# Where a word trigger starts: a zero-width match, so triggers that overlap (one starting inside
# another's span) are all found, and only positions where some trigger starts reach Python.
_TRIGGER_STARTS = re.compile(
    r"\b(?=" + _trie_pattern([t for group in _TRIGGERS_BY_PREFIX.values() for t, _ in group]) + ")"
)


# Each other trigger's first non-ASCII character ("" for an ASCII trigger).
_NON_ASCII_KEY = {
    trigger: next((c for c in trigger if not c.isascii()), "") for trigger, _ in _OTHER_TRIGGERS
}


def _trigger_hits(folded: str) -> dict[int, list[int]]:
    """Rule index -> positions of its triggers in folded (at most _MAX_HITS + 1 each)."""
    hits: dict[int, list[int]] = {}
    for match in _TRIGGER_STARTS.finditer(folded):
        start = match.start()
        for trigger, index in _TRIGGERS_BY_PREFIX[folded[start : start + 3]]:
            if folded.startswith(trigger, start):
                hits.setdefault(index, []).append(start)
    # A trigger in another script is looked for only when its first such character is there.
    present = set(folded) if not folded.isascii() else frozenset()
    for trigger, index in _OTHER_TRIGGERS:
        key = _NON_ASCII_KEY[trigger]
        if key and key not in present:
            continue
        position = folded.find(trigger)
        if position == -1:
            continue
        found = hits.setdefault(index, [])
        while position != -1 and len(found) <= _MAX_HITS:
            found.append(position)
            position = folded.find(trigger, position + 1)
    return hits


def _windows(folded: str, starts: list[int]) -> list[tuple[int, int]]:
    if len(starts) > _MAX_HITS:
        return [(0, len(folded))]
    starts.sort()
    windows: list[tuple[int, int]] = []
    for start in starts:
        low, high = max(0, start - WINDOW_MARGIN), min(len(folded), start + WINDOW_MARGIN)
        if windows and low <= windows[-1][1]:
            windows[-1] = (windows[-1][0], high)
        else:
            windows.append((low, high))
    return windows


def _rule_findings(
    compiled: CompiledRule,
    view: _View,
    text: str,
    where: str,
    prefix: str,
    windows: list[tuple[int, int]],
) -> list[Finding]:
    findings = []
    matches = (
        match for low, high in windows for match in compiled.regex.finditer(view.text, low, high)
    )
    for match in matches:
        start, end = _span(view, match.start(), match.end())
        rule = compiled.rule
        findings.append(
            Finding(
                f"{prefix}{rule.id}",
                rule.kind if not prefix else "encoded_payload",
                start,
                end,
                rule.weight,
                where,
                _excerpt(text[start:end]),
            )
        )
    return findings


def _span(view: _View, start: int, end: int) -> tuple[int, int]:
    if end <= start:
        position = view.origin(start)
        return position, position
    first, last = view.origin(start), view.origin(end - 1)
    return min(first, last), max(first, last) + 1


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _fence_findings(
    base: str, origin: Callable[[int], int], text: str, where: str
) -> list[Finding]:
    """Fence tags, looked for with invisible characters taken out ("</user\u200b_input>")."""
    findings = []
    for start in fence_tag_starts(base, FENCE_TAGS):
        close = base.find(">", start, start + 64)
        end = close + 1 if close != -1 else start + 1
        first, last = origin(start), origin(end - 1) + 1
        findings.append(
            Finding(
                "fence_escape.fence_tag",
                "fence_escape",
                first,
                last,
                FENCE_WEIGHT,
                where,
                _excerpt(text[first:last]),
            )
        )
    return findings


def _normalized(view: _View, text: str, where: str) -> list[Finding]:
    """The rules again on the text with split, dotted, escaped, cut and misspelt trigger words
    undone (core/guard/normalize.py), only around what was undone; only matches that reach
    into an undone disguise count, and they count as an obfuscated payload."""
    normalized = normalize(view.text)
    if normalized is None:
        return []
    changed = [
        (view.origin(low), view.origin(max(low, high - 1)) + 1) for low, high in normalized.changed
    ]
    to_text = compose(normalized, view.origin)
    found: list[Finding] = []
    for low, high in normalized.windows(WINDOW_MARGIN):
        piece = _View(normalized.text[low:high], lambda i, low=low: to_text(low + i))
        found += _match_rules(piece, text, where, "normalized:")
    return [
        _as_encoded(finding)
        for finding in found
        if any(low < finding.end and finding.start < high for low, high in changed)
    ]


# Words an attack in rot13, reversed or leetspeak turns into something a rule can read.
_STRONG_WORDS = (
    "ignore",
    "disregard",
    "instructions",
    "system prompt",
    "previous",
    "jailbreak",
    "developer mode",
    "restrictions",
    "reveal",
    "password",
)
_ROT13_WORDS = tuple(codecs.encode(word, "rot13") for word in _STRONG_WORDS)
_REVERSED_WORDS = tuple(word[::-1] for word in _STRONG_WORDS)
_LEET = str.maketrans("013457@$!|", "oieastasil")
_LEET_HINT = re.compile(r"[a-z][0-9@$][a-z0-9@$]*[a-z]|[0-9][a-z]+[0-9]")
_SPACED_HINT = re.compile(r" \w \w \w ")
_SPACED = re.compile(r"(?<!\S)(?:\w[ ]){3,}\w(?!\S)")


def _transformed(
    view: _View, text: str, where: str, found: list[Finding], depth: int
) -> list[Finding]:
    """Whole-text disguises: rot13, reversed, leetspeak, l e t t e r s p a c i n g. Each is
    looked at only when a strong word appears in that form and not in plain form."""
    folded = view.text
    findings: list[Finding] = []
    if any(word in folded for word in _ROT13_WORDS):
        rot13 = _View(codecs.encode(folded, "rot13"), view.origin)
        findings += _match_rules(rot13, text, where, "rot13:")
    if any(word in folded for word in _REVERSED_WORDS):
        size = len(folded)
        reversed_view = _View(folded[::-1], lambda i: view.origin(size - 1 - i) if i < size else 0)
        findings += _match_rules(reversed_view, text, where, "reversed:")
    if _LEET_HINT.search(folded):
        leet = folded.translate(_LEET) if folded.isascii() else _leet_runs(folded)
        if any(word in leet and word not in folded for word in _STRONG_WORDS):
            findings += _match_rules(_View(leet, view.origin), text, where, "leet:")
    if _SPACED_HINT.search(folded) and _SPACED.search(folded):
        despaced, origin = _despace(folded)
        if any(word in despaced and word not in folded for word in _STRONG_WORDS):
            findings += _match_rules(
                _View(despaced, lambda i: view.origin(origin[i])), text, where, "spaced:"
            )
    return [_as_encoded(finding) for finding in findings]


_LEET_RUN = re.compile(r"[013457@$!|]+")


def _leet_runs(folded: str) -> str:
    """folded.translate(_LEET), run by run: translating a text with other scripts character by
    character through a table is slow, and the characters it changes are few."""
    return _LEET_RUN.sub(lambda match: match.group().translate(_LEET), folded)


def _despace(folded: str) -> tuple[str, list[int]]:
    pieces: list[str] = []
    origin: list[int] = []
    previous = 0
    for match in _SPACED.finditer(folded):
        pieces.append(folded[previous : match.start()])
        origin.extend(range(previous, match.start()))
        for offset in range(match.start(), match.end(), 2):
            pieces.append(folded[offset])
            origin.append(offset)
        previous = match.end()
    pieces.append(folded[previous:])
    origin.extend(range(previous, len(folded) + 1))
    return "".join(pieces), origin


def _encoded_score(score: float) -> float:
    """A signal of some strength found inside a disguise or an encoding counts at least
    ENCODED_MIN_SCORE; faint hints keep their weight."""
    return max(score, ENCODED_MIN_SCORE) if score >= 0.3 else score


def _as_encoded(finding: Finding) -> Finding:
    return Finding(
        finding.rule,
        "encoded_payload",
        finding.start,
        finding.end,
        _encoded_score(finding.score),
        finding.where,
        finding.detail,
    )


def _encoded(text: str, where: str, depth: int, budget: _DecodeBudget) -> list[Finding]:
    findings = []
    for decoded in decode_all(text):
        if not budget.take(len(decoded.text)):
            break
        inner = _signals(decoded.text, where, depth + 1, budget)
        if not inner:
            continue
        score = combine(inner)
        rules = ", ".join(dict.fromkeys(finding.rule for finding in inner))
        findings.append(
            Finding(
                f"encoded_payload.{decoded.codec}",
                "encoded_payload",
                decoded.start,
                decoded.end,
                _encoded_score(score),
                where,
                # Masked before it is cut: a secret cut short no longer matches its pattern.
                _excerpt(f"{decoded.codec} → {mask_sensitive(decoded.text)!r} ({rules})"),
            )
        )
    return findings


# -- the score ----------------------------------------------------------------------------------


def combine(findings: Iterable[Finding]) -> float:
    """Independent evidence: 1 - Π(1 - w) over rules, each rule counted once at its highest
    weight, so repeating one phrase a hundred times is still one phrase."""
    best: dict[str, float] = {}
    for finding in findings:
        if finding.score > best.get(finding.rule, 0.0):
            best[finding.rule] = finding.score
    remaining = 1.0
    for weight in best.values():
        remaining *= 1.0 - min(max(weight, 0.0), 1.0)
    return round(1.0 - remaining, 4)
