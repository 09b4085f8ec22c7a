"""Grading an evaluation cell: its deterministic checks, its judge checks through the
configured judge model (one repair retry when the verdict does not parse), and its similarity
to the case's golden answer.

Every cell with an expected answer gets three measurements beside its checks, stored as checks
with a score and no pass/fail (passed NULL, weight 0): `similarity-rouge-l`,
`similarity-token-f1` and `similarity-levenshtein`. They never change whether the cell passes;
a suite that wants a bar uses a `similar` check with a threshold. A `similar` check compares by
embedding cosine through the configured embedding model ([models] embedding_model); without
one, or when the model fails, it falls back to ROUGE-L and its detail says so.

Everything the engine knows about checks goes through `parse_checks` and `CheckGrader`, so
the check catalogue (core.checks) and the judge's prompt and parser (core.judge) stay pure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from llmbench.core.evaluation.check_evaluators import similar_method
from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_runner import (
    aggregate,
    run_check,
    similar_result,
    similarity_reference,
)
from llmbench.core.evaluation.check_spec import (
    EMBEDDING_METHOD,
    JUDGE_KIND,
    MODEL_GRADED_KINDS,
    SCRIPT_KINDS,
    CheckContext,
    CheckError,
    CheckResult,
    CheckSpec,
)
from llmbench.core.evaluation.judge import (
    DEFAULT_DIMENSIONS,
    JudgeDimension,
    Verdict,
    judge_messages,
    parse_verdict,
)
from llmbench.core.evaluation.similarity import cosine, levenshtein_similarity, rouge_l, token_f1
from llmbench.core.evaluation.tool_call_output import provider_output
from llmbench.core.evaluation.transform_spec import TRANSFORM_KEY, transformed_text
from llmbench.core.prompts.fewshot import Embed
from llmbench.core.prompts.templates import TemplateError
from llmbench.gateway.engine import Gateway
from llmbench.services.evaluation.cells import Answer, Cell, Grade
from llmbench.services.evaluation.engine_checks import (
    CellView,
    JudgeUnreachable,
    ModelGrader,
    Skipped,
    cell_context,
    grade_script,
    script_context,
)
from llmbench.services.evaluation.judge_calls import JudgeFailure, ask_judge
from llmbench.services.evaluation.scripts import ScriptRunner, ScriptSkipped
from llmbench.services.evaluation.similarity import embedder_for
from llmbench.services.evaluation.transforms import TransformFailed, apply_transform
from llmbench.store.evaluation.runs import NewCheck

DEFAULT_JUDGE_THRESHOLD = 0.5
THRESHOLD_CHECK = "threshold"  # the stored verdict of a case with a threshold
JUDGE_TAGS = {"run": "eval-judge"}
# Golden-answer measurements stored on every cell with an expected answer: (kind, function).
GOLDEN_MEASURES = (
    ("similarity-rouge-l", rouge_l),
    ("similarity-token-f1", token_f1),
    ("similarity-levenshtein", levenshtein_similarity),
)


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
    """Grades answered cells; judge checks call the judge model through the gateway, and
    `similar` checks the embedding model of the gateway's settings (unless `embed` is given)."""

    def __init__(
        self,
        gateway: Gateway,
        run_id: int,
        judge: JudgeConfig,
        *,
        embed: Embed | None = None,
        embedding_model: str = "",
    ) -> None:
        self.gateway = gateway
        self.run_id = run_id
        self.judge = judge
        if embed is None:
            embed = embedder_for(gateway.settings)
            embedding_model = gateway.settings.models.embedding_model
        self.embed = embed
        self.embedding_model = embedding_model or "the embedding model"
        self.scripts = ScriptRunner()
        self.model_graded = ModelGrader(self._ask, self.embed, self.embedding_model)

    def close(self) -> None:
        """Stop the run's Python worker, if a python check started one."""
        self.scripts.close()

    async def _ask(self, messages: list[dict[str, str]], parse: Any) -> Any:
        return await ask_judge(
            self.gateway,
            self.judge.model,
            messages,
            parse,
            params=self.judge.params,
            tags=JUDGE_TAGS,
            run_id=self.run_id,
        )

    async def __call__(self, cell: Cell, answer: Answer) -> Grade:
        specs: Sequence[CheckSpec] = cell.checks
        golden = golden_measures(answer.output, cell.expected)
        if not specs:
            return Grade(checks=golden)
        context = CheckContext(
            expected=cell.expected,
            latency_ms=answer.latency_ms,
            cost=answer.cost,
            model=cell.model,
            variables=dict(cell.values),
            tool_calls=answer.tool_calls,
            request=dict(cell.params),
        )
        view = CellView(
            prompt_text(answer.messages),
            answer.output,
            dict(cell.values),
            cell.expected,
            cell.model,
        )
        if answer.tool_calls:
            # Code gets the tool calls as promptfoo gives them; other checks keep the text
            # and read the calls from their context.
            answered = provider_output(answer.output, answer.tool_calls)
            view = replace(view, value=answered, answered=answered)
        results: list[CheckResult] = []
        unverdicted: list[NewCheck] = []  # skipped checks and the judge's errors
        error = None
        if cell.transform:
            try:
                value = await apply_transform(
                    cell.transform, view.code_output, cell_context(view), self.scripts
                )
                view = _with_output(view, value)
            except ScriptSkipped as skipped:
                why = f"skipped: the case's transform cannot run: {skipped}"
                return Grade(
                    checks=tuple(NewCheck(each.kind, None, None, why, 0.0) for each in specs)
                )
            except TransformFailed as failed:
                # promptfoo makes a test whose transform fails an error, not a verdict.
                return Grade(checks=golden, error=f"transform error: {failed}")
        for spec in specs:
            try:
                outcome = await self._transformed(spec, cell, answer, context, view)
            except JudgeUnreachable as unreachable:
                error = error or f"judge error: {unreachable}"
                unverdicted.append(NewCheck(spec.kind, None, None, f"error: {unreachable}", 0.0))
                continue
            if outcome is None:
                continue
            if isinstance(outcome, Skipped):
                unverdicted.append(
                    NewCheck(spec.kind, None, None, f"skipped: {outcome.reason}", 0.0)
                )
            else:
                results.append(outcome)
        verdicts = tuple(_stored(result) for result in results)
        passed, score = aggregate(results, cell.threshold)
        if cell.threshold is not None and results:
            verdicts = _weighed(results, passed, score, cell.threshold)
        checks = verdicts + tuple(unverdicted) + golden
        if error is not None:
            return Grade(checks=checks, error=error)
        if not results:
            return Grade(checks=checks)
        return Grade(checks=checks, passed=passed, score=score)

    async def _transformed(
        self,
        spec: CheckSpec,
        cell: Cell,
        answer: Answer,
        context: CheckContext,
        view: CellView,
    ) -> CheckResult | Skipped | None:
        """The check graded on the output (after the case's transform) put through its own
        transform, if it has one, as promptfoo applies an assertion's transform."""
        own = spec.options.get(TRANSFORM_KEY)
        if isinstance(own, str) and own:
            try:
                value = await apply_transform(
                    own, view.code_output, script_context(spec, view), self.scripts
                )
                view = _with_output(view, value)
            except ScriptSkipped as skipped:
                return Skipped(spec.kind, f"its transform cannot run: {skipped}")
            except TransformFailed as failed:
                return _failed(spec, f"error: {failed}")
            options = {key: item for key, item in spec.options.items() if key != TRANSFORM_KEY}
            spec = replace(spec, options=MappingProxyType(options))
        return await self._grade(spec, cell, answer, context, view)

    async def _grade(
        self, spec: CheckSpec, cell: Cell, answer: Answer, context: CheckContext, view: CellView
    ) -> CheckResult | Skipped | None:
        """One check on view.output (the answer after any transforms)."""
        if spec.kind == JUDGE_KIND:
            return await self._judge(spec, cell, answer, view.output)
        if spec.kind in SCRIPT_KINDS:
            return await grade_script(spec, view, self.scripts)
        if spec.kind == "select-best":
            return None  # graded across the case's cells once they are done (select_best)
        if spec.kind in MODEL_GRADED_KINDS:
            return await self.model_graded.grade(spec, view)
        if spec.kind == "similar" and similar_method(spec) == EMBEDDING_METHOD:
            return await self._similar(spec, view.output, context)
        return _deterministic(spec, view.output, context)

    async def _similar(self, spec: CheckSpec, output: str, context: CheckContext) -> CheckResult:
        """Embedding cosine of output and the reference; lexical (with a note) when no
        embedding model is configured or it fails."""
        if self.embed is None:
            return _deterministic(spec, output, context)
        try:
            reference = similarity_reference(spec, context)
        except (CheckError, TemplateError, ValueError) as error:
            return _failed(spec, f"cannot run: {error}")
        # The embedding call blocks (litellm's sync API): off the event loop.
        vectors = await asyncio.to_thread(self.embed, [output, reference])
        problem = getattr(self.embed, "problem", None)
        if problem or len(vectors) != 2 or not all(any(vector) for vector in vectors):
            why = problem or f"{self.embedding_model} gave no usable vectors"
            return _deterministic(spec, output, replace(context, embedding_unavailable=why))
        score = cosine(vectors[0], vectors[1])
        return similar_result(spec, score, f"embedding cosine {score:.3f} ({self.embedding_model})")

    async def _judge(self, spec: CheckSpec, cell: Cell, answer: Answer, output: str) -> CheckResult:
        dimensions = (
            (JudgeDimension("rubric", str(spec.value)),) if spec.value else self.judge.dimensions
        )
        messages = judge_messages(
            dimensions,
            input_text=_input_text(answer.messages),
            output=output,
            expected=cell.expected,
        )
        verdict = await ask_judge(
            self.gateway,
            self.judge.model,
            messages,
            lambda text: parse_verdict(text, dimensions),
            params=self.judge.params,
            tags=JUDGE_TAGS,
            run_id=self.run_id,
        )
        if isinstance(verdict, JudgeFailure):
            if verdict.unreachable:
                raise JudgeUnreachable(verdict.reason)
            return _failed(spec, verdict.reason)
        return verdict_result(spec, verdict)


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


