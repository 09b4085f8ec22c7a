"""How the input guard sees text: folded (core/prompts/fences.py's skeleton, so compatibility
forms and look-alikes become their plain letters, lower case, accents dropped, typographic
quotes straightened) one character for one character, with invisible characters taken out and
long runs of white space cut, and a map from each position back to the text as given. The
injection rules and the output guard's banned phrases match on this view, and their spans map
back exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from llmbench.core.prompts.fences import find_invisible, skeleton

MAX_SPACE_RUN = 8


class _FoldTable(dict[int, str]):
    """skeleton() per character, then accents dropped and typographic quotes straightened; one
    character for one character."""

    def __missing__(self, code: int) -> str:
        folded = skeleton(chr(code))
        decomposed = unicodedata.normalize("NFD", folded)
        if len(decomposed) > 1 and all(unicodedata.combining(c) for c in decomposed[1:]):
            folded = decomposed[0]
        folded = _QUOTES.get(folded, folded)
        self[code] = folded
        return folded


_QUOTES = {"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'", "\u201c": '"', "\u201d": '"'}
_FOLD = _FoldTable()


def fold(text: str) -> str:
    if text.isascii():
        return text.lower().replace("`", "'")
    # Mostly ASCII text folds faster run by run; lower() of the result must not change its
    # length, which the table's single-character lower case guarantees.
    folded = _NON_ASCII_RUN.sub(lambda match: match.group().translate(_FOLD), text)
    folded = folded.lower().replace("`", "'")
    return folded if len(folded) == len(text) else text.translate(_FOLD)


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def folded_view(text: str) -> tuple[str, Callable[[int], int]]:
    """The text with invisible characters taken out and folded, and a function from a position
    in it to the position in text."""
    base, origin = without_invisible(text)
    return fold(base), origin


@lru_cache(maxsize=4)
def views(text: str) -> tuple[str, Callable[[int], int], str]:
    """without_invisible(text) and its folded copy, kept for the last few texts: the rules,
    their decoded layers and the classifier all read the same text."""
    base, origin = without_invisible(text)
    return base, origin, fold(base)


_LONG_SPACE = re.compile(rf"\s{{{MAX_SPACE_RUN + 1},}}")


def without_invisible(text: str) -> tuple[str, Callable[[int], int]]:
    """text without its invisible characters, and with runs of white space cut to
    MAX_SPACE_RUN characters (padding would otherwise stretch a phrase beyond the window its
    rule looks in); and a function from positions in the result to positions in text."""
    spans = find_invisible(text)
    if _LONG_SPACE.search(text):
        padding = [(m.start() + MAX_SPACE_RUN, m.end()) for m in _LONG_SPACE.finditer(text)]
        spans = _union(spans + padding)
    if not spans:
        return text, _identity
    kept = []
    positions: list[int] = []
    previous = 0
    for start, end in spans:
        kept.append(text[previous:start])
        positions.extend(range(previous, start))
        previous = end
    kept.append(text[previous:])
    positions.extend(range(previous, len(text)))
    positions.append(len(text))
    return "".join(kept), positions.__getitem__


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _identity(position: int) -> int:
    return position
