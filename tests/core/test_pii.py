"""The one PII detector (core/pii.py): each rule with what it must find and what it must not, and
the pii-present check and the output guard agreeing on the same samples (issue #18: the check
passed an IBAN and an IP address the guard flagged, and called an invalid SSN a phone)."""

from __future__ import annotations

import pytest

from llmbench.core.evaluation import check_spec
from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_runner import run_check
from llmbench.core.evaluation.check_spec import CheckContext, CheckError
from llmbench.core.evaluation.refusal_and_pii import find_pii as check_find_pii
from llmbench.core.guard import policy
from llmbench.core.guard.output_guard import check_output, redact
from llmbench.core.pii import (
    PII_KINDS,
    PII_PRIORITY,
    card_issuer_known,
    find_pii,
    iban_valid,
    luhn_valid,
    pii_matches,
    ssn_valid,
)

CONTEXT = CheckContext(expected=None, latency_ms=1.0, cost=0.0, model="m", variables={})


def _found(text: str, kinds: tuple[str, ...] = PII_KINDS) -> list[tuple[str, str]]:
    return [(match.rule, text[match.start : match.end]) for match in find_pii(text, kinds)]


# -- each rule, found at its span ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "value"),
    [
        ("Write to jane.doe+billing@example.co.uk today.", "pii.email",
         "jane.doe+billing@example.co.uk"),
        ("Call +44 20 7946 0958 after 9.", "pii.phone_international", "+44 20 7946 0958"),
        ("Call +1 (415) 555-0100.", "pii.phone_international", "+1 (415) 555-0100"),
        ("Call (415) 555-0100 now.", "pii.phone_nanp", "(415) 555-0100"),
        ("Call 415.555.0100 now.", "pii.phone_nanp", "415.555.0100"),
        ("Toll free 1-800-555-0100.", "pii.phone_nanp", "1-800-555-0100"),
        ("London 020 7946 0958.", "pii.phone_national", "020 7946 0958"),
        ("Mobile 07700 900123 (UK).", "pii.phone_national", "07700 900123"),
        ("Paris 06 12 34 56 78.", "pii.phone_national", "06 12 34 56 78"),
        ("Berlin (030) 1234567.", "pii.phone_national", "(030) 1234567"),
        ("Tokyo 03-1234-5678.", "pii.phone_national", "03-1234-5678"),
        ("Card 4111 1111 1111 1111 on file.", "pii.credit_card", "4111 1111 1111 1111"),
        ("Amex 3782-822463-10005.", "pii.credit_card", "3782-822463-10005"),
        ("MC 5555555555554444", "pii.credit_card", "5555555555554444"),
        ("IBAN DE89 3704 0044 0532 0130 00.", "pii.iban", "DE89 3704 0044 0532 0130 00"),
        ("Pay GB82WEST12345698765432 AND confirm.", "pii.iban", "GB82WEST12345698765432"),
        ("NL91ABNA0417164300", "pii.iban", "NL91ABNA0417164300"),
        ("SSN 536-22-8726 on the form.", "pii.ssn", "536-22-8726"),
        ("SSN 536 22 8726 on the form.", "pii.ssn", "536 22 8726"),
        ("Her SSN: 012-34-5678.", "pii.ssn", "012-34-5678"),
        ("social security number: 536228726", "pii.ssn_labelled", "536228726"),
        ("Server at 192.168.1.20 is down.", "pii.ipv4", "192.168.1.20"),
        ("host 1.2.3.4 answered", "pii.ipv4", "1.2.3.4"),
        ("Host 2001:db8::8a2e:370:7334 answered.", "pii.ipv6", "2001:db8::8a2e:370:7334"),
    ],
)  # fmt: skip
def test_each_rule_finds_its_kind_at_its_span(text: str, rule: str, value: str) -> None:
    assert _found(text) == [(rule, value)]


# -- and what each rule must leave alone -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Card 4111 1111 1111 1112 was declined.", "fails Luhn"),
        ("Reference 1234567812345670.", "passes Luhn, but no issuer starts with 12"),
        ("0000 0000 0000 0000", "one repeated digit"),
        ("DE89 3704 0044 0532 0130 01", "fails mod-97"),
        ("DE89 3704 0044 0532 0130", "shorter than Germany's 22 characters"),
        ("XX89 3704 0044 0532 0130 00", "no such country"),
        ("000-12-3456", "SSN area 000 was never issued"),
        ("666-12-3456", "SSN area 666 was never issued"),
        ("912-34-5678", "SSN areas 9xx are ITINs, not SSNs"),
        ("536-00-8726", "SSN group 00"),
        ("536-22-0000", "SSN serial 0000"),
        ("078-05-1120", "the published Woolworth wallet number"),
        ("123-45-6789", "void SSN, and SSN-shaped, so not a phone either"),
        ("Build 536228726 passed.", "nine digits without an SSN label"),
        ("Order 123-456-7890 shipped.", "no North American area code starts with 1"),
        ("order 1234567890", "a bare run of digits is an order number"),
        ("Call 911 or dial +1.", "too short for a phone"),
        ("Meet on 05.06.2024 12:30.", "a date and a time"),
        ("Released 2024-11-27.", "a date"),
        ("version 1.2.3.4", "a version number"),
        ("Firmware: 2.0.1.7", "a version number"),
        ("v1.2.3.4", "a version number"),
        ("999.1.1.1 and 1.2.3.4.5 and 10.0.19041.1", "not an address, or part of a longer run"),
        ("Meet at 12:30:45; use std::vector and Foo::bar().", "colons that are not IPv6"),
        ("Mention @jane, or foo@bar with no domain suffix", "not an email address"),
    ],
)
def test_look_alikes_are_not_personal_data(text: str, why: str) -> None:
    assert _found(text) == [], why


