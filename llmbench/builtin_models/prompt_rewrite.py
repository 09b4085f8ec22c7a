"""How `llmbench/mock` answers the optimizer's rewrite request (core/optimize/rewrite.py), so
compression by a model's rewrite runs offline, in tests and in the demo: deterministically, by
the rules' compression (duplicate sentences, boilerplate, wordy lead-ins) and then a table of
wordy phrases and their plain forms, as a plain-English editor would shorten them. Template
code is never touched, so the rewrite keeps what the version's calls fill in.

It is a fixed function of the text, not a judgement, which is all a test or a first look
needs: a hosted model configured as the judge rewrites with its own words."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from llmbench.core.optimize.compression import TEMPLATE_CODE, compress_sections
from llmbench.core.optimize.rewrite import requested_sections

# Wordy phrase → plain form, whole words only; a phrase at a sentence's start keeps the capital.
PLAIN_FORMS: tuple[tuple[str, str], ...] = (
    ("due to the fact that", "because"),
    ("in order to", "to"),
    ("at all times", "always"),
    ("in a consistent way", "consistently"),
    ("for the purpose of", "for"),
    ("in the event that", "if"),
    ("at this point in time", "now"),
    ("is able to", "can"),
    ("are able to", "can"),
    ("prior to", "before"),
    ("a number of", "several"),
    ("with the keys", "with keys"),
)
# Words that only soften a request: dropped, the next word taking their capital.
FILLERS = ("please", "kindly")
_PHRASES = tuple(
    (re.compile(rf"\b{re.escape(wordy)}\b", re.IGNORECASE), plain) for wordy, plain in PLAIN_FORMS
)
_FILLER = re.compile(rf"\b(?:{'|'.join(FILLERS)})\s+(\w)", re.IGNORECASE)


def _capital_kept(match: re.Match[str], plain: str) -> str:
    return plain[:1].upper() + plain[1:] if match.group(0)[:1].isupper() else plain


def _shorten(text: str) -> str:
    """The wordy phrases of the text outside its template code in their plain forms."""
    pieces = []
    last = 0
    for code in TEMPLATE_CODE.finditer(text):
        pieces += [_shorten_plain(text[last : code.start()]), code.group(0)]
        last = code.end()
    pieces.append(_shorten_plain(text[last:]))
    return "".join(pieces)


def _shorten_plain(text: str) -> str:
    for pattern, plain in _PHRASES:
        text = pattern.sub(lambda match, plain=plain: _capital_kept(match, plain), text)
    return _FILLER.sub(lambda match: _capital_kept(match, match.group(1)), text)


def prompt_rewrite(messages: Sequence[Mapping[str, object]]) -> str | None:
    """The mock's answer to a rewrite request (a JSON object of the shortened sections); None
    when the messages are not one."""
    sections = requested_sections(messages)
    if sections is None:
        return None
    compressed, _removed = compress_sections(sections)
    return json.dumps({name: _shorten(text) for name, text in compressed.items()}, indent=1)
