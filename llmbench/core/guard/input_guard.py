"""The input guard: what reaches a model from outside the developer's control, checked before
the call.

- Token limits per variable and per request (token-exhaustion attacks cost money and
  crowd the instructions out of the context window).
- Hidden characters: zero-width and other invisible characters, bidi controls (Trojan-Source
  style reordering) and Unicode "tag" characters, which smuggle ASCII past a reader.
- A prompt-injection score in 0..1 that joins two kinds of evidence, calibrated together:
  - rules (core/guard/injection_scan.py, over core/guard/injection_rules.toml): instruction
    overrides in twenty languages, jailbreak personas and modes, fence and chat-template
    delimiters, system-prompt extraction, exfiltration and instructions addressed to the AI
    inside data; run again on decoded views (base64, hex, base32, binary, URL-encoding,
    escapes, Ascii85/base85, Morse: core/guard/decode.py), on rot13, reversed, leetspeak and
    letter-spaced forms of the whole text, and on the text with split, dotted, escaped, cut
    and misspelt trigger words undone (core/guard/normalize.py);
  - a trained linear classifier over words, word pairs and character n-grams of the same
    normalised text, read in windows so an instruction buried in a long document counts
    (core/guard/classifier.py, its weights shipped as data, trained by
    scripts/train_guard.py on public corpora whose sources are in
    tests/benchmarks/guard/manifest.json).

Every finding names its rule and the span it matched in the text as given. The rules see a
folded copy of the text (core/guard/folding.py), the same length as the text once invisible
characters are taken out, so spans map back exactly; the normalised views keep a map back too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from llmbench.core.guard.classifier import prepared_view, shipped_model, token_span
from llmbench.core.guard.injection_scan import combine, injection_findings
from llmbench.core.guard.normalize import TRIGGER_WORDS
from llmbench.core.guard.policy import DEFAULT_INJECTION_THRESHOLD, Finding
from llmbench.core.models import Variable
from llmbench.core.prompts.fences import find_invisible
from llmbench.core.tokens import count_message_tokens, count_tokens, truncate_to_tokens

DEFAULT_MODEL = "gpt-4o-mini"
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_BLACK_FLAG = "\U0001f3f4"  # subdivision flags (England, Scotland, Wales) are tag sequences


RETRIEVED_RULE = "injection.retrieved"
TOOL_RESULT_RULE = "injection.tool_result"
# The classifier names its window when its evidence alone (calibrated, with no rule hit) reaches
# this: its raw probability is not calibrated (a one-word text is read as one short window).
CLASSIFIER_FINDING = 0.5


@dataclass(frozen=True)
class InputReport:
    findings: tuple[Finding, ...]
    score: float
    threshold: float
    rule_score: float = 0.0
    """The rules' combined weight alone (1 - Π(1 - w))."""
    classifier_score: float = 0.0
    """The classifier's probability for the text's most suspicious window, uncalibrated."""

    @property
    def injection(self) -> bool:
        return self.score >= self.threshold


# -- hidden characters ----------------------------------------------------------------------------


def unicode_findings(text: str, where: str = "") -> list[Finding]:
    """Invisible characters and bidi controls, one finding per run. What is how text is
    written rather than hiding is left alone: joiners inside emoji and non-Latin words,
    variation selectors after symbols, punctuation, digits and non-Latin letters (an emoji
    heart, a double exclamation mark, a keycap one), the tags of subdivision flags, direction
    marks and embeddings around numbers (a chat export's phone number between U+202A and
    U+202C), a byte-order mark at the start, and one stray zero-width space (pasted essays
    carry them) unless it splits a trigger word."""
    runs = _runs(find_invisible(text))
    if not runs:
        return []
    wrapped = _wrapped_numbers(text)
    in_word_runs = sum(_inside_word(text, start, end) for start, end in runs)
    findings: list[Finding] = []
    for start, end in runs:
        run = text[start:end]
        if _is_legitimate(text, start, end) or all(i in wrapped for i in range(start, end)):
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
        inside_word = _inside_word(text, start, end)
        lone = run in _STRAY and len(runs) == 1 and (not inside_word or in_word_runs == 1)
        if lone and (not inside_word or not _splits_trigger(text, start, end)):
            continue
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


_STRAY = frozenset({"\u200b", "\u2060", "\ufeff"})  # one zero-width space, word joiner, BOM
_MARKS = frozenset("\u200e\u200f\u061c")  # direction marks: they place, they cannot reorder
# An embedding or isolate that opens and closes around a number (phone numbers in exports).
_WRAPPED_NUMBER = re.compile(
    "[\u202a\u202b\u2066\u2067\u2068][\\d\\s+\\-().,/\u200e\u200f]{1,40}[\u202c\u2069]"
)
_WORD_AROUND = re.compile(r"\w*$")
_WORD_AFTER = re.compile(r"\w*")


def _wrapped_numbers(text: str) -> set[int]:
    if not any(c in text for c in "\u202a\u202b\u2066\u2067\u2068"):
        return set()
    positions: set[int] = set()
    for match in _WRAPPED_NUMBER.finditer(text):
        if any(c.isdigit() for c in match.group()):
            positions.update((match.start(), match.end() - 1))
            positions.update(match.start() + i for i, c in enumerate(match.group()) if c in _MARKS)
    return positions


