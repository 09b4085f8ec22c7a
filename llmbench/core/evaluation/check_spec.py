"""What a check is: its kinds, the spec a suite file gives (`CheckSpec`), what a run knows
when it applies one (`CheckContext`), what it gives back (`CheckResult`), and the spec's
saved form (`check_to_data`, which `parse_check` reads back).

Every check gives a score in 0..1 and a pass. Binary checks score 0 or 1; graded ones
(contains-all, banned-phrases, length, latency-le, cost-le, similar, rouge-n, bleu) score
partial credit, and with a `threshold` a check passes when its score reaches it (similar,
rouge-n and bleu compare before negating, as promptfoo does; levenshtein's threshold is a
distance). `negate` turns a pass into a fail and a score s into 1 - s. `weight` counts in
`aggregate`'s weighted mean; a cell passes only when every one of its checks does.

String values may use the case's variables as Jinja (`{{ reference }}`, `{{ expected.id }}`):
they are rendered in the sandbox at run time, with `expected` the golden answer (parsed when it
is JSON).

promptfoo's assertion names are read too, with promptfoo's scoring: `not-<type>` negates,
`icontains-any`/`-all`, `latency`/`cost` (their limit in `threshold`), `max-length`/
`min-length`; `contains-json`, `is-xml`/`contains-xml`, `is-sql`/`contains-sql`, `rouge-n`,
`bleu` and `levenshtein` (whose `threshold` is an edit distance, 5 by default) are checks of
their own. The run engine grades the rest: `llm-rubric` becomes a "judge" spec; `python` and
`javascript` run code (an inline expression or body, or `file://path[:function]`); the
model-graded kinds (`factuality`, `model-graded-closedqa`, `answer-relevance`,
`context-faithfulness`, `context-recall`, `context-relevance`, `g-eval`, `select-best`) ask the
judge model. Anything else (`webhook`, `moderation`, ...) is refused by name, never silently
dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from llmbench.core.evaluation.similarity import SIMILARITY_METHODS
from llmbench.core.models import ToolCall

TOOL_CHECK_KINDS: tuple[str, ...] = (
    "tool-call",
    "tool-call-f1",
    "is-valid-openai-tools-call",
    "is-valid-openai-function-call",
    "is-valid-function-call",
    "matches-response-format",
)
"""Checks on the answer's tool calls and on the structure the request asked for
(core.evaluation.tool_checks)."""
CHECK_KINDS: tuple[str, ...] = (
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "contains-all",
    "starts-with",
    "regex",
    "is-json",
    "json-schema",
    "length",
    "banned-phrases",
    "pii-present",
    "latency-le",
    "cost-le",
    "is-refusal",
    "similar",
    "contains-json",
    "is-xml",
    "contains-xml",
    "is-sql",
    "contains-sql",
    "rouge-n",
    "bleu",
    "levenshtein",
    *TOOL_CHECK_KINDS,
)
JUDGE_KIND = "judge"
"""Parsed from promptfoo's `llm-rubric` (or written as `judge`): graded by the run engine with a
judge model, not by run_check."""
SCRIPT_KINDS: tuple[str, ...] = ("python", "javascript")
"""Code the run engine runs (services.evaluation.scripts), never run_check."""
MODEL_GRADED_KINDS: tuple[str, ...] = (
    "factuality",
    "model-graded-closedqa",
    "answer-relevance",
    "context-faithfulness",
    "context-recall",
    "context-relevance",
    "g-eval",
    "select-best",
)
"""promptfoo's model-graded checks: the run engine asks the judge model (core.evaluation.graders
holds their prompts and parsers)."""
ENGINE_KINDS: frozenset[str] = frozenset({JUDGE_KIND, *SCRIPT_KINDS, *MODEL_GRADED_KINDS})
# Kinds that compare their score with `threshold` themselves (promptfoo's rule), so run_check
# does not apply the generic "score >= threshold" after negation.
OWN_THRESHOLD_KINDS = frozenset({"similar", "rouge-n", "bleu", "levenshtein", "tool-call-f1"})

DEFAULT_SIMILARITY_THRESHOLD = 0.75  # promptfoo's default for `similar`
EMBEDDING_METHOD = "embedding"
# `similar` compares by embedding cosine (promptfoo's meaning) unless a lexical method is asked
# for; where no embedding model is configured it falls back to ROUGE-L and says so.
SIMILAR_METHODS: tuple[str, ...] = (EMBEDDING_METHOD, *SIMILARITY_METHODS)
FALLBACK_SIMILARITY_METHOD = "rouge-l"
NO_EMBEDDING_MODEL = "no embedding model configured ([models] embedding_model)"
LENGTH_UNITS = ("chars", "tokens")
PII_KINDS = ("email", "phone", "credit_card", "iban", "ssn", "ip_address")  # core/pii.py's


class CheckError(ValueError):
    """A check in a suite or config that cannot be used, with where it was written."""


@dataclass(frozen=True)
class CheckSpec:
    kind: str
    value: object = None
    negate: bool = False
    weight: float = 1.0
    threshold: float | None = None
    options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:
        # The value may be a schema (a mapping): hash the spec's canonical JSON instead.
        return hash(json.dumps(check_to_data(self), sort_keys=True, default=str))


@dataclass(frozen=True)
class CheckContext:
    expected: str | None = None
    latency_ms: float | None = None
    cost: float | None = None
    model: str = ""
    variables: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Why an embedding `similar` check falls back to lexical similarity here (run_check never
    # embeds; the eval engine does when a model is configured and passes its problem, if any).
    embedding_unavailable: str = NO_EMBEDDING_MODEL
    # The tool calls the answer made, and the request's params (the `tools`, `functions` and
    # `response_format` it sent): what the tool and structure checks read.
    tool_calls: tuple[ToolCall, ...] = ()
    request: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    score: float
    detail: str
    weight: float


def check_to_data(spec: CheckSpec) -> dict[str, Any]:
    """The mapping parse_check reads back into spec (for storing a run's config as JSON)."""
    data: dict[str, Any] = {"kind": spec.kind}
    if spec.value is not None:
        data["value"] = thaw(spec.value)
    if spec.negate:
        data["negate"] = True
    if spec.weight != 1.0:
        data["weight"] = spec.weight
    if spec.threshold is not None:
        data["threshold"] = spec.threshold
    data.update({key: thaw(item) for key, item in spec.options.items()})
    return data


def freeze(value: object) -> object:
    """Lists to tuples, mappings to read-only mappings, so a spec cannot change under a run."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: object) -> Any:
    """Frozen data back to the lists and dicts JSON writes (the inverse of freeze)."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value
