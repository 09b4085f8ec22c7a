"""Personal data in a text: the one detector behind the `pii-present` check
(core/evaluation) and the output guard (core/guard), so that both find the same things.

Kinds (PII_KINDS), each selectable, and the rules that find them (a match's `rule`):

- email          pii.email              local@domain.tld
- phone          pii.phone_international  "+" and a country code, 8 to 15 digits (E.164)
                 pii.phone_nanp         North American: (415) 555-0100, 415-555-0100, 1-800-…;
                                        the area code starts with 2-9
                 pii.phone_national     a trunk "0" and groups: 020 7946 0958, 06 12 34 56 78,
                                        (030) 1234567; 9 to 12 digits, at least one separator
- credit_card    pii.credit_card        13 to 19 digits (spaces or dashes between) that pass
                                        Luhn, carry a known issuer's prefix and length, and are
                                        not one repeated digit
- iban           pii.iban               the country's registered length and ISO 13616 mod-97
- ssn            pii.ssn                US social security numbers 123-45-6789 or 123 45 6789,
                 pii.ssn_labelled       or nine digits after "SSN" / "social security number";
                                        never area 000, 666 or 9xx, group 00, serial 0000, nor a
                                        published void number
- ip_address     pii.ipv4, pii.ipv6     addresses Python's ipaddress accepts

Decisions, each pinned by tests/core/test_pii.py:
- A phone number is never SSN-shaped: three digits, two, four (123-45-6789) is read as an SSN
  when it is a valid one and as nothing otherwise, not as a phone.
- A dotted quad right after "version", "v", "release", "build", "firmware" or "rev"
  ("version 1.2.3.4") is a version number, not an address; on its own (1.2.3.4) it is an
  address. Four groups inside a longer dotted run (10.0.19041.1, 1.2.3.4.5) are neither.
- Where matches overlap, the more specific kind keeps the text (PII_PRIORITY): the digits of an
  IBAN are not also a card or a phone, a card's digits not a phone.

Checksums keep false positives down: a random 16-digit number passes Luhn one time in ten and
an issuer prefix far less often; a random IBAN-shaped string passes mod-97 about one time in a
hundred.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

PII_KINDS: tuple[str, ...] = ("email", "phone", "credit_card", "iban", "ssn", "ip_address")
# Which kind keeps overlapping text, most specific first.
PII_PRIORITY: tuple[str, ...] = ("iban", "credit_card", "ssn", "email", "ip_address", "phone")


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data at [start, end) of the text; `rule` names how it was found."""

    rule: str
    kind: str
    start: int
    end: int


_EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9][\w.%+\-]{0,63}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"
    r"(?![\w\-])"
)
_PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+[1-9][\d \-.()]{6,20}\d(?!\w)")
_PHONE_NANP = re.compile(
    r"(?<![\w\-.])(?:1[\-. ])?(?:\(\d{3}\) ?|\d{3}[\-. ])\d{3}[\-. ]\d{4}(?![\w\-])"
)
# A trunk "0" and the area code (in brackets or not), then groups of digits. Not glued to a
# number before or after ("4 0532 0130 00" inside an IBAN, "12:30" after a date). The literal
# comes first and the look-behinds after it, which lets the regex engine skip ahead to each
# "(" or "0" instead of trying every position (3x faster on prose).
_PHONE_NATIONAL = re.compile(
    r"(?:\((?<![\w+\-.]\()(?<!\d \()0[1-9]\d{0,3}\)|0(?<![\w+\-.]0)(?<!\d 0)[1-9]\d{0,3})"
    r"(?:[ \-.]?\d{2,8}){1,4}(?![\w\-]|[.:]\d| \d)"
)
_SSN_SHAPE = re.compile(r"\(?\d{3}\)?[\- .]\d{2}[\- .]\d{4}")
_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}")
_SSN = re.compile(r"(?<![\d\-])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\d\-])")
_SSN_LABELLED = re.compile(r"(?i:\bssn|social security(?: number| no\.?| #)?)\W{0,5}(\d{9})\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION_BEFORE = re.compile(
    r"(?i:\b(?:v|ver|version|release|build|firmware|fw|rev|revision)\.?:?\s*)$"
)

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


# -- the checksums and number rules ----------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_issuer_known(digits: str) -> bool:
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


# -- the detector ----------------------------------------------------------------------------


def pii_matches(text: str) -> list[PiiMatch]:
    """Every match of every rule, overlaps kept (a redaction masks their union), by position."""
    found: list[PiiMatch] = []
    if "@" in text:
        found += [PiiMatch("pii.email", "email", *m.span()) for m in _EMAIL.finditer(text)]
    found += _ibans(text)
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(set(digits)) > 1 and luhn_valid(digits) and card_issuer_known(digits):
            found.append(PiiMatch("pii.credit_card", "credit_card", *match.span()))
    found += _ssns(text)
    found += _phones(text)
    found += _ip_addresses(text)
    return sorted(found, key=lambda match: (match.start, match.end))


