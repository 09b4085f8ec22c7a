"""The built-in offline models, called through litellm like any hosted model."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import litellm
import pytest

from llmbench.core.costs.pricing import PER_MILLION, SIMULATOR_PRICES, cost_of
from llmbench.core.models import Usage
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway.client import complete, complete_sync, stream
from llmbench.gateway.completion_result import CompletionResult
from llmbench.gateway.litellm_setup import litellm_module

MOCK = "llmbench/mock"
ECHO = "llmbench/echo"
QUESTION = [
    {"role": "system", "content": "You are a patient science teacher."},
    {"role": "user", "content": "Why do leaves change colour in autumn?"},
]


def _unique(text: str) -> list[dict[str, str]]:
    """A request no other test makes, so the simulator's attempt counter starts at zero."""
    return [{"role": "user", "content": f"{text} [{time.perf_counter_ns()}]"}]


async def _streamed(
    model: str, messages: list[dict[str, str]], **kwargs: object
) -> tuple[list[str], CompletionResult]:
    pieces: list[str] = []
    final: CompletionResult | None = None
    async for item in stream(model, messages, **kwargs):  # type: ignore[arg-type]
        if isinstance(item, str):
            assert final is None, "text after the final result"
            pieces.append(item)
        else:
            final = item
    assert final is not None
    return pieces, final


async def test_mock_through_litellm_has_real_token_counts_and_a_cost() -> None:
    """The foundation's acceptance test."""
    result = await complete(MOCK, QUESTION)

    prompt_tokens = count_message_tokens(QUESTION, MOCK)
    completion_tokens = count_tokens(result.text, MOCK)
    assert result.usage == Usage(prompt_tokens, completion_tokens)
    assert (prompt_tokens, completion_tokens) != (10, 20)  # litellm's mock_response invents these
    assert completion_tokens > 20

    price = SIMULATOR_PRICES[MOCK]
    expected = (prompt_tokens * price.input + completion_tokens * price.output) / PER_MILLION
    assert result.cost == pytest.approx(expected)
    assert result.cost == cost_of(result.usage, price)
    assert result.cost > 0
    assert result.price == price
    assert result.model == MOCK
    assert result.finish_reason == "stop"
    assert result.latency_ms > 0
    assert result.ttft_ms is None


async def test_litellm_itself_reports_the_same_usage_and_cost() -> None:
    litellm_module()
    response = await litellm.acompletion(model=MOCK, messages=QUESTION)
    text = response.choices[0].message.content
    assert text == (await complete(MOCK, QUESTION)).text
    assert response.usage.prompt_tokens == count_message_tokens(QUESTION, MOCK)
    assert response.usage.completion_tokens == count_tokens(text, MOCK)
    # The simulator prices are registered with litellm too, for litellm's own callbacks.
    expected = cost_of(
        Usage(response.usage.prompt_tokens, response.usage.completion_tokens),
        SIMULATOR_PRICES[MOCK],
    )
    assert litellm.completion_cost(completion_response=response) == pytest.approx(expected)


async def test_echo_returns_the_prompt() -> None:
    single = [{"role": "user", "content": "Translate 'bonjour' into English."}]
    result = await complete(ECHO, single)
    assert result.text == single[0]["content"]
    assert result.usage.completion_tokens == count_tokens(single[0]["content"], ECHO)
    both = await complete(ECHO, QUESTION)
    assert both.text == (
        "system: You are a patient science teacher.\n\nuser: Why do leaves change colour in autumn?"
    )


async def test_json_prompt_gets_parseable_json() -> None:
    asked = [
        {
            "role": "user",
            "content": 'Rate this answer. Respond in JSON with keys "score" and "reason".',
        }
    ]
    parsed = json.loads((await complete(MOCK, asked)).text)
    assert list(parsed) == ["score", "reason"]
    as_format = await complete(
        MOCK,
        [{"role": "user", "content": "List three facts about octopuses."}],
        params={"response_format": {"type": "json_object"}},
    )
    assert isinstance(json.loads(as_format.text), dict)


async def test_max_tokens_is_honoured() -> None:
    full = await complete(MOCK, QUESTION)
    cut = await complete(MOCK, QUESTION, params={"max_tokens": 5})
    assert cut.finish_reason == "length"
    assert full.text.startswith(cut.text)
    assert cut.usage.completion_tokens == count_tokens(cut.text, MOCK) <= 5
    assert cut.cost is not None and full.cost is not None and cut.cost < full.cost


