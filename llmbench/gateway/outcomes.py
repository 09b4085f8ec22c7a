"""What a gateway request ends with: its answer (GatewayResult, with every attempt made) or
the error that names what failed (GatewayError, GuardBlocked), and the options a request
carries besides its model and messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypedDict

from llmbench.core.models import CallThread
from llmbench.gateway.completion_result import CompletionResult
from llmbench.gateway.errors import Failure


@dataclass(frozen=True)
class Attempt:
    model: str
    status: str
    error_kind: str | None
    error: str | None
    waited_s: float


@dataclass(frozen=True)
class GatewayResult:
    completion: CompletionResult
    request_id: str
    model_requested: str
    attempts: tuple[Attempt, ...]
    _call_ids: Future[list[int]] = field(repr=False, compare=False)
    cache: str | None = None  # on a cache hit, its kind: exact, normalised or semantic

    @property
    def text(self) -> str:
        return self.completion.text

    @property
    def call_id(self) -> int:
        """The audit row of the answering attempt (waits for the writer if need be)."""
        return self._call_ids.result()[0]


class RequestOptions(TypedDict, total=False):
    """What a request carries besides model and messages (complete() and stream() alike)."""

    params: Mapping[str, Any] | None
    tags: Mapping[str, str] | None
    prompt_version_id: int | None
    run_id: int | None
    prompt: str | None  # the prompt name, for routes that apply to one prompt
    arm: str | None  # the arm a caller that routed itself chose
    route: bool  # False when the caller routed already
    thread: CallThread | None  # the call's conversation, trace and parent step


class StreamBroken(Exception):
    """A stream failed after some of its text reached the caller."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class GatewayError(RuntimeError):
    """Every attempt of every model in the chain failed; each one was recorded."""

    def __init__(self, request_id: str, attempts: Sequence[Attempt], last: Failure) -> None:
        self.request_id = request_id
        self.attempts = tuple(attempts)
        self.failure = last
        tried = ", ".join(dict.fromkeys(a.model for a in attempts))
        super().__init__(
            f"{last.kind}: {len(attempts)} attempt(s) on {tried} failed; last: {last.message}"
        )


class GuardBlocked(GatewayError):
    """A guard's policy blocked the request (stage "input": no provider call) or withheld the
    answer (stage "output": the provider answered and billed). Recorded with status blocked."""

    def __init__(
        self,
        request_id: str,
        attempts: Sequence[Attempt],
        stage: str,
        reason: str,
        flags: Sequence[Mapping[str, Any]],
    ) -> None:
        self.stage = stage
        self.reason = reason
        self.flags = tuple(flags)
        message = (
            f"blocked by the input guard: {reason}"
            if stage == "input"
            else f"the answer was withheld by the output guard: {reason}"
        )
        self.request_id = request_id
        self.attempts = tuple(attempts)
        self.failure = Failure("content_filter", message, None, None)
        RuntimeError.__init__(self, message)


class CallNotRecorded(GatewayError):
    """The call ended but the store refused its audit rows (disk full, read-only file, I/O
    error). What the call produced travels with this error, so nothing paid for is lost:
    `result` (and `text`) when the model answered, `error` when the call failed anyway.
    `cause` (also `__cause__`) is the store's own error."""

    def __init__(self, outcome: GatewayResult | GatewayError, cause: BaseException) -> None:
        answered = isinstance(outcome, GatewayResult)
        self.result = outcome if isinstance(outcome, GatewayResult) else None
        self.error = outcome if isinstance(outcome, GatewayError) else None
        self.cause = cause
        self.request_id = outcome.request_id
        self.attempts = tuple(outcome.attempts)
        message = (
            f"request {self.request_id} {'answered' if answered else 'failed'} but was not "
            f"recorded in the audit log: {cause} (the "
            f"{'answer is kept on this error: .result' if answered else 'error: .error'})"
        )
        self.failure = Failure("not_recorded", message, None, None)
        RuntimeError.__init__(self, message)

    @property
    def text(self) -> str | None:
        """The model's answer, when there was one."""
        return self.result.text if self.result is not None else None
