from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.audit.redact import MASK, Redactor
from llmbench.core.guard.output_guard import (
    banned_phrase_findings,
    check_output,
    iban_valid,
    leak_findings,
    luhn_valid,
    redact,
)


def _found(text: str, **options: object) -> list[tuple[str, str]]:
    return [(f.rule, text[f.start : f.end]) for f in check_output(text, **options)]  # type: ignore[arg-type]


def _kinds(text: str) -> set[str]:
    return {finding.kind for finding in check_output(text)}


# -- personal data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "value"),
    [
        (
            "Write to jane.doe+billing@example.co.uk today.",
            "pii.email",
            "jane.doe+billing@example.co.uk",
        ),
        ("Call +44 20 7946 0958 after 9.", "pii.phone_international", "+44 20 7946 0958"),
        ("Call (415) 555-0100 now.", "pii.phone_nanp", "(415) 555-0100"),
        ("Call 415-555-0100 now.", "pii.phone_nanp", "415-555-0100"),
        ("Card 4111 1111 1111 1111 on file.", "pii.credit_card", "4111 1111 1111 1111"),
        ("Amex 3782-822463-10005.", "pii.credit_card", "3782-822463-10005"),
        ("MC 5555555555554444", "pii.credit_card", "5555555555554444"),
        ("IBAN DE89 3704 0044 0532 0130 00.", "pii.iban", "DE89 3704 0044 0532 0130 00"),
        ("Pay GB82WEST12345698765432 AND confirm.", "pii.iban", "GB82WEST12345698765432"),
        ("FR1420041010050500013M02606", "pii.iban", "FR1420041010050500013M02606"),
        ("SSN 536-22-8726 on the form.", "pii.ssn", "536-22-8726"),
        ("social security number: 536228726", "pii.ssn_labelled", "536228726"),
        ("Server at 192.168.1.20 is down.", "pii.ipv4", "192.168.1.20"),
        ("Resolver 8.8.8.8.", "pii.ipv4", "8.8.8.8"),
        ("Host 2001:db8::8a2e:370:7334 answered.", "pii.ipv6", "2001:db8::8a2e:370:7334"),
        ("link-local fe80::1 only", "pii.ipv6", "fe80::1"),
    ],
)
def test_personal_data_is_found_at_its_span(text: str, rule: str, value: str) -> None:
    assert (rule, value) in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mention @jane on the ticket, or write to jane at example dot com.",
        "foo@bar has no domain suffix",
        "Call 911 or dial +1.",
        "Order 123-456-7890 shipped.",  # no area code starts with 1
        "Version 1.2.3 was released on 2024-03-15.",
        "Card 4111 1111 1111 1112 was declined.",  # fails Luhn
        "Reference 1234567812345670.",  # passes Luhn, no issuer starts with 12
        "0000 0000 0000 0000",
        "DE89 3704 0044 0532 0130 01",  # fails mod-97
        "XX89 3704 0044 0532 0130 00",  # no such country
        "000-12-3456, 666-12-3456, 912-34-5678, 536-00-8726, 536-22-0000, 078-05-1120",
        "Build 536228726 passed.",  # nine digits without a label are not an SSN
        "999.1.1.1 and 1.2.3.4.5 and 10.0.19041.1",
        "Meet at 12:30:45; use std::vector and Foo::bar().",
    ],
)
def test_look_alikes_of_personal_data_are_not_found(text: str) -> None:
    assert check_output(text) == [], check_output(text)


def test_the_digits_of_an_iban_are_not_also_a_card_or_a_phone() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00"
    assert [f.kind for f in check_output(text)] == ["iban"]


@given(st.text(alphabet="0123456789", min_size=2, max_size=19))
def test_luhn_agrees_with_the_textbook_formula(digits: str) -> None:
    def textbook(number: str) -> bool:
        total = 0
        for index, char in enumerate(reversed(number)):
            doubled = int(char) * (2 if index % 2 else 1)
            total += doubled // 10 + doubled % 10
        return total % 10 == 0

    assert luhn_valid(digits) == textbook(digits)


def test_iban_mod_97_agrees_with_piecewise_remainders() -> None:
    def piecewise(iban: str) -> int:
        rearranged = iban[4:] + iban[:4]
        remainder = 0
        for char in rearranged:
            for digit in str(int(char, 36)):
                remainder = (remainder * 10 + int(digit)) % 97
        return remainder

    for iban in ("DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"):
        assert iban_valid(iban) and piecewise(iban) == 1
    assert not iban_valid("NL91ABNA0417164301")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_dotted_ipv4_address_is_found(number: int) -> None:
    address = str(ipaddress.IPv4Address(number))
    assert ("pii.ipv4", address) in _found(f"host {address} answered")


# -- secrets ---------------------------------------------------------------------------------------

