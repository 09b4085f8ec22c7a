from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmbench.core.audit.redact import MASK, Redactor, might_hold_secret, redact

SECRETS = [
    "sk-proj-AbCdEf0123456789AbCdEf0123456789",
    "sk-ant-api03-AbCdEf0123456789AbCdEf0123456789",
    "sk-0123456789abcdefABCDEF0123456789",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "gsk_abcdefghijklmnopqrstuvwxyz012345",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_known_provider_formats_are_masked(secret: str) -> None:
    text = f"litellm.AuthenticationError: Incorrect API key provided: {secret}. See docs."
    cleaned = Redactor().text(text)
    assert secret not in cleaned
    assert MASK in cleaned
    assert cleaned.startswith("litellm.AuthenticationError: Incorrect API key provided: ")


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def-ghi_jkl",
        '{"api_key": "local-server-token-77"}',
        "api-key=whatever12345 and more",
        "x-api-key: 1234567890",
    ],
)
def test_secrets_in_context_are_masked(text: str) -> None:
    cleaned = Redactor().text(text)
    assert MASK in cleaned
    for fragment in ("abc.def-ghi_jkl", "local-server-token-77", "whatever12345", "1234567890"):
        assert fragment not in cleaned


def test_configured_keys_are_masked_whatever_their_shape() -> None:
    odd_key = "my-llama-server-key::42::zz"
    cleaned = Redactor([odd_key]).text(f"server said: bad key {odd_key}!")
    assert cleaned == f"server said: bad key {MASK}!"


def test_nested_structures_are_redacted() -> None:
    data = {"messages": [{"role": "user", "content": f"my key is {SECRETS[0]}"}], "n": 3}
    cleaned = redact(data)
    assert SECRETS[0] not in str(cleaned)
    assert cleaned["n"] == 3


@pytest.mark.parametrize(
    "prose",
    [
        "The task-based approach works; ask-me-anything sessions are popular.",
        "Use the desk-organizer skill to sort things.",
        "Summarize the following text in three bullet points.",
        "Bearer of bad news",
    ],
)
def test_ordinary_prose_is_left_alone(prose: str) -> None:
    assert Redactor().text(prose) == prose


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_redaction_is_idempotent_and_removes_a_planted_key(text: str) -> None:
    planted = f"{text} {SECRETS[0]} {text}"
    once = Redactor().text(planted)
    assert SECRETS[0] not in once
    assert Redactor().text(once) == once


def test_every_secret_rule_and_context_holds_a_marker_the_fast_path_looks_for() -> None:
    """The fast path skips texts with no marker: each kind of secret must still be caught."""
    samples = [
        "sk-ant-api03-" + "a1B2" * 8,
        "sk-proj-" + "Zz09" * 8,
        "sk-svcacct-" + "Q" * 20,
        "sk-or-v1-" + "f" * 20,
        "sk-" + "x" * 20,
        "rk_live_" + "9" * 20,
        "AIza" + "A" * 35,
        "hf_" + "h" * 30,
        "gsk_" + "g" * 20,
        "xai-" + "x" * 20,
        "r8_" + "r" * 20,
        "AKIA" + "ABCDEFGHIJKLMNOP",
        "ASIA" + "ABCDEFGHIJKLMNOP",
        "ghp_" + "p" * 30,
        "github_pat_" + "a" * 40,
        "xoxb-" + "1" * 12,
        "eyJhbGciOiJI.eyJzdWIiOiIx.c2lnbmF0dXJl",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB",
        "AWS_SECRET_ACCESS_KEY=" + "a/B+" * 10,
        "Authorization: BEARER abcdefgh12345678",
        "X-Api-Key: abcdefgh12345678",
        "ACCESS-TOKEN=abcdefgh12345678",
        "Password: hunter2hunter2",
    ]
    for sample in samples:
        text = f"noise before {sample} noise after"
        assert might_hold_secret(text), sample
        assert "[REDACTED]" in Redactor().text(text), sample


def test_text_with_no_marker_is_returned_as_it_was() -> None:
    text = '{"type": "function", "function": {"name": "get_weather", "parameters": {}}}' * 20
    assert not might_hold_secret(text)
    assert Redactor(["a-known-value-123"]).text(text) is text
