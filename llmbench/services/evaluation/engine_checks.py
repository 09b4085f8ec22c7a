"""The checks the run engine grades itself, one cell at a time: `python` and `javascript` code
(services.evaluation.scripts) and promptfoo's model-graded kinds (core.evaluation.graders)
through the judge model. `select-best` needs every output of a case, so it is graded once the
cells are done (services.evaluation.select_best).

Outcomes: a CheckResult; `Skipped` when the check cannot run here (no JavaScript engine), kept
beside the cell's checks with no verdict; JudgeUnreachable when the judge never answered, which
makes the cell an error rather than a failed check. Code that raises or hangs fails its check
with the reason, as promptfoo fails it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from llmbench.core.evaluation.check_runner import rendered_value
from llmbench.core.evaluation.check_spec import (
    CheckContext,
    CheckError,
    CheckResult,
    CheckSpec,
    thaw,
)
from llmbench.core.evaluation.graders import (
    DEFAULT_GRADED_THRESHOLDS,
    FACTUALITY_MEANINGS,
    FACTUALITY_SCORES,
    answer_questions_messages,
    closedqa_messages,
    context_units,
    factuality_messages,
    g_eval_messages,
    g_eval_steps_messages,
    parse_closedqa,
    parse_factuality,
    parse_g_eval,
    parse_questions,
    parse_statements,
    parse_steps,
    parse_yes_no,
    relevant_messages,
    split_sentences,
    statements_messages,
    supported_messages,
)
from llmbench.core.evaluation.script_spec import ScriptAnswerError, script_outcome, script_source
from llmbench.core.evaluation.similarity import cosine, rouge_l
from llmbench.core.prompts.fewshot import Embed
from llmbench.core.prompts.templates import TemplateError
from llmbench.services.evaluation.judge_calls import JudgeFailure
from llmbench.services.evaluation.scripts import (
    ScriptCall,
    ScriptError,
    ScriptRunner,
    ScriptSkipped,
)

Parsed = TypeVar("Parsed")
AskJudge = Callable[[list[dict[str, str]], Callable[[str], Any]], Awaitable[Any]]
_LABELS = {"python": "Python code", "javascript": "Custom function"}


class JudgeUnreachable(Exception):
    """The judge model never answered; the cell is an error with this reason."""


@dataclass(frozen=True)
class Skipped:
    kind: str
    reason: str


@dataclass(frozen=True)
class CellView:
    """What a check sees of a cell: its rendered prompt, output, case and model."""

    prompt: str
    output: str
    variables: Mapping[str, Any]
    expected: str | None
    model: str
    description: str = ""
    # What a transform made of the output when it is not text (a parsed JSON object): code
    # checks and later transforms get it as it is, as promptfoo passes it; other checks read
    # `output`, its JSON text.
    value: object = None
    # What the provider answered as promptfoo gives it (core.evaluation.tool_call_output): the
    # tool calls (or the whole message) of an answer that called tools; None: `output`. It
    # stays the first `value` and `providerResponse.output` whatever transforms make of it.
    answered: object = None

    @property
    def code_output(self) -> object:
        """The output as code sees it."""
        return self.output if self.value is None else self.value

    @property
    def provider_output(self) -> object:
        """The provider's output before any transform, as code sees it."""
        return self.output if self.answered is None else self.answered


def _result(spec: CheckSpec, passed: bool, score: float, detail: str) -> CheckResult:
    if spec.negate:
        passed, score, detail = not passed, 1.0 - score, f"not: {detail}"
    return CheckResult(spec.kind, passed, round(min(1.0, max(0.0, score)), 6), detail, spec.weight)


def _failed(spec: CheckSpec, detail: str) -> CheckResult:
    return CheckResult(spec.kind, False, 0.0, detail, spec.weight)


def _context(cell: CellView) -> CheckContext:
    return CheckContext(expected=cell.expected, model=cell.model, variables=dict(cell.variables))


def script_context(spec: CheckSpec, cell: CellView) -> dict[str, Any]:
    """promptfoo's `context` argument: the prompt, the case's vars, the test, the assertion's
    config, the provider and its response."""
    context = cell_context(cell)
    if "config" in spec.options:
        context["config"] = thaw(spec.options["config"])
    return context


