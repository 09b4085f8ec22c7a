"""Grading an evaluation cell: its deterministic checks, and its judge checks through the
configured judge model (one repair retry when the verdict does not parse).

Everything the engine knows about checks goes through `parse_checks` and `CheckGrader`, so
the check catalogue (core.checks) and the judge's prompt and parser (core.judge) stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.checks import (
    JUDGE_KIND,
    CheckContext,
    CheckError,
    CheckResult,
    CheckSpec,
    aggregate,
    parse_check,
    run_check,
)
from llmbench.core.judge import (
    DEFAULT_DIMENSIONS,
    JudgeDimension,
    JudgeParseError,
    Verdict,
    judge_messages,
    parse_verdict,
    repair_messages,
)
from llmbench.gateway.engine import Gateway, GatewayError
from llmbench.services.eval_cells import Answer, Cell, Grade
from llmbench.store.runs import NewCheck

DEFAULT_JUDGE_THRESHOLD = 0.5
JUDGE_TAGS = {"run": "eval-judge"}


def parse_checks(items: Sequence[Mapping[str, Any]], where: str = "") -> tuple[CheckSpec, ...]:
    """Check specs from their saved (suite) form; CheckError names the bad one."""
    specs = []
    for index, item in enumerate(items):
        place = f"{where} check {index + 1}".strip()
        specs.append(parse_check(item, where=place))
    return tuple(specs)


def judge_dimensions(items: Sequence[Mapping[str, Any]]) -> tuple[JudgeDimension, ...]:
    """The suite's judge dimensions ({name, description, scale: [low, high]}), else defaults."""
    if not items:
        return tuple(DEFAULT_DIMENSIONS)
    dimensions = []
    for item in items:
        scale = item.get("scale") or (1, 5)
        dimensions.append(
            JudgeDimension(
                str(item["name"]),
                str(item.get("description", "")),
                scale=(int(scale[0]), int(scale[1])),
            )
        )
    return tuple(dimensions)


@dataclass(frozen=True)
class JudgeConfig:
    model: str
    dimensions: tuple[JudgeDimension, ...]
    params: Mapping[str, Any] = field(default_factory=dict)


class CheckGrader:
    """Grades answered cells; judge checks call the judge model through the gateway."""

    def __init__(self, gateway: Gateway, run_id: int, judge: JudgeConfig) -> None:
        self.gateway = gateway
        self.run_id = run_id
        self.judge = judge

    async def __call__(self, cell: Cell, answer: Answer) -> Grade:
        specs: Sequence[CheckSpec] = cell.checks
        if not specs:
            return Grade()
        context = CheckContext(
            expected=cell.expected,
            latency_ms=answer.latency_ms,
            cost=answer.cost,
            model=cell.model,
            variables=dict(cell.values),
        )
        results = []
        for spec in specs:
            if spec.kind == JUDGE_KIND:
                results.append(await self._judge(spec, cell, answer))
            else:
                results.append(_deterministic(spec, answer.output, context))
        passed, score = aggregate(results)
        return Grade(
            checks=tuple(_stored(result) for result in results), passed=passed, score=score
        )

    async def _judge(self, spec: CheckSpec, cell: Cell, answer: Answer) -> CheckResult:
        dimensions = (
            (JudgeDimension("rubric", str(spec.value)),) if spec.value else self.judge.dimensions
        )
        messages = judge_messages(
            dimensions,
            input_text=_input_text(answer.messages),
            output=answer.output,
            expected=cell.expected,
        )
        for attempt in range(2):
            try:
                reply = await self.gateway.complete(
                    self.judge.model,
                    messages,
                    params=dict(self.judge.params),
                    tags=JUDGE_TAGS,
                    run_id=self.run_id,
                    route=False,
                )
            except GatewayError as error:
                return _failed(spec, f"the judge {self.judge.model} failed: {error}")
            try:
                verdict = parse_verdict(reply.text, dimensions)
            except JudgeParseError as error:
                if attempt:
                    return _failed(spec, f"unreadable verdict after one repair: {error}")
                messages = repair_messages(messages, reply.text, str(error))
                continue
            return verdict_result(spec, verdict)
        raise AssertionError("unreachable: the loop returns on its second attempt")


def verdict_result(spec: CheckSpec, verdict: Verdict) -> CheckResult:
    """A judge verdict as one check: its scores scaled to 0..1 and averaged, passed at the
    check's threshold (0.5 unless given); the reasons are the detail."""
    score = verdict.normalised()
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_JUDGE_THRESHOLD
    passed = score >= threshold
    if spec.negate:
        passed, score = not passed, 1.0 - score
    detail = "; ".join(
        f"{item.name} {item.score}/{dimension.scale[1]}: {item.reason}".strip()
        for item, dimension in zip(verdict.scores, verdict.dimensions, strict=True)
    )
    return CheckResult(JUDGE_KIND, passed, round(score, 6), detail, spec.weight)


def _deterministic(spec: CheckSpec, output: str, context: CheckContext) -> CheckResult:
    try:
        return run_check(spec, output, context)
    except (CheckError, ValueError, TypeError) as error:
        return _failed(spec, f"the check could not run: {error}")


def _failed(spec: CheckSpec, detail: str) -> CheckResult:
    return CheckResult(spec.kind, False, 0.0, detail, spec.weight)


def _stored(result: CheckResult) -> NewCheck:
    return NewCheck(
        kind=result.kind,
        passed=bool(result.passed),
        score=result.score,
        detail=result.detail,
        weight=result.weight,
    )


def _input_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(
        f"{message.get('role', 'user')}: {message.get('content', '')}" for message in messages
    )
