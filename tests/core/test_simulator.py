"""The built-in offline models' pure plans: answers, truncation, latency and failures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmbench.builtin_models.simulator import (
    ECHO_MODEL,
    MOCK_MODEL,
    SimulatorParamError,
    echo_text,
    parse_settings,
    planned_failure,
    request_seed,
    simulate,
    stream_chunks,
)
from llmbench.core.tokens import count_tokens

QUESTION = [{"role": "user", "content": "Explain how photosynthesis turns sunlight into sugar."}]


def test_mock_is_deterministic_and_prompt_dependent() -> None:
    first = simulate(MOCK_MODEL, QUESTION, {})
    again = simulate(MOCK_MODEL, QUESTION, {})
    other = simulate(MOCK_MODEL, [{"role": "user", "content": "Compare tea and coffee."}], {})
    warmer = simulate(MOCK_MODEL, QUESTION, {"temperature": 0.9})
    assert first.text == again.text
    assert first.text != other.text
    assert first.text != warmer.text  # sampling params are part of the request
    assert "photosynthesis" in first.text or "sunlight" in first.text
    assert 20 <= count_tokens(first.text, MOCK_MODEL) <= 600
    assert first.finish_reason == "stop"


def test_answers_are_the_same_in_another_process() -> None:
    """Seeds come from sha256, not from hash(), which changes with PYTHONHASHSEED."""
    script = (
        "from llmbench.builtin_models.simulator import simulate, MOCK_MODEL\n"
        f"print(simulate(MOCK_MODEL, {QUESTION!r}, {{}}).text)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.rstrip("\n") == simulate(MOCK_MODEL, QUESTION, {}).text


def test_control_and_delivery_params_do_not_change_the_answer() -> None:
    plain = simulate(MOCK_MODEL, QUESTION, {})
    controlled = simulate(
        MOCK_MODEL, QUESTION, {"stream": True, "mock_latency_ms": 50, "mock_fail_rate": 0.0}
    )
    assert controlled.text == plain.text


def test_echo_returns_the_prompt() -> None:
    assert simulate(ECHO_MODEL, QUESTION, {}).text == QUESTION[0]["content"]
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert echo_text(conversation) == "system: Be brief.\n\nuser: Hi"


@pytest.mark.parametrize(
    ("prompt", "keys"),
    [
        (
            'Classify the review. Return JSON with keys "sentiment" and "confidence". '
            "Review: great phone, awful battery.",
            ["sentiment", "confidence"],
        ),
        (
            'Extract the order as JSON like {"customer": "...", "items": [], "total": 0}.',
            ["customer", "items", "total"],
        ),
    ],
)
def test_json_prompts_get_objects_with_the_asked_keys(prompt: str, keys: list[str]) -> None:
    reply = simulate(MOCK_MODEL, [{"role": "user", "content": prompt}], {})
    parsed = json.loads(reply.text)
    assert list(parsed) == keys


def test_json_key_values_follow_their_names() -> None:
    prompt = 'Reply in JSON with fields "score", "is_valid", "tags" and "reason".'
    parsed = json.loads(simulate(MOCK_MODEL, [{"role": "user", "content": prompt}], {}).text)
    assert isinstance(parsed["score"], int)
    assert isinstance(parsed["is_valid"], bool)
    assert isinstance(parsed["tags"], list)
    assert isinstance(parsed["reason"], str)


def test_response_format_json_object_and_schema() -> None:
    messages = [{"role": "user", "content": "Describe the planet Mars for a child."}]
    as_object = simulate(MOCK_MODEL, messages, {"response_format": {"type": "json_object"}})
    parsed = json.loads(as_object.text)
    assert isinstance(parsed, dict)
    assert "planet" in parsed or "mars" in parsed

    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "moons": {"type": "integer"},
            "facts": {"type": "array", "items": {"type": "string"}},
            "habitable": {"type": "boolean"},
            "size": {"enum": ["small", "large"]},
        },
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "planet", "schema": schema}}
    parsed = json.loads(simulate(MOCK_MODEL, messages, {"response_format": response_format}).text)
    assert set(parsed) == set(schema["properties"])
    assert isinstance(parsed["moons"], int)
    assert all(isinstance(fact, str) for fact in parsed["facts"])
    assert isinstance(parsed["habitable"], bool)
    assert parsed["size"] in ("small", "large")


def test_max_tokens_cuts_a_prefix_and_says_length() -> None:
    full = simulate(MOCK_MODEL, QUESTION, {})
    cut = simulate(MOCK_MODEL, QUESTION, {"max_tokens": 7})
    assert cut.finish_reason == "length"
    assert full.text.startswith(cut.text)
    assert count_tokens(cut.text, MOCK_MODEL) <= 7
    roomy = simulate(MOCK_MODEL, QUESTION, {"max_completion_tokens": 10_000})
    assert (roomy.text, roomy.finish_reason) == (full.text, "stop")


@given(st.text(max_size=200), st.integers(min_value=0, max_value=2**32))
def test_stream_chunks_join_back_to_the_text(text: str, seed: int) -> None:
    assert "".join(stream_chunks(text, seed)) == text


def test_failures_follow_rate_and_attempts() -> None:
    always = parse_settings({"mock_fail": "rate_limit"})
    assert planned_failure(always, seed=1, attempt=0) == "rate_limit"
    assert planned_failure(always, seed=1, attempt=5) == "rate_limit"

    first_only = parse_settings({"mock_fail": "server", "mock_fail_attempts": 1})
    assert planned_failure(first_only, seed=7, attempt=0) == "server"
    assert planned_failure(first_only, seed=7, attempt=1) is None

    tenth = parse_settings({"mock_fail_rate": 0.1})
    outcomes = [planned_failure(tenth, seed, 0) for seed in range(2000)]
    failed = [kind for kind in outcomes if kind is not None]
    assert 120 <= len(failed) <= 280
    assert set(failed) == {"rate_limit", "timeout", "server"}
    assert outcomes == [planned_failure(tenth, seed, 0) for seed in range(2000)]

    assert planned_failure(parse_settings({}), seed=3, attempt=0) is None


def test_latency_is_spread_around_the_typical_value_and_fixed_per_request() -> None:
    latencies = {
        simulate(
            MOCK_MODEL, [{"role": "user", "content": f"q{i}"}], {"mock_latency_ms": 100}
        ).latency_ms
        for i in range(30)
    }
    assert all(50 <= latency <= 150 for latency in latencies)
    assert len(latencies) > 20
    settings = {"mock_latency_ms": 100, "mock_ttft_ms": 20}
    reply = simulate(MOCK_MODEL, QUESTION, settings)
    assert reply.ttft_ms == 20
    assert reply.latency_ms == simulate(MOCK_MODEL, QUESTION, settings).latency_ms


@pytest.mark.parametrize(
    "params",
    [
        {"mock_fail": "meteor"},
        {"mock_fail_rate": 2},
        {"mock_latency_ms": -1},
        {"mock_latency_ms": "slow"},
        {"max_tokens": 0},
        {"mock_fail_attempts": 1.5},
    ],
)
def test_bad_control_params_are_rejected(params: dict[str, object]) -> None:
    with pytest.raises(SimulatorParamError):
        parse_settings(params)


def test_unknown_simulator_model() -> None:
    with pytest.raises(LookupError, match="llmbench/mock"):
        simulate("llmbench/oracle", QUESTION, {})


def test_seed_ignores_param_order() -> None:
    assert request_seed(MOCK_MODEL, QUESTION, {"a": 1, "b": 2}) == request_seed(
        MOCK_MODEL, QUESTION, {"b": 2, "a": 1}
    )
