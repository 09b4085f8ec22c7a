"""The input guard: what reaches a model from outside the developer's control, checked before
the call.

- Token limits per variable and per request (token-exhaustion attacks cost money and
  crowd the instructions out of the context window).
- Hidden characters: zero-width and other invisible characters, bidi controls (Trojan-Source
  style reordering) and Unicode "tag" characters, which smuggle ASCII past a reader.
- A prompt-injection score from layered heuristics (core/guard/injection_scan.py, over the
  rules of core/guard/injection_rules.toml): instruction overrides in nine languages,
  jailbreak personas and modes, fence and chat-template delimiters, system-prompt extraction,
  exfiltration and instructions addressed to the AI inside data. The same rules run on decoded
  views of the text: base64, hex, base32, binary, URL-encoding, escapes, Ascii85/base85, Morse
  (core/guard/decode.py), and on rot13, reversed, leetspeak and letter-spaced forms of the
  whole text.

Every finding names its rule and the span it matched in the text as given. The rules see a
folded copy of the text (core/guard/folding.py), the same length as the text once invisible
characters are taken out, so spans map back exactly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from llmbench.core.guard.injection_scan import combine, injection_findings
from llmbench.core.guard.policy import DEFAULT_INJECTION_THRESHOLD, Finding
from llmbench.core.models import Variable
from llmbench.core.prompts.fences import find_invisible
from llmbench.core.tokens import count_message_tokens, count_tokens, truncate_to_tokens

DEFAULT_MODEL = "gpt-4o-mini"
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_BLACK_FLAG = "\U0001f3f4"  # subdivision flags (England, Scotland, Wales) are tag sequences


@dataclass(frozen=True)
class InputReport:
    findings: tuple[Finding, ...]
    score: float
    threshold: float

    @property
    def injection(self) -> bool:
        return self.score >= self.threshold


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


# -- one text -----------------------------------------------------------------------------------


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
