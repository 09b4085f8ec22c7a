"""Undoing the cheap disguises of trigger words before the rules and the classifier read a text.

The input guard reads a folded copy of the text (core/guard/folding.py: look-alikes, widths,
accents, case). This module goes one step further, on that folded copy, and keeps a map from
every character it produces back to the folded position it came from:

- HTML character references (`&#105;gnore`, `&lt;`) and URL escapes (`%69gnore`) are decoded;
- letters split by one separator (`i g n o r e`, `i.g.n.o.r.e`, `i-g-n-o-r-e`) are joined;
- a trigger word cut in two (`ign ore`, `instruc tions`) is joined;
- a word within one edit (a letter added, dropped, changed, or two swapped) of one of the
  long trigger words in TYPO_WORDS (`ingore`, `instrutcions`, `previos`) becomes that word,
  unless it is a real word of its own (`forgot`, `forge`, `revel`).

It is one pass: a typo inside what another disguise hides (`&#105;gnroe`) is left as it is.
`normalize(folded)` returns None when none of these applies, which is the case for most text;
the work is a few regular-expression scans and set operations over the text's distinct words.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from llmbench.core.guard.folding import fold

# Words whose disguise matters: what the rules' triggers and the attacks they catch are made of.
TRIGGER_WORDS: tuple[str, ...] = (
    "ignore", "disregard", "forget", "override", "bypass", "instructions", "instruction",
    "previous", "previously", "preceding", "earlier", "system", "prompt", "guidelines",
    "directives", "restrictions", "restricted", "unrestricted", "jailbreak", "jailbroken",
    "developer", "reveal", "confidential", "password", "secret", "unfiltered", "uncensored",
    "limitations", "programming", "everything", "following", "anything", "pretend",
    "roleplay", "character", "filters", "safety", "policies", "ethical", "ethics", "obey",
    "print", "repeat", "output", "verbatim", "initial", "hidden", "above",
)  # fmt: skip
# The words whose misspellings are undone: long and distinctive ones, so a real word one edit
# away is rare (and listed below); "safety" and "pretend" are not among them ("safely",
# "prepend").
TYPO_WORDS: tuple[str, ...] = (
    "ignore", "disregard", "forget", "override", "bypass", "instructions", "instruction",
    "previous", "previously", "system", "prompt", "guidelines", "directives", "restrictions",
    "unrestricted", "jailbreak", "jailbroken", "reveal", "confidential", "password",
    "unfiltered", "uncensored", "everything", "limitations", "programming",
)  # fmt: skip
_TYPO_MIN_LENGTH = 6  # shorter words have too many real neighbours one edit away
# Real words one edit away from a trigger word: they are left as they are.
REAL_NEIGHBOURS: frozenset[str] = frozenset(
    {
        "forgot", "forged", "forger", "forgets", "forge", "revel", "reveals", "revealed",
        "developed", "develops", "systems", "prompts", "prompted", "prompter", "promptly",
        "ignored", "ignores", "ignorer", "passwords", "bypassed", "bypasses", "overrides",
        "overridden", "instructed", "instructs", "directive", "guideline", "restriction",
        "limitation", "systemd", "systemic", "everythings", "revealer",
    }
)  # fmt: skip
_KNOWN = frozenset(TRIGGER_WORDS) | frozenset(TYPO_WORDS) | REAL_NEIGHBOURS


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _delete_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for word in TYPO_WORDS:
        if len(word) < _TYPO_MIN_LENGTH:
            continue
        index.setdefault(word, word)
        for deleted in _deletes(word):
            index.setdefault(deleted, word)
    return index


_DELETES = _delete_index()
_CORRECTIONS: dict[str, str | None] = {}
_MAX_CACHED = 50_000


def correct(word: str) -> str | None:
    """The trigger word `word` is one edit away from, or None (also for real words)."""
    if len(word) < _TYPO_MIN_LENGTH - 1 or word in _KNOWN:
        return None
    cached = _CORRECTIONS.get(word, "")
    if cached != "":
        return cached
    found = _DELETES.get(word)  # one letter added to a trigger word
    if found is None:
        for deleted in _deletes(word):  # one dropped, changed or two swapped
            found = _DELETES.get(deleted)
            if found is not None and _one_edit(word, found):
                break
            found = None
    elif not _one_edit(word, found):
        found = None
    if len(_CORRECTIONS) < _MAX_CACHED:
        _CORRECTIONS[word] = found
    return found


def _one_edit(word: str, target: str) -> bool:
    """Levenshtein distance 1, or one swap of neighbours (Damerau)."""
    if word == target:
        return False
    if len(word) == len(target):
        differ = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(differ) == 1:
            return True
        return (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and word[differ[0]] == target[differ[1]]
            and word[differ[1]] == target[differ[0]]
        )
    if abs(len(word) - len(target)) != 1:
        return False
    short, long = (word, target) if len(word) < len(target) else (target, word)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@dataclass(frozen=True)
class Normalized:
    """Text after undoing disguises, where each of its characters came from in the folded
    text, and the spans of the folded text that were changed."""

    text: str
    origin: list[int]
    changed: list[tuple[int, int]]
    """Spans of the folded text that were undone."""

    def windows(self, margin: int) -> list[tuple[int, int]]:
        """Spans of `text` reaching `margin` characters either side of each undone disguise,
        merged (origin never goes down, so a bisection finds where a folded position went)."""
        merged: list[tuple[int, int]] = []
        for start, end in self.changed:
            low = max(0, bisect_left(self.origin, start) - margin)
            high = min(len(self.text), bisect_left(self.origin, end) + margin)
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        return merged

    def origin_of(self, position: int) -> int:
        return self.origin[min(position, len(self.origin) - 1)]


_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});")
_PERCENT = re.compile(r"(?:%[0-9a-f]{2})+")
_SEPARATORS = " .\\-_*|/+·•,"
# One separator, the same all along: "i.g.n.o.r.e a.l.l" is two words, not one.
_SPLIT = re.compile(rf"(?<![\w])[^\W\d_]([{_SEPARATORS}])(?:[^\W\d_]\1)+[^\W\d_](?![\w])")
_TRIGGERS = frozenset(TRIGGER_WORDS)
_JOINABLE = frozenset(
    word[:cut] for word in TRIGGER_WORDS if len(word) >= 6 for cut in range(2, len(word) - 1)
)


@lru_cache(maxsize=4)
def normalize(folded: str) -> Normalized | None:
    """`folded` with its disguises undone, or None when it has none. Kept for the last few
    texts: the rules and the classifier both ask for the same one."""
    pieces: list[tuple[int, int, str]] = []  # (start, end, replacement) in folded, in order
    if "&" in folded and ";" in folded:
        pieces += [
            (m.start(), m.end(), fold(html.unescape(m.group()))) for m in _ENTITY.finditer(folded)
        ]
    if "%" in folded:
        pieces += _percent_pieces(folded)
    pieces += _split_pieces(folded)
    words = set(_LETTERS.findall(folded))
    pieces += _joined_pieces(folded, words)
    # One pass: a typo inside what another disguise hides ("&#105;gnroe") stays as it is (a
    # second pass over a 32 KB text cost more than the rest of the normaliser), and a "typo"
    # that touches another disguise is its other half ("&#100;" + "isregard"), not a typo.
    pieces += [
        typo
        for typo in _typo_pieces(folded, words)
        if not any(start <= typo[1] and typo[0] <= end for start, end, _ in pieces)
    ]
    return _apply(folded, _non_overlapping(pieces)) if pieces else None


def _percent_pieces(folded: str) -> list[tuple[int, int, str]]:
    pieces = []
    for match in _PERCENT.finditer(folded):
        try:
            decoded = unquote(match.group(), errors="strict")
        except UnicodeDecodeError:  # not UTF-8: binary in a URL, not a disguised word
            continue
        if decoded != match.group() and decoded.isprintable():
            pieces.append((match.start(), match.end(), fold(decoded)))
    return pieces


def _split_pieces(folded: str) -> list[tuple[int, int, str]]:
    pieces = []
    for match in _SPLIT.finditer(folded):
        letters = match.group()[::2]  # the letters stand at even offsets
        pieces.append((match.start(), match.end(), letters))
    return pieces


_LETTERS = re.compile(r"[a-z]+")
# For each piece a trigger word can be cut into, the trigger words that start with it.
_JOIN_TARGETS: dict[str, tuple[str, ...]] = {}
for _word in TRIGGER_WORDS:
    for _cut in range(2, len(_word) - 1):
        if len(_word) >= 6:
            _JOIN_TARGETS[_word[:_cut]] = (*_JOIN_TARGETS.get(_word[:_cut], ()), _word)


def _joined_pieces(folded: str, words: set[str]) -> list[tuple[int, int, str]]:
    """`ign ore` -> `ignore`: two neighbouring pieces, one separator apart, whose
    concatenation is a trigger word. The text's distinct words say which pairs could be
    there; only those are looked for."""
    pieces = []
    for left in words & _JOINABLE:
        for word in _JOIN_TARGETS[left]:
            right = word[len(left) :]
            if right in words:
                for separator in " .-":
                    for start in _occurrences(folded, f"{left}{separator}{right}"):
                        pieces.append((start, start + len(word) + 1, word))
    return pieces


def _occurrences(text: str, word: str) -> list[int]:
    """Where `word` stands in `text` as a whole word (str.find: far quicker than a regex
    that starts with a word boundary, which the engine cannot skip ahead for)."""
    found = []
    position = text.find(word)
    while position != -1:
        end = position + len(word)
        before = text[position - 1] if position else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            found.append(position)
        position = text.find(word, end)
    return found


def _typo_pieces(folded: str, words: set[str]) -> list[tuple[int, int, str]]:
    """Words one edit from a trigger word: each distinct word is looked up once (and kept),
    and only those that need fixing are looked for again to find where they stand."""
    fixes = {}
    seen = _CORRECTIONS
    for word in words - _KNOWN:
        if _TYPO_MIN_LENGTH - 1 <= len(word) <= 14:
            fixed = seen.get(word, "")  # inlined cache lookup: most words are seen before
            if fixed == "":
                fixed = correct(word)
            if fixed is not None:
                fixes[word] = fixed
    pieces = []
    for word, fixed in fixes.items():
        for start in _occurrences(folded, word):
            pieces.append((start, start + len(word), fixed))
    return sorted(pieces)


def _non_overlapping(pieces: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for piece in sorted(pieces, key=lambda p: (p[0], -(p[1] - p[0]))):
        if kept and piece[0] < kept[-1][1]:
            continue
        kept.append(piece)
    return kept


def _apply(folded: str, pieces: list[tuple[int, int, str]]) -> Normalized:
    parts: list[str] = []
    origin: list[int] = []
    previous = 0
    for start, end, replacement in pieces:
        parts.append(folded[previous:start])
        origin.extend(range(previous, start))
        parts.append(replacement)
        if 2 * len(replacement) - 1 == end - start:  # split letters: each at its own place
            origin.extend(range(start, end, 2))
        else:  # each produced character points into the span it replaces, spread evenly
            size = max(len(replacement), 1)
            origin.extend(start + (end - start) * i // size for i in range(len(replacement)))
        previous = end
    parts.append(folded[previous:])
    origin.extend(range(previous, len(folded) + 1))
    return Normalized("".join(parts), origin, [(start, end) for start, end, _ in pieces])


def compose(normalized: Normalized, origin: Callable[[int], int]) -> Callable[[int], int]:
    """A map from positions in the normalized text to positions in the text as given."""
    return lambda position: origin(normalized.origin_of(position))