async def test_same_request_same_answer_other_prompt_other_answer() -> None:
    first = await complete(MOCK, QUESTION, params={"temperature": 0.2})
    second = await complete(MOCK, QUESTION, params={"temperature": 0.2})
    other = await complete(MOCK, [{"role": "user", "content": "How do bees find flowers?"}])
    assert first.text == second.text
    assert first.text != other.text


async def test_streaming_yields_the_same_text_and_real_usage() -> None:
    whole = await complete(MOCK, QUESTION)
    pieces, final = await _streamed(MOCK, QUESTION, params={"mock_latency_ms": 40})
    assert len(pieces) > 3
    assert "".join(pieces) == final.text == whole.text
    assert final.usage == whole.usage
    assert not final.usage.estimated
    assert final.cost == whole.cost
    assert final.model == MOCK
    assert final.finish_reason == "stop"
    assert final.ttft_ms is not None and 0 < final.ttft_ms < final.latency_ms
    assert final.latency_ms >= 20  # at least half the typical latency


async def test_streaming_with_max_tokens_reports_length() -> None:
    pieces, final = await _streamed(ECHO, QUESTION, params={"max_tokens": 4})
    assert "".join(pieces) == final.text
    assert final.finish_reason == "length"
    assert final.usage.completion_tokens <= 4


def test_sync_paths() -> None:
    result = complete_sync(MOCK, QUESTION)
    assert result.usage.prompt_tokens == count_message_tokens(QUESTION, MOCK)
    litellm_module()
    response = litellm.completion(model=MOCK, messages=QUESTION)
    assert response.choices[0].message.content == result.text
    chunks = list(litellm.completion(model=MOCK, messages=QUESTION, stream=True))
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert streamed == result.text


async def test_injected_rate_limit_raises_litellms_error_with_retry_after() -> None:
    params = {"mock_fail": "rate_limit", "mock_retry_after": 7}
    with pytest.raises(litellm.RateLimitError) as raised:
        await complete(MOCK, _unique("Busy?"), params=params)
    assert raised.value.response.headers["retry-after"] == "7"
    with pytest.raises(litellm.RateLimitError):
        await _streamed(MOCK, _unique("Busy while streaming?"), params=params)


async def test_injected_server_error_and_timeout() -> None:
    with pytest.raises(litellm.InternalServerError):
        await complete(MOCK, _unique("Crash?"), params={"mock_fail": "server"})

    started = time.perf_counter()
    with pytest.raises(litellm.Timeout):
        await complete(MOCK, _unique("Hang?"), params={"mock_fail": "timeout"}, timeout=0.2)
    assert 0.15 <= time.perf_counter() - started < 2

    with pytest.raises(litellm.Timeout):
        await complete(MOCK, _unique("Slow?"), params={"mock_latency_ms": 5000}, timeout=0.1)


async def test_failing_first_attempt_then_succeeding_retry() -> None:
    messages = _unique("Flaky?")
    params = {"mock_fail": "server", "mock_fail_attempts": 1}
    with pytest.raises(litellm.InternalServerError):
        await complete(MOCK, messages, params=params)
    retried = await complete(MOCK, messages, params=params)
    assert retried.text


async def test_failure_rate_fails_some_requests() -> None:
    outcomes = []
    for index in range(40):
        try:
            await complete(
                MOCK, _unique(f"Question {index}"), params={"mock_fail_rate": 0.3}, timeout=0.05
            )
            outcomes.append("ok")
        except (litellm.RateLimitError, litellm.InternalServerError, litellm.Timeout):
            outcomes.append("failed")
    assert 3 <= outcomes.count("failed") <= 25


async def test_bad_requests_are_litellm_errors() -> None:
    with pytest.raises(litellm.BadRequestError, match="mock_fail"):
        await complete(MOCK, QUESTION, params={"mock_fail": "meteor"})
    with pytest.raises(litellm.NotFoundError, match="llmbench/mock"):
        await complete("llmbench/oracle", QUESTION)
    with pytest.raises(ValueError, match="num_retries"):
        await complete(MOCK, QUESTION, params={"num_retries": 3})


def test_importing_the_gateway_does_not_import_litellm() -> None:
    script = (
        "import sys\n"
        "import llmbench.gateway.client, llmbench.gateway.keys\n"
        "print('litellm' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"