def test_the_checksums_and_number_rules() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert card_issuer_known("378282246310005") and not card_issuer_known("1234567812345670")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("GB82WEST1234569876543")  # one character short for GB
    assert ssn_valid("536", "22", "8726")
    for area, group, serial in [("000", "22", "8726"), ("666", "22", "8726"),
                                ("900", "22", "8726"), ("999", "22", "8726"),
                                ("536", "00", "8726"), ("536", "22", "0000")]:  # fmt: skip
        assert not ssn_valid(area, group, serial), (area, group, serial)


def test_an_ssn_shaped_number_is_never_a_phone() -> None:
    # The old check read every punctuated run of 9 to 15 digits as a phone.
    for text in ("123-45-6789", "912-34-5678", "000-12-3456", "012 34 5678"):
        assert all(match.kind != "phone" for match in pii_matches(text)), text
    assert [match.kind for match in find_pii("SSN 536-22-8726")] == ["ssn"]


# -- overlaps and kinds ----------------------------------------------------------------------


def test_the_more_specific_kind_keeps_overlapping_text() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00"
    assert {match.kind for match in pii_matches(text)} >= {"iban"}
    assert [match.kind for match in find_pii(text)] == ["iban"]
    # Asking only for phones does not turn the IBAN's digits into one.
    assert find_pii(text, ["phone"]) == []
    assert PII_PRIORITY[0] == "iban" and set(PII_PRIORITY) == set(PII_KINDS)


def test_kinds_are_selectable_and_unknown_kinds_refused() -> None:
    text = "Mail jane@example.com, call +44 20 7946 0958 from 10.0.0.7."
    assert [m.kind for m in find_pii(text)] == ["email", "phone", "ip_address"]
    assert [m.kind for m in find_pii(text, ["ip_address", "email"])] == ["email", "ip_address"]
    with pytest.raises(ValueError, match="unknown PII kind 'passport'"):
        find_pii(text, ["passport"])


def test_the_check_and_the_guard_name_the_same_kinds() -> None:
    assert check_spec.PII_KINDS == policy.PII_KINDS == PII_KINDS


def test_the_pii_present_check_selects_the_new_kinds() -> None:
    iban_only = parse_check({"type": "pii-present", "kinds": ["iban"]})
    assert run_check(iban_only, "pay to GB82WEST12345698765432", CONTEXT).passed
    assert not run_check(iban_only, "host 10.0.0.7", CONTEXT).passed
    every_kind = parse_check({"type": "pii-present"})
    result = run_check(every_kind, "SSN 536-22-8726 from host 10.0.0.7", CONTEXT)
    assert result.passed and result.detail == "found ip_address, ssn"
    with pytest.raises(CheckError, match="known: email, phone, credit_card, iban, ssn, ip_address"):
        parse_check({"type": "pii-present", "kinds": ["passport"]})


# -- the check and the guard agree -----------------------------------------------------------

SHARED_SAMPLES = [
    "Refund sent to GB82WEST12345698765432 today.",
    "Your session came from 203.0.113.7 and 2001:db8::8a2e:370:7334.",
    "SSN 123-45-6789 is not valid; 536-22-8726 is.",
    "Call +44 20 7946 0958, (415) 555-0100 or 020 7946 0958.",
    "Card 4111 1111 1111 1111, not 4111 1111 1111 1112.",
    "Write to dana.r@example.co.uk about order 1234567890.",
    "Upgrade to version 1.2.3.4 on 2024-11-27.",
    "IBAN DE89 3704 0044 0532 0130 00, social security number: 536228726",
    "Nothing personal here: 42 apples, 3.14159, 12:30.",
]


@pytest.mark.parametrize("text", SHARED_SAMPLES)
def test_the_check_and_the_guard_agree(text: str) -> None:
    guard = [finding for finding in check_output(text) if finding.kind in PII_KINDS]
    detector = find_pii(text)
    assert [(f.kind, f.start, f.end) for f in guard] == [(m.kind, m.start, m.end) for m in detector]
    assert check_find_pii(text) == [finding.kind for finding in guard]
    present = run_check(parse_check({"type": "pii-present"}), text, CONTEXT)
    assert present.passed == bool(guard)


def test_the_guard_redacts_each_span() -> None:
    text = "Pay GB82WEST12345698765432 from 203.0.113.7, SSN 536-22-8726, tel 020 7946 0958."
    assert redact(text, check_output(text)) == (
        "Pay [REDACTED:iban] from [REDACTED:ip_address], SSN [REDACTED:ssn], tel [REDACTED:phone]."
    )
