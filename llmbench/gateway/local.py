"""The built-in offline models as a litellm custom provider ("llmbench/echo", "llmbench/mock").

They go through litellm's normal call path, so callbacks, exception mapping and streaming
behave as for a hosted model. What they answer is decided in core.simulator; this module
only waits, counts tokens and speaks litellm's types. Imported by litellm_setup only, after
litellm itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass

import httpx
import litellm
from litellm import CustomLLM
from litellm.llms.custom_llm import CustomLLMError
from litellm.types.utils import (
    ChatCompletionMessageToolCall,
    Function,
    GenericStreamingChunk,
    ModelResponse,
)

from llmbench.builtin_models.simulator import (
    PROVIDER,
    FailureKind,
    SimulatedReply,
    SimulatorParamError,
    SimulatorSettings,
    parse_settings,
    planned_failure,
    simulate,
)
from llmbench.core.models import ToolCall
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway.tool_calls import tool_calls_text

# What litellm uses when the caller gives no timeout; the gateway always gives one.
_LITELLM_DEFAULT_TIMEOUT_S = 600.0
_ATTEMPTS_REMEMBERED = 10_000
_SIMULATED_URL = "http://llmbench.local/v1/chat/completions"


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> CustomLLMError:
    """An error litellm maps by status code (429 -> RateLimitError, 500 ->
    InternalServerError...), with an HTTP response so Retry-After reaches the caller."""
    error = CustomLLMError(status_code=status, message=message)
    error.response = httpx.Response(  # type: ignore[attr-defined]  # read by litellm's mapping
        status, headers=dict(headers or {}), request=httpx.Request("POST", _SIMULATED_URL)
    )
    return error


def _timeout_seconds(timeout: float | httpx.Timeout | None) -> float:
    if timeout is None:
        return _LITELLM_DEFAULT_TIMEOUT_S
    if isinstance(timeout, httpx.Timeout):
        limits = [value for value in (timeout.read, timeout.connect, timeout.pool) if value]
        return max(limits) if limits else _LITELLM_DEFAULT_TIMEOUT_S
    return float(timeout)


@dataclass(frozen=True)
class _Plan:
    model: str
    reply: SimulatedReply
    failure: FailureKind | None
    settings: SimulatorSettings
    timeout_s: float
    prompt_tokens: int

    @property
    def usage(self) -> dict[str, int]:
        """Counted as the gateway's offline estimate counts an answer (completion_result):
        its text and its tool calls, so a mock call's reported usage is that estimate."""
        calls = [ToolCall(call.id, call.name, call.arguments) for call in self.reply.tool_calls]
        written = "\n".join(filter(None, (self.reply.text, tool_calls_text(calls))))
        completion = count_tokens(written, self.model)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }

    def wait_before_answer_s(self, streaming: bool) -> float:
        """How long the simulated server takes before answering (or before the first chunk),
        cut at the timeout."""
        if self.failure == "timeout":
            return self.timeout_s
        if self.failure is not None:
            return 0.0  # rate limits and server errors come back at once
        wait_ms = self.reply.ttft_ms if streaming else self.reply.latency_ms
        return min(wait_ms / 1000, self.timeout_s)

    def raise_if_failed(self, streaming: bool) -> None:
        """Called after wait_before_answer_s has passed."""
        wait_ms = self.reply.ttft_ms if streaming else self.reply.latency_ms
        if self.failure == "timeout" or wait_ms / 1000 > self.timeout_s:
            raise _error(408, f"Request timed out after {self.timeout_s:g} s (simulated)")
        if self.failure == "rate_limit":
            retry_after = f"{self.settings.retry_after_s:g}"
            raise _error(
                429,
                f"Rate limit reached for {self.model} (simulated); retry after {retry_after} s",
                {"retry-after": retry_after},
            )
        if self.failure == "server":
            raise _error(500, f"Internal server error (simulated) in {self.model}")

    def chunk_gaps_s(self) -> float:
        """Pause between streamed chunks after the first, spreading the rest of the latency."""
        later_chunks = len(self.reply.chunks) - 1
        if later_chunks <= 0:
            return 0.0
        return max(self.reply.latency_ms - self.reply.ttft_ms, 0.0) / 1000 / later_chunks

    def stream_pieces(self) -> Iterator[GenericStreamingChunk]:
        for text in self.reply.chunks:
            yield {
                "text": text,
                "is_finished": False,
                "finish_reason": "",
                "usage": None,
                "index": 0,
                "tool_use": None,
            }
        for index, call in enumerate(self.reply.tool_calls):
            yield {
                "text": "",
                "is_finished": False,
                "finish_reason": "",
                "usage": None,
                "index": 0,
                "tool_use": {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                    "index": index,
                },
            }
        # Real counts on the last chunk, as OpenAI does with stream_options.include_usage.
        yield {
            "text": "",
            "is_finished": True,
            "finish_reason": self.reply.finish_reason,
            "usage": self.usage,  # type: ignore[typeddict-item]  # litellm builds Usage(**it)
            "index": 0,
            "tool_use": None,
        }