SECRETS = {
    "openai_project_key": "sk-proj-AbCdEf0123456789AbCdEf0123456789",
    "anthropic_key": "sk-ant-api03-AbCdEf0123456789AbCdEf0123456789",
    "openai_key": "sk-0123456789abcdefABCDEF0123456789",
    "google_api_key": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "huggingface_token": "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "github_token": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_fine_grained_token": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "slack_token": "xoxb-1234567890-abcdefghijkl",
    "stripe_key": "sk_live_51H8abcdefghijklmnopqrstu",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


@pytest.mark.parametrize("name", list(SECRETS))
def test_provider_keys_are_found_and_named(name: str) -> None:
    secret = SECRETS[name]
    assert (f"secret.{name}", secret) in _found(f"Here you go: {secret} (keep it safe)")


def test_an_aws_secret_key_is_found_by_its_label() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    text = f"aws_secret_access_key = {secret}\nregion = eu-west-1"
    assert ("secret.aws_secret_key", secret) in _found(text)
    assert ("secret.aws_secret_key", secret) not in _found(f"checksum {secret}")


@pytest.mark.parametrize("ending", ["-----END RSA PRIVATE KEY-----\n", ""])
def test_a_private_key_is_found_whole_or_cut_short(ending: str) -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v\nq1w2e3r4t5y6\n" + ending
    findings = check_output(f"The key:\n{key}That's it.")
    assert [f.rule for f in findings] == ["secret.private_key"]
    assert "MIIEowIBAAKCAQEA7v" in f"The key:\n{key}"[findings[0].start : findings[0].end]


def test_overlapping_secrets_are_redacted_as_one() -> None:
    key = "sk-ant-api03-AbCdEf0123456789AbCdEf0123456789"
    text = f"-----BEGIN PRIVATE KEY-----\nabc\n{key} trailing words"
    findings = check_output(text)
    assert redact(text, findings) == "[REDACTED:secret] trailing words"


def test_assigned_passwords_and_known_secrets_are_found() -> None:
    assert ("secret.assigned", "hunter2hunter2") in _found('password: "hunter2hunter2"')
    odd = "my-llama-server-key::42"
    assert ("secret.known", odd) in _found(f"use {odd} here", known_secrets=[odd])


@pytest.mark.parametrize(
    "text",
    [
        "The task-based approach works; ask-me-anything-session-organisers agree.",
        "Keys start with sk- followed by letters.",
        "The AKIA prefix marks AWS access keys.",
        "A JWT starts with eyJ because of the JSON header.",
        "Bearer of bad news",
    ],
)
def test_prose_about_keys_is_not_a_secret(text: str) -> None:
    assert "secret" not in _kinds(text)


@pytest.mark.parametrize("secret", list(SECRETS.values()))
def test_every_secret_the_guard_finds_is_also_masked_by_the_audit_redactor(secret: str) -> None:
    """One list of patterns serves both: what the guard reports, the audit log never stores."""
    text = f"token {secret} end"
    assert any(f.kind == "secret" for f in check_output(text))
    assert secret not in Redactor().text(text)
    assert MASK in Redactor().text(text)


# -- system-prompt leakage -------------------------------------------------------------------------

SYSTEM = {
    "role": "You are Northwind's billing assistant. Never discuss refunds above 500 dollars "
    "without a supervisor, and always answer in a friendly, concise tone.",
    "format": "Answer in at most three sentences.",
}


def test_a_leaked_run_of_the_system_prompt_is_found_with_its_length() -> None:
    text = (
        "Sure! My instructions say: never discuss refunds above 500 dollars without a "
        "supervisor, and always answer politely."
    )
    findings = leak_findings(text, SYSTEM)
    assert len(findings) == 1
    leak = findings[0]
    assert text[leak.start : leak.end] == (
        "never discuss refunds above 500 dollars without a supervisor, and always answer"
    )
    assert leak.detail == "12 words of role"


def test_short_overlaps_and_paraphrases_are_not_leaks() -> None:
    assert leak_findings("I can't discuss refunds above 500 dollars, sorry.", SYSTEM) == []
    assert leak_findings("Refunds over $500 need a supervisor's approval.", SYSTEM) == []
    assert leak_findings("anything at all", {}) == []


def test_the_leak_length_threshold_is_configurable() -> None:
    text = "you are northwind's billing assistant"
    assert leak_findings(text, SYSTEM) == []
    assert len(leak_findings(text, SYSTEM, min_words=5)) == 1
    assert len(leak_findings(text, [SYSTEM["role"]], min_words=5)) == 1


# -- banned phrases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "As an AI language model, I cannot.",
        "as  an\nAI   language model I cannot",
        "AS AN AI LANGUAGE MODEL",
        "As an A\u200bI language model",  # an invisible character inside
        "As аn AI language model",  # Cyrillic а
    ],
)
def test_banned_phrases_are_found_however_they_are_written(text: str) -> None:
    findings = banned_phrase_findings(text, ["as an AI language model"])
    assert len(findings) == 1
    assert text[findings[0].start : findings[0].end].lower().startswith("as")


def test_banned_phrases_match_whole_words_only() -> None:
    assert banned_phrase_findings("Pick a category.", ["cat"]) == []
    assert banned_phrase_findings("A cat sat.", ["cat"])[0].detail == "cat"
    assert banned_phrase_findings("anything", []) == []
    assert banned_phrase_findings("anything", ["  ", "!!"]) == []


# -- redaction and robustness ----------------------------------------------------------------------


def test_redaction_replaces_each_finding_with_its_kind() -> None:
    text = f"Mail jane@example.com, key {SECRETS['openai_project_key']}, card 4111 1111 1111 1111."
    redacted = redact(text, check_output(text))
    assert redacted == (
        "Mail [REDACTED:email], key [REDACTED:secret], card [REDACTED:credit_card]."
    )


_PIECES = st.sampled_from(
    [
        "jane@example.com",
        "+44 20 7946 0958",
        "4111 1111 1111 1111",
        "DE89 3704 0044 0532 0130 00",
        "536-22-8726",
        "10.0.0.1",
        "fe80::1",
        SECRETS["anthropic_key"],
        SECRETS["jwt"],
        "-----BEGIN PRIVATE KEY-----\nabc",
        "never discuss refunds above 500 dollars without a supervisor",
        "as an AI language model",
        "\u200b",
        "İ",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), _PIECES), max_size=10).map(" ".join))
def test_the_output_guard_never_raises_and_spans_lie_within_the_text(text: str) -> None:
    findings = check_output(
        text, static_sections=SYSTEM, banned_phrases=["as an AI language model"]
    )
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    redacted = redact(text, findings)
    for finding in findings:
        if finding.kind == "secret":
            assert text[finding.start : finding.end] not in redacted
