"""Running checks: `run_check` applies one spec to an output (rendering its Jinja values
with the case's variables first) and never raises on the output; `aggregate` folds a cell's
results into one pass and a weighted score. `similarity_reference` and `similar_result` let
the eval engine grade a `similar` check by embeddings and report it as run_check would.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from llmbench.core.evaluation.check_evaluators import EVALUATORS, reference_text
from llmbench.core.evaluation.check_parsing import validate_check
from llmbench.core.evaluation.check_spec import (
    DEFAULT_SIMILARITY_THRESHOLD,
    ENGINE_KINDS,
    OWN_THRESHOLD_KINDS,
    CheckContext,
    CheckError,
    CheckResult,
    CheckSpec,
)
from llmbench.core.evaluation.check_values import is_template
from llmbench.core.evaluation.transform_spec import TRANSFORM_KEY
from llmbench.core.prompts.templates import TemplateError, render_section


def run_check(spec: CheckSpec, output: str, context: CheckContext) -> CheckResult:
    """Run one check on output. Never raises on output text: junk fails with a detail. A spec
    that cannot run (a bad template, a judge spec) fails the same way, saying why."""
    if spec.kind in ENGINE_KINDS:
        return _result(spec, False, 0.0, f"{spec.kind} checks are graded by the run engine")
    if TRANSFORM_KEY in spec.options:
        # Checking the untransformed text would answer a different question: refuse it.
        return _result(spec, False, 0.0, "cannot run: its transform is applied by the run engine")
    try:
        validate_check(spec)
        spec = _rendered(spec, context)
        passed, score, detail = _evaluate(spec, output if isinstance(output, str) else "", context)
    except (CheckError, TemplateError) as error:
        return _result(spec, False, 0.0, f"cannot run: {error}")
    except RecursionError:
        return _result(spec, False, 0.0, "the output is nested too deeply to check")
    if spec.negate:
        passed, score, detail = not passed, 1.0 - score, f"not: {detail}"
    if spec.threshold is not None and spec.kind not in OWN_THRESHOLD_KINDS:
        passed = score >= spec.threshold
    return _result(spec, passed, score, detail)


def _result(spec: CheckSpec, passed: bool, score: float, detail: str) -> CheckResult:
    return CheckResult(spec.kind, passed, round(min(1.0, max(0.0, score)), 6), detail, spec.weight)


def aggregate(results: Iterable[CheckResult], threshold: float | None = None) -> tuple[bool, float]:
    """Whether the checks pass together, and the weighted mean score (the plain mean when every
    weight is 0). Without a threshold they pass when every check does; with one (a case's own,
    promptfoo's test threshold) when the weighted mean reaches it, whatever single checks did,
    the mean being 0 when the weights sum to 0 as promptfoo counts it. No checks: (True, 1.0)."""
    results = list(results)
    if not results:
        return True, 1.0
    passed = all(result.passed for result in results)
    total_weight = math.fsum(result.weight for result in results)
    if total_weight <= 0:
        if threshold is not None:
            passed = threshold <= 0.0
        return passed, math.fsum(result.score for result in results) / len(results)
    weighted = math.fsum(result.score * result.weight for result in results) / total_weight
    if threshold is not None:
        passed = weighted >= threshold
    return passed, weighted


def _template_values(context: CheckContext) -> dict[str, object]:
    expected: object = context.expected
    if context.expected is not None:
        try:
            expected = json.loads(context.expected)
        except (ValueError, RecursionError):
            expected = context.expected
    return {**context.variables, "expected": expected}


def _rendered(spec: CheckSpec, context: CheckContext) -> CheckSpec:
    """spec with the Jinja in its text values rendered with the case's variables."""
    if spec.kind in ("json-schema", "contains-json", "is-sql", "contains-sql"):
        return spec
    if spec.kind == "tool-call" and isinstance(spec.options.get("arguments"), Mapping):
        # The argument values a tool call must hold may name the case's variables too.
        arguments = _rendered_data(spec.options["arguments"], _template_values(context))
        spec = replace(spec, options=MappingProxyType({**spec.options, "arguments": arguments}))
    value = spec.value
    if isinstance(value, str) and is_template(value):
        value = render_section("value", value, _template_values(context))
    elif isinstance(value, tuple) and any(isinstance(v, str) and is_template(v) for v in value):
        values = _template_values(context)
        value = tuple(
            render_section("value", v, values) if isinstance(v, str) and is_template(v) else v
            for v in value
        )
    else:
        return spec
    return CheckSpec(spec.kind, value, spec.negate, spec.weight, spec.threshold, spec.options)


def _rendered_data(value: object, values: Mapping[str, object]) -> object:
    if isinstance(value, str) and is_template(value):
        return render_section("value", value, values)
    if isinstance(value, Mapping):
        return MappingProxyType({key: _rendered_data(item, values) for key, item in value.items()})
    if isinstance(value, tuple | list):
        return tuple(_rendered_data(item, values) for item in value)
    return value


def _evaluate(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    evaluate = EVALUATORS[spec.kind]
    return evaluate(spec, output, context)


def similarity_reference(spec: CheckSpec, context: CheckContext) -> str:
    """The text a `similar` check compares with: its value (rendered with the case's
    variables) or the case's golden answer. CheckError or TemplateError when there is none."""
    validate_check(spec)
    return reference_text(_rendered(spec, context), context)


def similar_result(spec: CheckSpec, score: float, detail: str) -> CheckResult:
    """A `similar` check's outcome from a score computed elsewhere (an embedding cosine):
    passed at its threshold, then negated, as run_check does."""
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_SIMILARITY_THRESHOLD
    passed = score >= threshold
    detail = f"{detail} (threshold {threshold:g})"
    if spec.negate:
        passed, score, detail = not passed, 1.0 - score, f"not: {detail}"
    return _result(spec, passed, score, detail)


def rendered_value(spec: CheckSpec, context: CheckContext) -> object:
    """A check's value with the Jinja in its texts rendered with the case's variables (what the
    run engine gives its own kinds: judges, code, model-graded checks). CheckError or
    TemplateError when it cannot be rendered."""
    validate_check(spec)
    return _rendered(spec, context).value
