"""Text safety for values that reach a prompt from outside the developer's control.

A value is normalised (NFKC, invisible and control characters removed) and then any fence tag
inside it is made inert, so that it can neither close the fence it sits in nor open a new one.
Tags are recognised on a *skeleton* of the text, a same-length copy with compatibility forms
folded, case folded and common look-alikes (Cyrillic "ѕ", "‹", "∕") mapped to what a reader
would take them for, so "</uѕer_input>" written with a Cyrillic "ѕ" is caught too; spaces and
combining marks between "<", "/" and the name do not hide a tag either.
"""

from __future__ import annotations

import re
import unicodedata

from llmbench.core.models import VariableKind

FENCES: dict[VariableKind, str] = {
    "untrusted": "user_input",
    "retrieved": "retrieved_context",
    "history": "conversation_history",
}
FENCE_TAGS: tuple[str, ...] = tuple(FENCES.values())

# Control characters except tab, newline and carriage return; every format character (Cf) of
# Unicode 15 (zero-width, bidi controls, the invisible "tag" characters used to smuggle text to
# models); lone surrogates; variation selectors, the combining grapheme joiner and the Hangul
# fillers, which render as nothing.
_INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
    "\ud800-\udfff"
    "\ufe00-\ufe0f\U000e0100-\U000e01ef\u180b-\u180d\u180f\u034f"
    "\u115f\u1160\u3164\uffa0"
    "]"
)

# Characters a reader takes for the ASCII one. NFKC already folds full-width and other
# compatibility forms ("＜", "﹤", "ｕ"); these are the look-alikes it leaves alone.
_LOOK_ALIKES = {
    "<": "‹˂ᐸ❮〈⟨",
    "/": "∕⁄⧸╱",
    "a": "аɑα",
    "c": "сϲᴄ",
    "d": "ԁᴅ",
    "e": "еᴇ",
    "h": "һʜ",
    "i": "іıιɪ",
    "l": "ӏʟ",
    "n": "ոɴ",
    "o": "оοᴏ",
    "p": "рρᴘ",
    "r": "ʀ",
    "s": "ѕꜱ",
    "t": "τᴛ",
    "u": "սυᴜ",
    "v": "νᴠ",
    "x": "хχ",
    "y": "уʏ",
}
_LOOK_ALIKE_OF = {look: ascii_ for ascii_, looks in _LOOK_ALIKES.items() for look in looks}
_TAG_OPENERS = re.compile("[<" + _LOOK_ALIKES["<"] + "\uff1c\ufe64]")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class _SkeletonTable(dict[int, str]):
    """str.translate table built on demand: each character to its single-character NFKC form,
    lower case, then to the ASCII it looks like. Kept one character to one character, so
    positions in the skeleton are positions in the text."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if len(folded) != 1:
            folded = char
        lower = folded.lower()
        if len(lower) == 1:
            folded = lower
        folded = _LOOK_ALIKE_OF.get(folded, folded)
        self[code] = folded
        return folded


_SKELETON = _SkeletonTable()


def normalise(text: str) -> str:
    """NFKC, then drop invisible, bidi-control and other control characters (keep \\n, \\t, \\r)."""
    return strip_invisible(unicodedata.normalize("NFKC", text))


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def find_invisible(text: str) -> list[tuple[int, int]]:
    """Spans of the characters normalise() would drop for being invisible or controls."""
    return [match.span() for match in _INVISIBLE.finditer(text)]


def skeleton(text: str) -> str:
    """Same length as text: compatibility forms folded, lower case, look-alikes mapped to the
    ASCII they imitate."""
    return text.translate(_SKELETON)


def neutralise_fences(text: str, tags: tuple[str, ...] = FENCE_TAGS) -> str:
    """Make any of the tags inside text inert ("<" becomes "&lt;"), opening or closing, so the
    text cannot close the fence it sits in or open one. Normalise the text first: this sees
    through look-alikes but not through invisible characters."""
    starts = fence_tag_starts(text, tags)
    if not starts:
        return text
    pieces = []
    previous = 0
    for start in starts:
        pieces.append(text[previous:start])
        pieces.append("&lt;")
        previous = start + 1
    pieces.append(text[previous:])
    return "".join(pieces)


def fence_tag_starts(text: str, tags: tuple[str, ...] = FENCE_TAGS) -> list[int]:
    """Positions of the "<" of every opening or closing tag of tags in text (as
    neutralise_fences sees them)."""
    if not _TAG_OPENERS.search(text):
        return []
    folded = skeleton(text)
    names = tuple(tag.lower() for tag in tags)
    return [
        match.start()
        for match in _TAG_OPENERS.finditer(folded)
        if _opens_tag(folded, text, match.end(), names)
    ]


def _opens_tag(folded: str, text: str, position: int, names: tuple[str, ...]) -> bool:
    """Whether "<" just before position starts one of the tags: spaces and combining marks
    ("<" + U+0338 overlay) may sit around an optional "/", and the name must end there. The
    name ends where either the folded or the original text stops being ASCII letters and
    digits: "<user_inputՍ" is read as a tag, since a reader may not fold "Ս" to "u"."""
    position = _skip_blanks(folded, position)
    if folded.startswith("/", position):
        position = _skip_blanks(folded, position + 1)
    for name in names:
        end = position + len(name)
        next_folded, next_original = folded[end : end + 1], text[end : end + 1].lower()
        if folded.startswith(name, position) and (
            next_folded not in _ASCII_ALNUM or next_original not in _ASCII_ALNUM
        ):
            return True
    return False


def _skip_blanks(folded: str, position: int) -> int:
    while position < len(folded) and (
        folded[position].isspace() or unicodedata.category(folded[position]) in ("Mn", "Me")
    ):
        position += 1
    return position


def fence(value: str, kind: VariableKind) -> str:
    tag = FENCES.get(kind)
    if tag is None:
        return value
    return f"<{tag}>\n{value}\n</{tag}>"