def _inside_word(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()


def _splits_trigger(text: str, start: int, end: int) -> bool:
    """Whether the word an invisible character sits in is a trigger word once it is out."""
    before = _WORD_AROUND.search(text, 0, start)
    after = _WORD_AFTER.match(text, end)
    word = ((before.group() if before else "") + (after.group() if after else "")).lower()
    return word in TRIGGER_WORDS or any(
        trigger in word for trigger in TRIGGER_WORDS if len(trigger) > 5
    )


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
    after = text[end] if end < len(text) else ""
    if all(c in _JOINERS or 0xFE00 <= ord(c) <= 0xFE0F for c in run):
        if not before:
            return False
        category = unicodedata.category(before)
        return (
            category[0] in "SPM"  # symbols, punctuation (U+203C, U+2194, "#"), marks
            or before.isdigit()  # keycaps: a digit, U+FE0F, U+20E3
            or (before.isalpha() and not before.isascii())
            or (before in _JOINERS and bool(after) and not after.isascii())
        )
    if all(_TAG_FIRST <= ord(c) <= _TAG_LAST for c in run):
        return before == _BLACK_FLAG and len(run) <= 7
    if all(c in _MARKS for c in run):
        # A mark between two Latin letters splits a word: that is hiding, not placing.
        return not (before.isascii() and before.isalpha() and after.isascii() and after.isalpha())
    return run == "\ufeff" and start == 0  # a byte-order mark


def _codepoints(run: str) -> str:
    names = sorted({f"U+{ord(c):04X}" for c in run})
    return ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")


# -- one text -----------------------------------------------------------------------------------


def scan_text(
    text: str, *, where: str = "", threshold: float = DEFAULT_INJECTION_THRESHOLD
) -> InputReport:
    """Hidden characters and injection signals in one text, with the combined score and, when
    it reaches the threshold, an "injection" finding spanning the signals.

    The score joins two kinds of evidence, calibrated on families the classifier was not
    fitted to (scripts/train_guard.py): the rules' combined weight and the trained
    classifier's logit for the text's most suspicious window (core/guard/classifier.py); it
    is never below the rules' own weight. The classifier's own finding is reported when it
    alone would call the text an attack."""
    findings = unicode_findings(text, where) + injection_findings(text, where)
    rule_score = combine(findings)
    model = shipped_model()
    prepared, origin = prepared_view(text)
    window = model.score(prepared)
    # A rule phrase that is an attack wherever it appears keeps its weight: the classifier
    # adds what the rules miss, and a text of a kind it never saw (its logit confidently low)
    # does not talk the rules out of a plain "ignore all previous instructions".
    calibrated = model.calibration.score(window.logit, rule_score, window.windows)
    score = round(max(rule_score, calibrated), 4)
    span = (0, 0)
    alone = model.calibration.score(window.logit, 0.0, window.windows)
    # The window's characters are wanted for the classifier's own finding, or for the
    # injection finding when no rule gives an exact span (finding them is a pass over the text).
    exact = any(finding.score > 0 for finding in findings)
    if alone >= CLASSIFIER_FINDING or (score >= threshold and not exact):
        low, high = token_span(prepared, window.low, window.high)
        span = (origin(low), origin(max(low, high - 1)) + 1) if high > low else (0, 0)
    if alone >= CLASSIFIER_FINDING and span[1] > span[0]:
        findings.append(
            Finding(
                "classifier.injection",
                "classifier",
                span[0],
                span[1],
                round(alone, 4),
                where,
                # No quote of the window: guard_flags' excerpt shows it, with secrets masked.
                f"classifier {alone:.2f} on the {span[1] - span[0]:,} characters here",
            )
        )
    if score >= threshold:
        findings.append(_injection_finding(findings, score, threshold, where, span))
    return InputReport(tuple(findings), score, threshold, rule_score, window.probability)


def _injection_finding(
    findings: list[Finding],
    score: float,
    threshold: float,
    where: str,
    window: tuple[int, int],
) -> Finding:
    signals = [finding for finding in findings if finding.score > 0]
    names = ", ".join(dict.fromkeys(finding.rule for finding in signals)) or "classifier"
    # The span is the rules' matches when there are any (they are exact); the classifier's
    # window, a stretch of up to 64 tokens, only when it alone found the attack.
    exact = [finding for finding in signals if finding.kind != "classifier"]
    return Finding(
        "injection.score",
        "injection",
        min((finding.start for finding in exact), default=window[0]),
        max((finding.end for finding in exact), default=window[1]),
        score,
        where,
        f"score {score:.2f} ≥ {threshold:.2f}: {names}",
    )


def _as_retrieved(finding: Finding) -> Finding:
    if finding.rule != "injection.score":
        return finding
    return replace(finding, rule=RETRIEVED_RULE, detail=f"in retrieved context: {finding.detail}")


def as_tool_result(finding: Finding) -> Finding:
    """An injection found in a tool's result sent back to the model: indirect injection, as in
    retrieved context (the tool fetched it from outside), named apart from the user's words.
    Its kind stays "injection", so the policy's action for injections applies."""
    if finding.rule != "injection.score":
        return finding
    return replace(finding, rule=TOOL_RESULT_RULE, detail=f"in a tool result: {finding.detail}")


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
    an attack sits in one value, and benign hints spread over many do not add up. An
    injection found in a `retrieved` value is reported as "injection.retrieved" (indirect
    injection through fetched context), apart from one in the user's own words."""
    kinds = {variable.name: variable.kind for variable in variables}
    limits = variable_limits or {}
    findings: list[Finding] = []
    score = rule_score = classifier_score = 0.0
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
        if kinds.get(name) == "retrieved":
            # Indirect injection (a document the application fetched, not the user's words)
            # is named apart, so a policy reader or an F6 filter can tell the two.
            findings.extend(_as_retrieved(finding) for finding in report.findings)
        else:
            findings.extend(report.findings)
        score = max(score, report.score)
        rule_score = max(rule_score, report.rule_score)
        classifier_score = max(classifier_score, report.classifier_score)
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
    return InputReport(tuple(findings), score, threshold, rule_score, classifier_score)
