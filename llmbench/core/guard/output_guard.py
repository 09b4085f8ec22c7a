"""The output guard: what a model's answer should not carry, found before it is shown or stored.

- Personal data, by core/pii.py (the detector the pii-present check uses too): email addresses,
  phone numbers (international "+" form, North American, national with a trunk 0), payment
  card numbers (Luhn checksum and issuer prefix), IBANs (country length and mod-97), US social
  security numbers (without the never-issued ranges), IPv4 and IPv6 addresses.
- Secrets: the provider key formats of core/audit/redact.py (one list for both), AWS secret
  keys by their label, "password = ..." style assignments, PEM private keys, and the exact
  values of keys the caller knows.
- System-prompt leakage: a run of at least `min_words` consecutive words that also appear, in
  order, in the prompt's static sections; reported with its span and its length in words.
- Banned phrases of the prompt, matched without regard to case, accents, look-alikes,
  invisible characters or how the words are spaced.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache

from llmbench.core.audit.redact import AWS_SECRET_PATTERN, CONTEXT_PATTERN, SECRET_RULES
from llmbench.core.guard.folding import folded_view
from llmbench.core.guard.policy import DEFAULT_LEAK_MIN_WORDS, Finding, redact_spans

# One detector for the guard and the pii-present check (core/pii.py); its checksums are still
# importable from here.
from llmbench.core.pii import IBAN_LENGTHS as IBAN_LENGTHS
from llmbench.core.pii import PII_PRIORITY, pii_matches
from llmbench.core.pii import iban_valid as iban_valid
from llmbench.core.pii import luhn_valid as luhn_valid
from llmbench.core.pii import ssn_valid as ssn_valid

# -- personal data ---------------------------------------------------------------------------------


def pii_findings(text: str) -> list[Finding]:
    """Every piece of personal data in text, overlaps kept: core/pii.py's one detector."""
    return [Finding(match.rule, match.kind, match.start, match.end) for match in pii_matches(text)]


# -- secrets ---------------------------------------------------------------------------------------