def golden_measures(output: str, expected: str | None) -> tuple[NewCheck, ...]:
    """The output's lexical similarity to the golden answer, as checks without pass/fail."""
    if expected is None:
        return ()
    return tuple(
        NewCheck(
            kind=kind,
            passed=None,
            score=round(measure(output, expected), 6),
            detail="against the golden answer (a measurement, not a check)",
            weight=0.0,
        )
        for kind, measure in GOLDEN_MEASURES
    )


def _with_output(view: CellView, value: object) -> CellView:
    """The view of a cell whose output a transform turned into value."""
    if isinstance(value, str):
        return replace(view, output=value, value=None)
    return replace(view, output=transformed_text(value, ""), value=value)


def _weighed(
    results: Sequence[CheckResult], passed: bool, score: float, threshold: float
) -> tuple[NewCheck, ...]:
    """A case with a threshold passes on its weighted score, not check by check (promptfoo's
    test threshold): a cell passes when none of its stored checks failed, so each check is kept
    as a score without a verdict of its own (its own pass in the detail), and one `threshold`
    check, weightless, holds the case's verdict."""
    weighed = tuple(
        NewCheck(
            kind=result.kind,
            passed=None,
            score=result.score,
            detail=f"{'passed' if result.passed else 'failed'}, weighed into the case's"
            f" threshold: {result.detail}",
            weight=result.weight,
        )
        for result in results
    )
    comparison = "≥" if passed else "<"
    verdict = NewCheck(
        kind=THRESHOLD_CHECK,
        passed=passed,
        score=round(score, 6),
        detail=f"aggregate score {score:.2f} {comparison} {threshold:g} threshold",
        weight=0.0,
    )
    return (*weighed, verdict)


def _stored(result: CheckResult) -> NewCheck:
    return NewCheck(
        kind=result.kind,
        passed=bool(result.passed),
        score=result.score,
        detail=result.detail,
        weight=result.weight,
    )


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The rendered prompt as promptfoo gives it to checks: one message's text, or the chat's
    messages as JSON."""
    if len(messages) == 1:
        return str(messages[0].get("content", ""))
    return json.dumps([dict(message) for message in messages], ensure_ascii=False, default=str)


def _input_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(
        f"{message.get('role', 'user')}: {message.get('content', '')}" for message in messages
    )
