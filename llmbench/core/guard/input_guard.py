"""The input guard: what reaches a model from outside the developer's control, checked before
the call.

- Token limits per variable and per request (token-exhaustion attacks cost money and
  crowd the instructions out of the context window).
- Hidden characters: zero-width and other invisible characters, bidi controls (Trojan-Source
  style reordering) and Unicode "tag" characters, which smuggle ASCII past a reader.
- A prompt-injection score from layered heuristics (core/guard_rules.py): instruction
  overrides in nine languages, jailbreak personas and modes, fence and chat-template
  delimiters, system-prompt extraction, exfiltration and instructions addressed to the AI
  inside data. The same rules run on decoded views of the text: base64, hex, base32, binary,
  URL-encoding, escapes, Ascii85/base85, Morse (core/guard_decode.py), and on rot13,
  reversed, leetspeak and letter-spaced forms of the whole text.

Every finding names its rule and the span it matched in the text as given. The rules see a
folded copy of the text (core/fences.py's skeleton: compatibility forms and look-alikes
folded, lower case; plus accents dropped), the same length as the text once invisible
characters are taken out, so spans map back exactly.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from llmbench.core.guard.decode import decode_all
from llmbench.core.guard.policy import DEFAULT_INJECTION_THRESHOLD, Finding
from llmbench.core.guard.rules import CompiledRule, compiled_rules
from llmbench.core.models import Variable
from llmbench.core.prompts.fences import FENCE_TAGS, fence_tag_starts, find_invisible, skeleton
from llmbench.core.tokens import count_message_tokens, count_tokens, truncate_to_tokens

DEFAULT_MODEL = "gpt-4o-mini"
FENCE_WEIGHT = 0.8
ENCODED_MIN_SCORE = 0.7  # an instruction hidden in an encoding is an attack in itself
MAX_DEPTH = 2  # base64 inside rot13 is decoded; a third layer is not looked for
MAX_DECODED_CHARS = 65_536  # decoded text scanned per input, all layers together
MAX_SPACE_RUN = 8
_DETAIL_CHARS = 80

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_BLACK_FLAG = "\U0001f3f4"  # subdivision flags (England, Scotland, Wales) are tag sequences
_FENCE_NAMES = tuple(tag.lower() for tag in FENCE_TAGS)


@dataclass(frozen=True)
class InputReport:
    findings: tuple[Finding, ...]
    score: float
    threshold: float

    @property
    def injection(self) -> bool:
        return self.score >= self.threshold


# -- folding ------------------------------------------------------------------------------------


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


_RULES = compiled_rules(fold)


# -- hidden characters ----------------------------------------------------------------------------


def unicode_findings(text: str, where: str = "") -> list[Finding]:
    """Invisible characters and bidi controls, one finding per run. Joiners inside emoji and
    non-Latin words, variation selectors after symbols and the tags of subdivision flags are
    how those are written, not hiding, and are left alone."""
    findings: list[Finding] = []
    for start, end in _runs(find_invisible(text)):
        run = text[start:end]
        if _is_legitimate(text, start, end):
            continue
        if any(c in _BIDI for c in run):
            findings.append(
                Finding("unicode.bidi_control", "bidi", start, end, 0.2, where, _codepoints(run))
            )
            continue
        tags = sum(_TAG_FIRST <= ord(c) <= _TAG_LAST for c in run)
        if tags >= 4:
            findings.append(
                Finding(
                    "unicode.tag_smuggling", "invisible", start, end, 0.5, where, f"{tags} tags"
                )
            )
            continue
        inside_word = start > 0 and end < len(text) and text[start - 1].isalnum()
        inside_word = inside_word and text[end].isalnum()
        findings.append(
            Finding(
                "unicode.invisible_in_word" if inside_word else "unicode.invisible",
                "invisible",
                start,
                end,
                0.25 if inside_word else 0.1,
                where,
                _codepoints(run),
            )
        )
    return findings


def _runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _is_legitimate(text: str, start: int, end: int) -> bool:
    run = text[start:end]
    before = text[start - 1] if start else ""
    if all(c in _JOINERS or 0xFE00 <= ord(c) <= 0xFE0F for c in run):
        return bool(before) and (
            unicodedata.category(before) in ("So", "Sk", "Mn", "Mc")
            or (before.isalpha() and not before.isascii())
        )
    if all(_TAG_FIRST <= ord(c) <= _TAG_LAST for c in run):
        return before == _BLACK_FLAG and len(run) <= 7
    return False


def _codepoints(run: str) -> str:
    names = sorted({f"U+{ord(c):04X}" for c in run})
    return ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")


# -- injection signals ------------------------------------------------------------------------


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


def folded_view(text: str) -> tuple[str, Callable[[int], int]]:
    """The text with invisible characters taken out and folded, and a function from a position
    in it to the position in text."""
    base, origin = _without_invisible(text)
    return fold(base), origin


def _signals(text: str, where: str, depth: int, budget: _DecodeBudget) -> list[Finding]:
    base, origin = _without_invisible(text)
    view = _View(fold(base), origin)
    findings = _match_rules(view, text, where)
    if any(tag in view.text for tag in _FENCE_NAMES):
        findings += _fence_findings(base, origin, text, where)
    findings += _transformed(view, text, where, findings, depth)
    if depth < MAX_DEPTH:
        findings += _encoded(text, where, depth, budget)
    return findings


_LONG_SPACE = re.compile(rf"\s{{{MAX_SPACE_RUN + 1},}}")


def _without_invisible(text: str) -> tuple[str, Callable[[int], int]]:
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
_WORD_STARTS = re.compile(r"\b[a-z][a-z0-9_]{2}")


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


def _trigger_hits(folded: str) -> dict[int, list[int]]:
    """Rule index -> positions of its triggers in folded (at most _MAX_HITS + 1 each)."""
    hits: dict[int, list[int]] = {}
    for match in _WORD_STARTS.finditer(folded):
        candidates = _TRIGGERS_BY_PREFIX.get(match.group())
        if candidates:
            start = match.start()
            for trigger, index in candidates:
                if folded.startswith(trigger, start):
                    hits.setdefault(index, []).append(start)
    is_ascii = folded.isascii()
    for trigger, index in _OTHER_TRIGGERS:
        if is_ascii and not trigger.isascii():
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
        leet = folded.translate(_LEET)
        if any(word in leet and word not in folded for word in _STRONG_WORDS):
            findings += _match_rules(_View(leet, view.origin), text, where, "leet:")
    if _SPACED_HINT.search(folded) and _SPACED.search(folded):
        despaced, origin = _despace(folded)
        if any(word in despaced and word not in folded for word in _STRONG_WORDS):
            findings += _match_rules(
                _View(despaced, lambda i: view.origin(origin[i])), text, where, "spaced:"
            )
    return [_as_encoded(finding) for finding in findings]


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


def _as_encoded(finding: Finding) -> Finding:
    return Finding(
        finding.rule,
        "encoded_payload",
        finding.start,
        finding.end,
        max(finding.score, ENCODED_MIN_SCORE) if finding.score >= 0.3 else finding.score,
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
                max(score, ENCODED_MIN_SCORE) if score >= 0.3 else score,
                where,
                _excerpt(f"{decoded.codec} → {decoded.text!r} ({rules})"),
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


def scan_text(
    text: str, *, where: str = "", threshold: float = DEFAULT_INJECTION_THRESHOLD
) -> InputReport:
    """Hidden characters and injection signals in one text, with the combined score and, when
    it reaches the threshold, an "injection" finding spanning the signals."""
    findings = unicode_findings(text, where) + injection_findings(text, where)
    score = combine(findings)
    if score >= threshold:
        findings.append(_injection_finding(findings, score, threshold, where))
    return InputReport(tuple(findings), score, threshold)


def _injection_finding(
    findings: list[Finding], score: float, threshold: float, where: str
) -> Finding:
    signals = [finding for finding in findings if finding.score > 0]
    rules = ", ".join(dict.fromkeys(finding.rule for finding in signals))
    return Finding(
        "injection.score",
        "injection",
        min(finding.start for finding in signals),
        max(finding.end for finding in signals),
        score,
        where,
        f"score {score:.2f} ≥ {threshold:.2f}: {rules}",
    )


# -- token limits and whole requests ---------------------------------------------------------------


def token_limit_finding(
    text: str, limit: int, *, model: str = DEFAULT_MODEL, where: str = "", scope: str = "variable"
) -> Finding | None:
    """A finding spanning the part of text beyond `limit` tokens, or None within the limit."""
    if len(text.encode("utf-8", "surrogatepass")) <= limit:
        return None  # a token is at least one byte: no need to count
    tokens = count_tokens(text, model)
    if tokens <= limit:
        return None
    start = len(truncate_to_tokens(text, limit, model))
    return Finding(
        f"token_limit.{scope}",
        "token_limit",
        start,
        len(text),
        0.0,
        where,
        f"{tokens:,} tokens > {limit:,} per {scope}",
    )


def check_input(
    values: Mapping[str, object],
    *,
    variables: Iterable[Variable] = (),
    messages: Iterable[Mapping[str, object]] | None = None,
    model: str = DEFAULT_MODEL,
    max_tokens_per_variable: int | None = None,
    variable_limits: Mapping[str, int] | None = None,
    max_tokens_per_request: int | None = None,
    threshold: float = DEFAULT_INJECTION_THRESHOLD,
) -> InputReport:
    """The input guard for one call. Every value is checked for its token limit; values from
    outside (variables of kind untrusted, retrieved or history, and any value whose variable
    is not declared) are scanned for hidden characters and injection. The request limit is
    checked on the rendered messages when given. The score is the highest of any one value:
    an attack sits in one value, and benign hints spread over many do not add up."""
    kinds = {variable.name: variable.kind for variable in variables}
    limits = variable_limits or {}
    findings: list[Finding] = []
    score = 0.0
    for name, value in values.items():
        text = value if isinstance(value, str) else str(value)
        limit = limits.get(name, max_tokens_per_variable)
        if limit is not None:
            over = token_limit_finding(text, limit, model=model, where=name)
            if over is not None:
                findings.append(over)
        if kinds.get(name, "untrusted") == "trusted":
            continue
        report = scan_text(text, where=name, threshold=threshold)
        findings.extend(report.findings)
        score = max(score, report.score)
    if max_tokens_per_request is not None and messages is not None:
        total = count_message_tokens(messages, model)
        if total > max_tokens_per_request:
            findings.append(
                Finding(
                    "token_limit.request",
                    "token_limit",
                    0,
                    0,
                    detail=f"{total:,} tokens > {max_tokens_per_request:,} per request",
                )
            )
    return InputReport(tuple(findings), score, threshold)
