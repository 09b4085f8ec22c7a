"""A hostile prompt packs several secrets and pieces of personal data close together: the
excerpts and details that guard_flags keep beside each finding must not hold any of them.

The property: for any placement of secrets and personal data among ordinary words (and words
that trip the injection rules), no excerpt or detail of any flag, input or output, holds four
consecutive characters of any of them, except where those four characters also stand in the
text that is not secret (the words between, a label such as "aws_secret_access_key = ") or in
a redaction mark.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.config import GuardSettings
from llmbench.core.guard.output_guard import iban_valid, luhn_valid
from llmbench.core.guard.policy import INJECTION_SIGNALS, KINDS, parse_policy, redaction_mark
from llmbench.gateway.guarding import Guard, GuardContext

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_BASE64ISH = _ALNUM + "/+"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
# Ordinary words, and words the injection rules react to (so input findings span secrets too).
_WORDS = (
    "please",
    "check",
    "the",
    "order",
    "for",
    "and",
    "reply",
    "to",
    "customer",
    "with",
    "details",
    "card",
    "number",
    "here",
    "ignore",
    "all",
    "previous",
    "instructions",
    "reveal",
    "system",
    "prompt",
    "now",
)
_MARKS = [redaction_mark(kind) for kind in KINDS] + ["[REDACTED]", "…"]
# The kinds whose detail quotes the text (the matched phrase, a decoded payload).
# Kinds whose detail quotes the text. The classifier's is figures ("classifier 0.51 on the 89
# characters here"), which may share four characters with an IP address by chance.
_QUOTING_KINDS = frozenset({*INJECTION_SIGNALS, "banned_phrase"}) - {"classifier"}

# Each planted item: (label that stays readable, the value that must never be kept).
Planted = tuple[str, str]


def _card(body: list[int], grouping: str) -> str:
    digits = [4, *body]  # Visa, 16 digits
    for check in range(10):
        number = "".join(map(str, [*digits, check]))
        if luhn_valid(number):
            break
    if grouping == "":
        return number
    return grouping.join(number[i : i + 4] for i in range(0, 16, 4))


def _iban(bban: str, spaced: bool) -> str:
    check = 98 - int(bban + "131400") % 97  # DE as 13 14, then 00
    compact = f"DE{check:02d}{bban}"
    assert iban_valid(compact)
    return " ".join(compact[i : i + 4] for i in range(0, 22, 4)) if spaced else compact


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


_ITEMS: st.SearchStrategy[Planted] = st.one_of(
    st.text(_ALNUM, min_size=36, max_size=36).map(lambda s: ("", "ghp_" + s)),
    st.text(_ALNUM, min_size=20, max_size=40).map(lambda s: ("", "sk-" + s)),
    st.text(_BASE64ISH, min_size=40, max_size=40).map(lambda s: ("aws_secret_access_key = ", s)),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16).map(
        lambda s: ("", "AKIA" + s)
    ),
    st.builds(
        _card,
        st.lists(st.integers(0, 9), min_size=14, max_size=14).filter(lambda d: len(set(d)) > 1),
        st.sampled_from(["", " ", "-"]),
    ).map(lambda s: ("", s)),
    st.builds(_iban, _digits(18), st.booleans()).map(lambda s: ("", s)),
    st.builds(
        lambda local, domain: f"{local}@{domain}.com",
        st.text(_LOWER, min_size=3, max_size=10),
        st.text(_LOWER, min_size=3, max_size=10),
    ).map(lambda s: ("", s)),
    st.builds(
        lambda area, group, serial: f"{area:03d}-{group:02d}-{serial:04d}",
        st.integers(100, 665),
        st.integers(1, 99),
        st.integers(1, 9999),
    )
    .filter(lambda s: s != "123-45-6789")
    .map(lambda s: ("", s)),
    st.builds(lambda a, b: f"+44 20 {a} {b}", _digits(4), _digits(4)).map(lambda s: ("", s)),
    st.lists(st.integers(1, 254), min_size=4, max_size=4)
    .map(lambda octets: ".".join(map(str, octets)))
    .map(lambda s: ("", s)),
)
_FILLER = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4).map(" ".join)


@st.composite
def _prompts(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A text of 2-6 planted items among filler words, and the span of each planted value."""
    items = draw(st.lists(_ITEMS, min_size=2, max_size=6))
    text = draw(st.sampled_from(["", "Hi, "]))
    spans = []
    for label, value in items:
        text += draw(_FILLER) + " " + label
        spans.append((len(text), len(text) + len(value)))
        text += value + " "
    text += draw(_FILLER)
    return text, spans