# Each rule runs only when its literal prefix is in the text. A key glued to letters before it
# ("mask-sk-...") is part of some other word, so a boundary is required in front.
_SECRET_PREFIXES = {
    "anthropic_key": ("sk-ant-",),
    "openai_project_key": ("sk-proj-",),
    "openai_service_key": ("sk-svcacct-", "sk-admin-"),
    "openrouter_key": ("sk-or-v1-",),
    "openai_key": ("sk-",),
    "stripe_key": ("_live_", "_test_"),
    "google_api_key": ("AIza",),
    "huggingface_token": ("hf_",),
    "groq_key": ("gsk_",),
    "xai_key": ("xai-",),
    "replicate_token": ("r8_",),
    "aws_access_key_id": ("AKIA", "ASIA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "github_fine_grained_token": ("github_pat_",),
    "slack_token": ("xox",),
    "jwt": ("eyJ",),
    "private_key": ("PRIVATE KEY-----",),
}
_SECRET_REGEXES = tuple(
    (name, _SECRET_PREFIXES[name], re.compile(r"(?<![A-Za-z0-9])" + pattern))
    for name, pattern in SECRET_RULES
)
_AWS_SECRET = re.compile(AWS_SECRET_PATTERN)
_ASSIGNED = re.compile(CONTEXT_PATTERN)
_ASSIGNED_HINTS = ("bearer", "key", "token", "password")


def secret_findings(text: str, known_secrets: Iterable[str] = ()) -> list[Finding]:
    findings: list[Finding] = []
    for name, prefixes, regex in _SECRET_REGEXES:
        if any(prefix in text for prefix in prefixes):
            findings += [
                Finding(f"secret.{name}", "secret", *match.span()) for match in regex.finditer(text)
            ]
    lowered = text.lower()
    if "secret" in lowered:
        findings += [
            Finding("secret.aws_secret_key", "secret", *match.span("aws_secret"))
            for match in _AWS_SECRET.finditer(text)
        ]
    if any(hint in lowered for hint in _ASSIGNED_HINTS):
        findings += [
            Finding("secret.assigned", "secret", *match.span("value"))
            for match in _ASSIGNED.finditer(text)
        ]
    for secret in known_secrets:
        if len(secret) >= 8:
            start = text.find(secret)
            while start != -1:
                findings.append(Finding("secret.known", "secret", start, start + len(secret)))
                start = text.find(secret, start + len(secret))
    return findings


# -- system-prompt leakage -------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=64)
def _section_ngrams(sections: tuple[tuple[str, str], ...], size: int) -> dict[int, str]:
    """Hash of each run of `size` words of the sections -> the section it is from."""
    grams: dict[int, str] = {}
    for name, text in sections:
        words = [word.lower() for word in _WORD.findall(text)]
        for index in range(len(words) - size + 1):
            grams.setdefault(hash(tuple(words[index : index + size])), name)
    return grams


def leak_findings(
    text: str,
    static_sections: Mapping[str, str] | Iterable[str],
    min_words: int = DEFAULT_LEAK_MIN_WORDS,
) -> list[Finding]:
    """Runs of at least min_words words of text that also stand, in that order, in one of the
    static sections. Each finding spans the whole overlapping run."""
    if isinstance(static_sections, Mapping):
        sections = tuple((str(k), v) for k, v in static_sections.items())
    else:
        sections = tuple((f"section {i + 1}", v) for i, v in enumerate(static_sections))
    grams = _section_ngrams(sections, min_words)
    if not grams:
        return []
    matches = list(_WORD.finditer(text))
    words = [match.group().lower() for match in matches]
    findings = []
    index, last = 0, len(words) - min_words
    while index <= last:
        section = grams.get(hash(tuple(words[index : index + min_words])))
        if section is None:
            index += 1
            continue
        end = index
        while end + 1 <= last and hash(tuple(words[end + 1 : end + 1 + min_words])) in grams:
            end += 1
        length = end - index + min_words
        start_char, end_char = matches[index].start(), matches[end + min_words - 1].end()
        findings.append(
            Finding(
                "prompt_leak.ngram",
                "prompt_leak",
                start_char,
                end_char,
                detail=f"{length} words of {section}",
            )
        )
        index = end + min_words
    return findings


# -- banned phrases --------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives = []
    for phrase in phrases:
        words = _WORD.findall(folded_view(phrase)[0])
        if words:
            alternatives.append(r"\b" + r"\W+".join(re.escape(word) for word in words) + r"\b")
    return re.compile("|".join(alternatives)) if alternatives else None


def banned_phrase_findings(text: str, phrases: Iterable[str]) -> list[Finding]:
    phrases = tuple(phrases)
    pattern = _phrase_pattern(phrases) if phrases else None
    if pattern is None:
        return []
    folded, origin = folded_view(text)
    findings = []
    for match in pattern.finditer(folded):
        start, end = origin(match.start()), origin(match.end() - 1) + 1
        findings.append(
            Finding("banned_phrase", "banned_phrase", start, end, detail=text[start:end][:80])
        )
    return findings


# -- all together ----------------------------------------------------------------------------------

# When two findings overlap, the more specific wins: a key is not also a phone number, the
# digits of an IBAN are not also a card.
_PRIORITY = {"secret": 0, **{kind: rank for rank, kind in enumerate(PII_PRIORITY, start=1)}}


def check_output(
    text: str,
    *,
    static_sections: Mapping[str, str] | Iterable[str] = (),
    banned_phrases: Iterable[str] = (),
    leak_min_words: int = DEFAULT_LEAK_MIN_WORDS,
    known_secrets: Iterable[str] = (),
    detected: list[Finding] | None = None,
) -> list[Finding]:
    """Every finding in a model's answer, in the order they appear. `detected`: the secrets
    and personal data of text when the caller has found them already (for the excerpts)."""
    if detected is None:
        detected = secret_findings(text, known_secrets) + pii_findings(text)
    findings = _without_overlaps(detected)
    findings += leak_findings(text, static_sections, leak_min_words)
    findings += banned_phrase_findings(text, banned_phrases)
    return sorted(findings, key=lambda finding: (finding.start, finding.end))


def _merged(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings of one kind become one spanning both (named by the longer), so a
    redaction covers all of them."""
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.kind, f.start)):
        last = merged[-1] if merged else None
        if last is not None and last.kind == finding.kind and finding.start < last.end:
            longer = last if last.end - last.start >= finding.end - finding.start else finding
            merged[-1] = replace(longer, start=last.start, end=max(last.end, finding.end))
        else:
            merged.append(finding)
    return merged


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []  # by start; never overlapping, so only neighbours need a look
    starts: list[int] = []
    ranked = sorted(_merged(findings), key=lambda f: (_PRIORITY.get(f.kind, 9), -(f.end - f.start)))
    for finding in ranked:
        index = bisect.bisect_left(starts, finding.start)
        if index > 0 and kept[index - 1].end > finding.start:
            continue
        if index < len(kept) and kept[index].start < finding.end:
            continue
        kept.insert(index, finding)
        starts.insert(index, finding.start)
    return kept


def redact(text: str, findings: Iterable[Finding]) -> str:
    """text with every finding's span replaced by [REDACTED:kind]."""
    return redact_spans(text, findings)