def find_pii(text: str, kinds: Iterable[str] = PII_KINDS) -> list[PiiMatch]:
    """The personal data of text of the given kinds, one match per piece, in order: where
    matches overlap the more specific kind keeps the text (PII_PRIORITY) before the kinds are
    chosen, so an IBAN's digits are never reported as a phone even when only phones are asked
    for."""
    wanted = frozenset(kinds)
    unknown = wanted - set(PII_KINDS)
    if unknown:
        raise ValueError(f"unknown PII kind {sorted(unknown)[0]!r} (known: {', '.join(PII_KINDS)})")
    resolved = without_overlaps(pii_matches(text))
    return [match for match in resolved if match.kind in wanted]


def without_overlaps(matches: Sequence[PiiMatch]) -> list[PiiMatch]:
    """Overlapping matches of one kind become one spanning both; then, of matches of different
    kinds that overlap, the one earlier in PII_PRIORITY (then the longer) is kept."""
    rank = {kind: index for index, kind in enumerate(PII_PRIORITY)}
    kept: list[PiiMatch] = []  # by start; never overlapping, so only neighbours need a look
    starts: list[int] = []
    ranked = sorted(_merged(matches), key=lambda m: (rank.get(m.kind, 99), -(m.end - m.start)))
    for match in ranked:
        index = bisect.bisect_left(starts, match.start)
        if index > 0 and kept[index - 1].end > match.start:
            continue
        if index < len(kept) and kept[index].start < match.end:
            continue
        kept.insert(index, match)
        starts.insert(index, match.start)
    return kept


def _merged(matches: Sequence[PiiMatch]) -> list[PiiMatch]:
    merged: list[PiiMatch] = []
    for match in sorted(matches, key=lambda m: (m.kind, m.start)):
        last = merged[-1] if merged else None
        if last is not None and last.kind == match.kind and match.start < last.end:
            longer = last if last.end - last.start >= match.end - match.start else match
            merged[-1] = replace(longer, start=last.start, end=max(last.end, match.end))
        else:
            merged.append(match)
    return merged


def _ibans(text: str) -> list[PiiMatch]:
    found = []
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
            found.append(PiiMatch("pii.iban", "iban", match.start(), end))
    return found


def _ssns(text: str) -> list[PiiMatch]:
    found = [
        PiiMatch("pii.ssn", "ssn", *match.span())
        for match in _SSN.finditer(text)
        if ssn_valid(match.group(1), match.group(3), match.group(4))
    ]
    for match in _SSN_LABELLED.finditer(text):
        digits = match.group(1)
        if ssn_valid(digits[:3], digits[3:5], digits[5:]):
            found.append(PiiMatch("pii.ssn_labelled", "ssn", *match.span(1)))
    return found


def _phones(text: str) -> list[PiiMatch]:
    found = []
    if "+" in text:
        for match in _PHONE_INTERNATIONAL.finditer(text):
            if 8 <= sum(char.isdigit() for char in match.group()) <= 15:
                found.append(PiiMatch("pii.phone_international", "phone", *match.span()))
    for match in _PHONE_NANP.finditer(text):
        number = match.group()
        area = number[2:] if number[:1] == "1" and number[1:2] in "-. " else number
        if area.lstrip("(")[0] in "23456789":
            found.append(PiiMatch("pii.phone_nanp", "phone", *match.span()))
    if "0" in text:
        for match in _PHONE_NATIONAL.finditer(text):
            number = match.group()
            digits = sum(char.isdigit() for char in number)
            written_as_phone = number.startswith("(") or not number.isdigit()
            if 9 <= digits <= 12 and written_as_phone and not _SSN_SHAPE.fullmatch(number):
                found.append(PiiMatch("pii.phone_national", "phone", *match.span()))
    return found


def _ip_addresses(text: str) -> list[PiiMatch]:
    found = []
    if "." in text:
        for match in _IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(match.group())
            except ValueError:
                continue
            if _VERSION_BEFORE.search(text, max(0, match.start() - 16), match.start()):
                continue
            found.append(PiiMatch("pii.ipv4", "ip_address", *match.span()))
    if "::" in text or text.count(":") >= 7:
        for match in _IPV6.finditer(text):
            candidate = match.group()
            if sum(bool(group) for group in candidate.split(":")) < 2:
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            found.append(PiiMatch("pii.ipv6", "ip_address", *match.span()))
    return found