class SimulatorProvider(CustomLLM):
    """litellm's entry point for the "llmbench/..." models."""

    def __init__(self) -> None:
        super().__init__()
        # How often each distinct request was seen, so a retry is a new attempt
        # (mock_fail_attempts) while the same request stays deterministic.
        self._attempts: OrderedDict[int, int] = OrderedDict()
        self._attempts_lock = threading.Lock()

    def _next_attempt(self, seed: int) -> int:
        with self._attempts_lock:
            attempt = self._attempts.pop(seed, 0)
            self._attempts[seed] = attempt + 1
            while len(self._attempts) > _ATTEMPTS_REMEMBERED:
                self._attempts.popitem(last=False)
            return attempt

    def _plan(
        self,
        model: str,
        messages: Sequence[Mapping[str, object]],
        optional_params: Mapping[str, object],
        timeout: float | httpx.Timeout | None,
    ) -> _Plan:
        full_name = f"{PROVIDER}/{model}"
        params = dict(optional_params)
        try:
            settings = parse_settings(params)
            reply = simulate(full_name, messages, params, settings)
        except SimulatorParamError as error:
            raise _error(400, str(error)) from None
        except LookupError as error:
            raise _error(404, str(error)) from None
        return _Plan(
            model=full_name,
            reply=reply,
            failure=planned_failure(settings, reply.seed, self._next_attempt(reply.seed)),
            settings=settings,
            timeout_s=_timeout_seconds(timeout),
            # With what the request's tool definitions, forced tool and response schema add
            # to the prompt, as a provider bills them and the offline estimate counts them.
            prompt_tokens=count_message_tokens(messages, full_name, params),
        )

    @staticmethod
    def _fill(model_response: ModelResponse, plan: _Plan) -> ModelResponse:
        choice = model_response.choices[0]
        choice.message.content = plan.reply.text  # type: ignore[union-attr]
        if plan.reply.tool_calls:
            choice.message.content = None  # type: ignore[union-attr]
            choice.message.tool_calls = [  # type: ignore[union-attr]
                ChatCompletionMessageToolCall(
                    id=call.id,
                    type="function",
                    function=Function(name=call.name, arguments=call.arguments),
                )
                for call in plan.reply.tool_calls
            ]
        choice.finish_reason = plan.reply.finish_reason
        model_response.model = plan.model
        model_response.usage = litellm.Usage(**plan.usage)  # type: ignore[attr-defined]
        return model_response

    def completion(  # type: ignore[override]  # litellm passes everything by keyword
        self,
        model: str,
        messages: list,
        model_response: ModelResponse,
        optional_params: dict,
        timeout: float | httpx.Timeout | None = None,
        **_unused: object,
    ) -> ModelResponse:
        plan = self._plan(model, messages, optional_params, timeout)
        time.sleep(plan.wait_before_answer_s(streaming=False))
        plan.raise_if_failed(streaming=False)
        return self._fill(model_response, plan)

    async def acompletion(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        model_response: ModelResponse,
        optional_params: dict,
        timeout: float | httpx.Timeout | None = None,
        **_unused: object,
    ) -> ModelResponse:
        plan = self._plan(model, messages, optional_params, timeout)
        await asyncio.sleep(plan.wait_before_answer_s(streaming=False))
        plan.raise_if_failed(streaming=False)
        return self._fill(model_response, plan)

    def streaming(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        optional_params: dict,
        timeout: float | httpx.Timeout | None = None,
        **_unused: object,
    ) -> Iterator[GenericStreamingChunk]:
        plan = self._plan(model, messages, optional_params, timeout)
        time.sleep(plan.wait_before_answer_s(streaming=True))
        plan.raise_if_failed(streaming=True)
        gap = plan.chunk_gaps_s()
        for index, chunk in enumerate(plan.stream_pieces()):
            if index and chunk["text"] and gap:
                time.sleep(gap)
            yield chunk

    async def astreaming(  # type: ignore[override]
        self,
        model: str,
        messages: list,
        optional_params: dict,
        timeout: float | httpx.Timeout | None = None,
        **_unused: object,
    ) -> AsyncIterator[GenericStreamingChunk]:
        plan = self._plan(model, messages, optional_params, timeout)
        await asyncio.sleep(plan.wait_before_answer_s(streaming=True))
        plan.raise_if_failed(streaming=True)
        gap = plan.chunk_gaps_s()
        for index, chunk in enumerate(plan.stream_pieces()):
            if index and chunk["text"] and gap:
                await asyncio.sleep(gap)
            yield chunk