def cell_context(cell: CellView) -> dict[str, Any]:
    """What code sees of a cell as its `context` (a case's transform gets this alone)."""
    test: dict[str, Any] = {"vars": dict(cell.variables)}
    if cell.description:
        test["description"] = cell.description
    if cell.expected is not None:
        test["expected"] = cell.expected
    context: dict[str, Any] = {
        "prompt": cell.prompt,
        "vars": dict(cell.variables),
        "test": test,
        "provider": {"id": cell.model, "label": cell.model},
        "providerResponse": {"output": cell.provider_output},
    }
    return context


async def grade_script(
    spec: CheckSpec, cell: CellView, runner: ScriptRunner
) -> CheckResult | Skipped:
    label = _LABELS[spec.kind]
    try:
        source = script_source(spec.kind, rendered_value(spec, _context(cell)))
    except (CheckError, TemplateError) as error:
        return _failed(spec, f"cannot run: {error}")
    call = ScriptCall(source, cell.code_output, script_context(spec, cell))
    try:
        answer = await runner.run(call)
        outcome = script_outcome(answer, threshold=spec.threshold, negate=spec.negate, label=label)
    except ScriptSkipped as skipped:
        return Skipped(spec.kind, str(skipped))
    except (ScriptError, ScriptAnswerError) as error:
        return _failed(spec, f"error: {label} failed: {error}")
    detail = outcome.reason if outcome.reason != "passed" else f"{label} passed"
    score = outcome.score if math.isfinite(outcome.score) else 0.0
    return CheckResult(
        spec.kind, outcome.passed, round(min(1.0, max(0.0, score)), 6), detail, spec.weight
    )