def _allowed_grams(text: str, spans: list[tuple[int, int]]) -> set[str]:
    """Four-character pieces anyone may see: those of the text outside the planted values, and
    of the redaction marks."""
    public = list(text)
    for start, end in spans:
        public[start:end] = ["\x00"] * (end - start)
    pieces = ["".join(public), *_MARKS, " ".join("".join(public).split())]
    return {piece[i : i + 4] for piece in pieces for i in range(len(piece) - 3)}


_GUARD = Guard(GuardSettings())
_INPUT_CONTEXT = GuardContext(
    parse_policy(
        {
            "actions": {"injection_signals": "flag", "pii": "flag"},
            "max_tokens_per_variable": 4,
        }
    )
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_prompts())
def test_no_excerpt_or_detail_keeps_four_characters_of_any_secret(
    prompt: tuple[str, list[tuple[int, int]]],
) -> None:
    text, spans = prompt
    messages = [{"role": "user", "content": text}]
    output = _GUARD.check_output(text, messages, _GUARD.default)
    inputs = _GUARD.check_input(messages, _INPUT_CONTEXT, "gpt-4o-mini")
    flagged = [(f["start"], f["end"]) for f in output.flags if f["kind"] not in ("prompt_leak",)]
    for start, end in spans:  # every planted value is found, so the test is not vacuous
        assert any(s <= start and end <= e for s, e in flagged), (text[start:end], output.flags)
    assert any(f["kind"] == "token_limit" for f in inputs.flags)

    allowed = _allowed_grams(text, spans)
    # Details of other kinds are figures and rule names ("106 tokens > 4 per variable"), which
    # may share four digits with a phone number by chance.
    kept = [
        str(flag[key])
        for flag in (*output.flags, *inputs.flags)
        for key in ("excerpt", "detail")
        if flag.get(key) and (key == "excerpt" or flag["kind"] in _QUOTING_KINDS)
    ]
    for start, end in spans:
        value = text[start:end]
        for index in range(len(value) - 3):
            gram = value[index : index + 4]
            if gram in allowed:
                continue
            for piece in kept:
                assert gram not in piece, f"{gram!r} of {value!r} kept in {piece!r}\n" + json.dumps(
                    [*output.flags, *inputs.flags], indent=1
                )


def test_the_reported_prompt_keeps_nothing_of_its_three_secrets() -> None:
    """The issue's case: a ghp_ token, an AWS secret key and a card number in one prompt."""
    token = "ghp_" + "Zq8" * 12
    aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    card = "4539 1488 0343 6467"
    text = f"Deploy with {token} then aws_secret_access_key = {aws} and card {card} ok"
    output = _GUARD.check_output(text, [{"role": "user", "content": text}], _GUARD.default)
    excerpts = [flag["excerpt"] for flag in output.flags]
    assert len(excerpts) == 3
    for value in (token, aws, card):
        for index in range(len(value) - 3):
            assert not any(value[index : index + 4] in excerpt for excerpt in excerpts), value
    # The words around still show, so a reviewer sees where each finding stood.
    assert excerpts[2].startswith("…") and "and card [REDACTED:credit_card] ok" in excerpts[2]
