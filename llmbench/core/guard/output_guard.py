"""The output guard: what a model's answer should not carry, found before it is shown or stored.

- Personal data: email addresses, phone numbers (international "+" form and North American),
  payment card numbers (Luhn checksum and issuer prefix), IBANs (country length and mod-97),
  US social security numbers (without the never-issued ranges), IPv4 and IPv6 addresses.
- Secrets: the provider key formats of core/audit/redact.py (one list for both), AWS secret
  keys by their label, "password = ..." style assignments, PEM private keys, and the exact
  values of keys the caller knows.
- System-prompt leakage: a run of at least `min_words` consecutive words that also appear, in
  order, in the prompt's static sections; reported with its span and its length in words.
- Banned phrases of the prompt, matched without regard to case, accents, look-alikes,
  invisible characters or how the words are spaced.

Checksums keep the false positives of the number detectors down: a random 16-digit order number
passes Luhn one time in ten and an issuer prefix far less often; a random IBAN-shaped string
passes mod-97 about one time in a hundred.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache

from llmbench.core.audit.redact import AWS_SECRET_PATTERN, CONTEXT_PATTERN, SECRET_RULES
from llmbench.core.guard.folding import folded_view
from llmbench.core.guard.policy import DEFAULT_LEAK_MIN_WORDS, Finding, redact_spans

# -- personal data ---------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9][\w.%+\-]{0,63}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"
    r"(?![\w\-])"
)
_PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+[1-9][\d \-.()]{6,20}\d(?!\w)")
_PHONE_NANP = re.compile(r"(?<![\w\-.])(?:\(\d{3}\) ?|\d{3}[\-. ])\d{3}[\-. ]\d{4}(?![\w\-])")
_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}")
_SSN = re.compile(r"(?<![\d\-])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\d\-])")
_SSN_LABELLED = re.compile(r"(?i:\bssn|social security(?: number| no\.?| #)?)\W{0,5}(\d{9})\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

# Registered IBAN lengths (SWIFT IBAN registry) of the countries that use them.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
    "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
    "VG": 24, "XK": 20,
}  # fmt: skip
# Numbers the SSA never issued or that were published and voided.
_VOID_SSNS = frozenset({"078051120", "219099999", "123456789"})


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_issuer_known(digits: str) -> bool:
    """Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro."""
    length, two, four = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return length in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return length == 16
    if two in (34, 37):
        return length == 15
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return 16 <= length <= 19
    if 3528 <= four <= 3589:
        return 16 <= length <= 19
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return 14 <= length <= 19
    if two == 62 or two in (50, 56, 57, 58) or digits[:2] in ("67", "63"):
        return 12 <= length <= 19
    return False


def iban_valid(compact: str) -> bool:
    """Country length and the ISO 13616 mod-97 check (letters as 10..35)."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(char, 36)) for char in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and area + group + serial not in _VOID_SSNS
    )


def pii_findings(text: str) -> list[Finding]:
    findings: list[Finding] = []
    if "@" in text:
        findings += [
            Finding("pii.email", "email", m.start(), m.end()) for m in _EMAIL.finditer(text)
        ]
    findings += _ibans(text)
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(set(digits)) > 1 and luhn_valid(digits) and _card_issuer_known(digits):
            findings.append(Finding("pii.credit_card", "credit_card", *match.span()))
    for match in _SSN.finditer(text):
        if ssn_valid(match.group(1), match.group(3), match.group(4)):
            findings.append(Finding("pii.ssn", "ssn", *match.span()))
    for match in _SSN_LABELLED.finditer(text):
        digits = match.group(1)
        if ssn_valid(digits[:3], digits[3:5], digits[5:]):
            findings.append(Finding("pii.ssn_labelled", "ssn", *match.span(1)))
    if "+" in text:
        for match in _PHONE_INTERNATIONAL.finditer(text):
            if 8 <= sum(c.isdigit() for c in match.group()) <= 15:
                findings.append(Finding("pii.phone_international", "phone", *match.span()))
    for match in _PHONE_NANP.finditer(text):
        if match.group().lstrip("(")[0] in "23456789":
            findings.append(Finding("pii.phone_nanp", "phone", *match.span()))
    findings += _ip_addresses(text)
    return findings


def _ibans(text: str) -> list[Finding]:
    findings = []
    for match in _IBAN.finditer(text):
        length = IBAN_LENGTHS.get(match.group()[:2])
        if length is None:
            continue
        # The pattern may run on into a following capitalised word: keep the IBAN's length.
        kept, end = 0, match.start()
        for position in range(match.start(), match.end()):
            if text[position] != " ":
                kept += 1
                if kept == length:
                    end = position + 1
                    break
        compact = text[match.start() : end].replace(" ", "")
        if kept == length and iban_valid(compact) and not text[end : end + 1].isalnum():
            findings.append(Finding("pii.iban", "iban", match.start(), end))
    return findings


def _ip_addresses(text: str) -> list[Finding]:
    findings = []
    if "." in text:
        for match in _IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(match.group())
            except ValueError:
                continue
            findings.append(Finding("pii.ipv4", "ip_address", *match.span()))
    if "::" in text or text.count(":") >= 7:
        for match in _IPV6.finditer(text):
            candidate = match.group()
            if sum(bool(group) for group in candidate.split(":")) < 2:
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            findings.append(Finding("pii.ipv6", "ip_address", *match.span()))
    return findings


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
_PRIORITY = {
    "secret": 0,
    "iban": 1,
    "credit_card": 2,
    "ssn": 3,
    "email": 4,
    "ip_address": 5,
    "phone": 6,
}


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