class ModelGrader:
    """Grades one model-graded check of a cell through `ask` (the engine's judge call)."""

    def __init__(
        self, ask: Callable[..., Awaitable[Any]], embed: Embed | None, embedding_model: str
    ) -> None:
        self._ask = ask
        self.embed = embed
        self.embedding_model = embedding_model

    async def ask(self, messages: list[dict[str, str]], parse: Callable[[str], Parsed]) -> Parsed:
        verdict = await self._ask(messages, parse)
        if isinstance(verdict, JudgeFailure):
            if verdict.unreachable:
                raise JudgeUnreachable(verdict.reason)
            raise CheckError(verdict.reason)
        return verdict

    async def grade(self, spec: CheckSpec, cell: CellView) -> CheckResult:
        try:
            value = rendered_value(spec, _context(cell))
            grade = getattr(self, "_" + spec.kind.replace("-", "_"))
            return await grade(spec, cell, value)
        except (CheckError, TemplateError) as error:
            return _failed(spec, f"cannot grade: {error}")

    def _threshold(self, spec: CheckSpec) -> float:
        return (
            spec.threshold if spec.threshold is not None else DEFAULT_GRADED_THRESHOLDS[spec.kind]
        )

    def _scored(self, spec: CheckSpec, score: float, what: str, note: str = "") -> CheckResult:
        threshold = self._threshold(spec)
        detail = f"{what} {score:.2f} (threshold {threshold:g}){note}"
        return _result(spec, score >= threshold - 1e-12, score, detail)

    async def _factuality(self, spec: CheckSpec, cell: CellView, value: object) -> CheckResult:
        reference = value if value is not None else cell.expected
        if not isinstance(reference, str) or not reference.strip():
            raise CheckError("no reference answer: give a value or an expected answer")
        letter, reason = await self.ask(
            factuality_messages(cell.prompt, reference, cell.output), parse_factuality
        )
        score = FACTUALITY_SCORES[letter]
        return _result(
            spec, score > 0, score, f"({letter}) {FACTUALITY_MEANINGS[letter]}: {reason}"
        )

    async def _model_graded_closedqa(
        self, spec: CheckSpec, cell: CellView, value: object
    ) -> CheckResult:
        met, reason = await self.ask(
            closedqa_messages(cell.prompt, str(value), cell.output), parse_closedqa
        )
        verdict = "meets the criterion" if met else "does not meet the criterion"
        return _result(spec, met, float(met), f"{verdict}: {reason}".strip(": "))

    def _query(self, cell: CellView, *, required: bool) -> str:
        query = cell.variables.get("query")
        if isinstance(query, str) and query.strip():
            return query
        if required:
            raise CheckError("the case has no `query` variable")
        return cell.prompt

    def _case_context(self, cell: CellView) -> object:
        context = cell.variables.get("context")
        if context is None or (isinstance(context, str) and not context.strip()):
            raise CheckError("the case has no `context` variable")
        return context

    async def _answer_relevance(
        self, spec: CheckSpec, cell: CellView, value: object
    ) -> CheckResult:
        query = self._query(cell, required=False)
        questions = await self.ask(answer_questions_messages(cell.output), parse_questions)
        note = ""
        vectors: list[list[float]] = []
        if self.embed is not None:
            vectors = list(await _embed(self.embed, [query, *questions]))
        problem = getattr(self.embed, "problem", None) if self.embed is not None else None
        if (
            self.embed is not None
            and not problem
            and len(vectors) == len(questions) + 1
            and all(any(v) for v in vectors)
        ):
            scores = [cosine(vectors[0], vector) for vector in vectors[1:]]
            what = f"relevance (embedding cosine, {self.embedding_model})"
        else:
            scores = [rouge_l(question, query) for question in questions]
            why = problem or "no embedding model configured ([models] embedding_model)"
            what, note = (
                "relevance (ROUGE-L)",
                f"; {why}: lexical similarity used instead of embeddings",
            )
        return self._scored(spec, sum(scores) / len(scores), what, note)

    async def _context_faithfulness(
        self, spec: CheckSpec, cell: CellView, value: object
    ) -> CheckResult:
        context = _context_text(self._case_context(cell))
        statements = await self.ask(
            statements_messages(self._query(cell, required=False), cell.output), parse_statements
        )
        supported = await self.ask(
            supported_messages(context, statements, "statement"),
            lambda reply: parse_yes_no(reply, len(statements), "supported"),
        )
        return self._scored(
            spec,
            sum(supported) / len(statements),
            f"faithfulness ({sum(supported)}/{len(statements)} statements supported)",
        )

    async def _context_recall(self, spec: CheckSpec, cell: CellView, value: object) -> CheckResult:
        truth = value if value is not None else cell.expected
        if not isinstance(truth, str) or not truth.strip():
            raise CheckError("no ground truth: give a value or an expected answer")
        sentences = split_sentences(truth)
        context = _context_text(self._case_context(cell))
        attributed = await self.ask(
            supported_messages(context, sentences, "sentence"),
            lambda reply: parse_yes_no(reply, len(sentences), "supported"),
        )
        return self._scored(
            spec,
            sum(attributed) / len(sentences),
            f"recall ({sum(attributed)}/{len(sentences)} sentences attributed)",
        )

    async def _context_relevance(
        self, spec: CheckSpec, cell: CellView, value: object
    ) -> CheckResult:
        query = self._query(cell, required=True)
        units = context_units(self._case_context(cell))
        if not units:
            raise CheckError("the case's context is empty")
        relevant = await self.ask(
            relevant_messages(query, units),
            lambda reply: parse_yes_no(reply, len(units), "relevant"),
        )
        return self._scored(
            spec,
            sum(relevant) / len(units),
            f"context relevance ({sum(relevant)}/{len(units)} sentences needed)",
        )

    async def _g_eval(self, spec: CheckSpec, cell: CellView, value: object) -> CheckResult:
        criteria = [value] if isinstance(value, str) else [str(item) for item in value or ()]
        scores, reasons = [], []
        for criterion in criteria:
            steps = await self.ask(g_eval_steps_messages(criterion), parse_steps)
            score, reason = await self.ask(
                g_eval_messages(criterion, steps, cell.prompt, cell.output), parse_g_eval
            )
            scores.append(score / 10)
            reasons.append(reason)
        return self._scored(spec, sum(scores) / len(scores), "G-Eval", f": {' / '.join(reasons)}")


def _context_text(context: object) -> str:
    if isinstance(context, list | tuple):
        return "\n\n".join(str(item) for item in context)
    return str(context)


async def _embed(embed: Embed, texts: Sequence[str]) -> Sequence[Sequence[float]]:
    import asyncio

    # The embedding call blocks (litellm's sync API): off the event loop.
    return await asyncio.to_thread(embed, list(texts))
