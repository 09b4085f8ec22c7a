"""The input guard's model check at the gateway: each scanned text whose injection score is in
the policy's band [check_low, check_high) is shown to the policy's check_model, and its verdict
decides what the score could not.

- injection: the text is an injection, acted on as the policy's "injection" says (the
  score's own injection finding when the score reached the threshold, else an
  `injection.model_check` finding over the text, the judge's reason in its detail);
- benign: the text's injection finding and signals are dropped: no finding;
- no verdict (the call failed, or its answer is not the strict JSON verdict): the score's
  decision stands and a `model_check.failed` finding (kind "model_check", flagged by default)
  says why; `model_check.skipped` for a text beyond the MAX_CHECKS judged per request.

The judge is called through the gateway's own complete(), so its call is an audit row like any
other, priced and counted: tagged task_type "guard_check" (with the guarded request's other
tags, feature, team, customer..., so its cost lands where the request's does), in the request's
conversation and trace, its parent_request_id the guarded request's id. Its own input is the
text under judgement: the input guard is skipped for it (a context variable set around the
call, which no caller's text can set), else the judge's request would be judged in turn, or
blocked for quoting the attack it is asked about.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from llmbench.core.guard.excerpts import mask_sensitive
from llmbench.core.guard.model_check import (
    Verdict,
    VerdictError,
    parse_verdict,
    verdict_messages,
)
from llmbench.core.guard.policy import INJECTION_SIGNALS, Finding, GuardPolicy, redact_spans
from llmbench.core.models import CallThread
from llmbench.gateway.outcomes import GatewayError

if TYPE_CHECKING:
    from llmbench.gateway.outcomes import GatewayResult

TASK_TYPE = "guard_check"
MAX_CHECKS = 3
"""Judge calls per request at most (the most suspicious texts first): a long conversation's
history can hold many uncertain texts, and each check is a paid call."""
_JUDGED_AWAY = frozenset({"injection", *INJECTION_SIGNALS})
_judging: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "llmbench_guard_judging", default=False
)


def judging() -> bool:
    """Whether the current call is a model check's own (its input is not guarded)."""
    return _judging.get()


@dataclass(frozen=True)
class Segment:
    """One scanned text: where it is (a message's content), where it starts there, and its
    injection score."""

    where: str
    start: int
    text: str
    score: float

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def holds(self, finding: Finding) -> bool:
        return finding.where == self.where and self.start <= finding.start <= self.end


class Complete(Protocol):
    """The gateway's complete()."""

    def __call__(
        self, model: str, messages: Sequence[Mapping[str, Any]], **options: Any
    ) -> Awaitable[GatewayResult]: ...


@dataclass(frozen=True)
class CheckCall:
    """How one guarded request calls its judge: through the gateway, as a step under it."""

    complete: Complete
    request_id: str
    tags: Mapping[str, str]
    thread: CallThread | None = None

    async def answer(self, model: str, messages: list[dict[str, str]]) -> str:
        tags = {**self.tags, "task_type": TASK_TYPE}
        outer = self.thread or CallThread()
        thread = CallThread(outer.conversation_id, outer.trace_id, self.request_id)
        token = _judging.set(True)
        try:
            result = await self.complete(model, messages, tags=tags, thread=thread, route=False)
        finally:
            _judging.reset(token)
        return result.text


async def model_check(
    segments: Sequence[Segment],
    findings: Sequence[Finding],
    policy: GuardPolicy,
    threshold: float,
    call: CheckCall,
) -> list[Finding]:
    """The findings once the judge has seen the segments in the band (given in order of the
    request); a segment beyond MAX_CHECKS keeps its score's decision, with a finding saying
    so."""
    ranked = sorted(segments, key=lambda segment: -segment.score)
    checked, left = ranked[:MAX_CHECKS], ranked[MAX_CHECKS:]
    outcomes = await asyncio.gather(
        *(_judge(segment, findings, policy, call) for segment in checked)
    )
    result = list(findings)
    for segment, outcome in zip(checked, outcomes, strict=True):
        result = _applied(result, segment, outcome, policy, threshold)
    for segment in left:
        why = f"not checked: more than {MAX_CHECKS} uncertain texts in one request"
        result.append(_no_verdict(segment, policy, why, "model_check.skipped"))
    return result


async def _judge(
    segment: Segment, findings: Sequence[Finding], policy: GuardPolicy, call: CheckCall
) -> Verdict | str:
    """The verdict on one segment, or why there is none."""
    # The judge is another provider: what the policy redacts from the request it never sees.
    redacted = [
        replace(f, start=f.start - segment.start, end=f.end - segment.start)
        for f in findings
        if segment.holds(f) and policy.action(f.kind) == "redact"
    ]
    text = redact_spans(segment.text, redacted) if redacted else segment.text
    try:
        answer = await call.answer(policy.check_model, verdict_messages(text))
    except GatewayError as error:  # recorded by the gateway as the judge's own rows
        return f"the call failed: {error}"
    except Exception as error:  # whatever breaks the check, the score still decides
        return f"the call failed: {type(error).__name__}: {error}"
    try:
        return parse_verdict(answer)
    except VerdictError as error:
        return f"no verdict in the answer: {error}"


def _applied(
    findings: list[Finding],
    segment: Segment,
    outcome: Verdict | str,
    policy: GuardPolicy,
    threshold: float,
) -> list[Finding]:
    if isinstance(outcome, str):
        return [*findings, _no_verdict(segment, policy, outcome)]
    said = f"{policy.check_model}: {mask_sensitive(outcome.reason)}"
    if not outcome.injection:
        return [f for f in findings if not (segment.holds(f) and f.kind in _JUDGED_AWAY)]
    scored = next(
        (i for i, f in enumerate(findings) if segment.holds(f) and f.kind == "injection"), None
    )
    if scored is not None:  # the score reached the threshold: the judge confirms it
        found = findings[scored]
        confirmed = replace(found, detail=f"{found.detail}; model check agrees: {said}")
        return [*findings[:scored], confirmed, *findings[scored + 1 :]]
    band = f"[{policy.check_low:g}, {policy.check_high:g})"
    return [
        *findings,
        Finding(
            "injection.model_check",
            "injection",
            segment.start,
            segment.end,
            segment.score,
            segment.where,
            f"score {segment.score:.2f} < {threshold:.2f}, in the band {band}; judged an"
            f" injection by {said}",
        ),
    ]


def _no_verdict(
    segment: Segment, policy: GuardPolicy, why: str, rule: str = "model_check.failed"
) -> Finding:
    return Finding(
        rule,
        "model_check",
        segment.start,
        segment.end,
        0.0,
        segment.where,
        f"{policy.check_model}: {mask_sensitive(why)}; the score {segment.score:.2f} decides",
    )
