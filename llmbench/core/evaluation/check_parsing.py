"""Reading a check from a suite file strictly: `parse_check` turns a mapping (our names or
promptfoo's: `not-<type>`, `icontains-any`, `latency`, `max-length`, `llm-rubric`, ...) into a
CheckSpec, and `validate_check` refuses any spec that could not run, saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from llmbench.core.evaluation.check_spec import (
    CHECK_KINDS,
    DEFAULT_SIMILARITY_THRESHOLD,
    EMBEDDING_METHOD,
    JUDGE_KIND,
    MODEL_GRADED_KINDS,
    SCRIPT_KINDS,
    SIMILAR_METHODS,
    CheckError,
    CheckSpec,
    freeze,
)
from llmbench.core.evaluation.check_values import (
    as_boolean,
    as_number,
    as_phrases,
    as_text,
    compile_pattern,
    is_template,
    json_text,
    length_bounds,
    pii_kinds,
    type_name,
)
from llmbench.core.evaluation.json_schema import check_schema, schema_value
from llmbench.core.evaluation.script_spec import script_source
from llmbench.core.evaluation.sql_checks import sql_options
from llmbench.core.evaluation.structured_checks import required_elements
from llmbench.core.evaluation.tool_checks import TOOL_CHECK_OPTIONS, validate_tool_check
from llmbench.core.evaluation.transform_spec import TRANSFORM_KEY, transform_source

# Keys any check may carry; `metric` and `description` are labels, kept in options, as is
# `transform` (the code the output goes through before this check sees it).
_COMMON_KEYS = frozenset({"type", "kind", "value", "negate", "not", "weight", "threshold"})
_LABEL_KEYS = ("metric", "description", TRANSFORM_KEY)
_OPTION_KEYS: dict[str, frozenset[str]] = {
    "equals": frozenset(),
    "contains": frozenset(),
    "icontains": frozenset(),
    "contains-any": frozenset({"ignore_case"}),
    "contains-all": frozenset({"ignore_case"}),
    "starts-with": frozenset(),
    "regex": frozenset({"ignore_case"}),
    "is-json": frozenset(),
    "json-schema": frozenset(),
    "length": frozenset({"min", "max", "unit", "model"}),
    "banned-phrases": frozenset({"ignore_case"}),
    "pii-present": frozenset({"kinds"}),
    "latency-le": frozenset(),
    "cost-le": frozenset(),
    "is-refusal": frozenset(),
    "similar": frozenset({"method"}),
    "contains-json": frozenset(),
    "is-xml": frozenset(),
    "contains-xml": frozenset(),
    "is-sql": frozenset(),
    "contains-sql": frozenset(),
    "rouge-n": frozenset(),
    "bleu": frozenset(),
    "levenshtein": frozenset(),
    JUDGE_KIND: frozenset(),
    # promptfoo passes an assertion's `config` to its code as context.config.
    "python": frozenset({"config"}),
    "javascript": frozenset({"config"}),
    **{kind: frozenset() for kind in MODEL_GRADED_KINDS},
    **TOOL_CHECK_OPTIONS,
}
# Kinds whose value may be left out: the case's expected answer stands in.
_EXPECTED_BY_DEFAULT = frozenset(
    {"equals", "contains", "icontains", "similar", "rouge-n", "bleu", "levenshtein"}
)
_REFERENCE_KINDS = frozenset({"rouge-n", "levenshtein"})
# Model-graded kinds and what their value is (None: they take none).
_GRADED_VALUES = {
    "factuality": "the reference answer (the case's expected answer when left out)",
    "model-graded-closedqa": "the criterion the answer must meet",
    "context-recall": "the ground truth (the case's expected answer when left out)",
    "g-eval": "the criteria (a text or a list of texts)",
    "select-best": "the criterion to pick the best output by",
    "answer-relevance": None,
    "context-faithfulness": None,
    "context-relevance": None,
}
_NEEDS_VALUE = frozenset({"model-graded-closedqa", "g-eval", "select-best"})


def parse_check(data: Mapping[str, object], *, where: str = "") -> CheckSpec:
    """A CheckSpec from a suite's mapping (`type:` or `kind:`, `value:`, `negate:`, `weight:`,
    `threshold:` and the kind's own options), validated; CheckError says what is wrong."""
    prefix = f"{where}: " if where else ""
    if not isinstance(data, Mapping):
        raise CheckError(f"{prefix}a check must be a mapping, got {type_name(data)}")
    name = data.get("type", data.get("kind"))
    if "type" in data and "kind" in data and data["type"] != data["kind"]:
        raise CheckError(f"{prefix}give either type or kind, not both")
    if not isinstance(name, str) or not name.strip():
        raise CheckError(f"{prefix}a check needs a type (one of {', '.join(CHECK_KINDS)})")
    prefix = f"{prefix}check {name!r}: "
    fields = dict(data)
    kind, negate = _resolve_name(name.strip(), fields, prefix)
    unknown = sorted(set(fields) - _COMMON_KEYS - set(_LABEL_KEYS) - _OPTION_KEYS[kind])
    if unknown:
        known = sorted(
            {"value", "negate", "weight", "threshold", TRANSFORM_KEY} | _OPTION_KEYS[kind]
        )
        raise CheckError(f"{prefix}unknown field {unknown[0]!r} (known: {', '.join(known)})")
    negate = negate != as_boolean(fields.get("negate", fields.get("not", False)), "negate", prefix)
    weight = as_number(fields.get("weight", 1.0), "weight", prefix)
    if weight < 0:
        raise CheckError(f"{prefix}weight must be 0 or more, got {weight:g}")
    threshold = fields.get("threshold")
    if threshold is not None:
        threshold = as_number(threshold, "threshold", prefix)
        if kind == "levenshtein":
            if threshold < 0:
                raise CheckError(f"{prefix}threshold (an edit distance) must be 0 or more")
        elif kind in SCRIPT_KINDS:
            pass  # compared with whatever score the code returns, as promptfoo does
        elif not 0.0 <= threshold <= 1.0:
            raise CheckError(f"{prefix}threshold must be between 0 and 1, got {threshold:g}")
    if TRANSFORM_KEY in fields:
        transform_source(fields[TRANSFORM_KEY], prefix)
    options: dict[str, object] = {key: fields[key] for key in _LABEL_KEYS if key in fields}
    options.update({key: fields[key] for key in _OPTION_KEYS[kind] if key in fields})
    if kind == "similar" and threshold is None:
        threshold = DEFAULT_SIMILARITY_THRESHOLD
    spec = CheckSpec(
        kind=kind,
        value=freeze(fields.get("value")),
        negate=negate,
        weight=weight,
        threshold=threshold,
        options=MappingProxyType({key: freeze(item) for key, item in options.items()}),
    )
    if kind == "is-json" and spec.value is not None:
        spec = CheckSpec("json-schema", spec.value, negate, weight, threshold, spec.options)
    validate_check(spec, prefix=prefix)
    return spec


def _resolve_name(name: str, fields: dict[str, object], prefix: str) -> tuple[str, bool]:
    """The kind a (possibly promptfoo) name stands for and whether it negates; moves the alias's
    fields (a limit in `threshold`, a length in `value`) to where the kind wants them."""
    negate = False
    if name.startswith("not-"):
        negate, name = True, name[len("not-") :]
    if name in ("llm-rubric", JUDGE_KIND):
        return JUDGE_KIND, negate
    if name == "model-graded-factuality":
        return "factuality", negate
    if name in SCRIPT_KINDS or name in MODEL_GRADED_KINDS:
        return name, negate
    if name in ("icontains-any", "icontains-all"):
        fields["ignore_case"] = True
        return name[1:], negate
    if name in ("latency", "cost"):
        if "value" not in fields:
            if "threshold" not in fields:
                raise CheckError(f"{prefix}needs its limit in threshold")
            fields["value"] = fields.pop("threshold")
        return f"{name}-le", negate
    if name in ("max-length", "min-length"):
        if "value" not in fields:
            raise CheckError(f"{prefix}needs a value (the length)")
        fields[name[:3]] = fields.pop("value")
        return "length", negate
    if name not in CHECK_KINDS:
        raise CheckError(
            f"{prefix}this check type is not supported (supported: {', '.join(CHECK_KINDS)}, "
            f"llm-rubric, {', '.join(SCRIPT_KINDS + MODEL_GRADED_KINDS)}, and not- before any "
            "of them)"
        )
    return name, negate


def validate_check(spec: CheckSpec, *, prefix: str = "") -> None:
    """Raise CheckError when spec (parsed or built in code) cannot run."""
    kind, value, options = spec.kind, spec.value, spec.options
    if kind not in _OPTION_KEYS:
        raise CheckError(f"{prefix}unknown check kind {kind!r}")
    if kind in ("equals", "contains", "icontains", "starts-with", "similar"):
        if value is None and kind in _EXPECTED_BY_DEFAULT:
            pass
        elif kind == "equals" and isinstance(value, Mapping | list | tuple):
            json_text(value, prefix)
        else:
            as_text(value, prefix)
        if kind == "similar" and options.get("method", EMBEDDING_METHOD) not in SIMILAR_METHODS:
            raise CheckError(f"{prefix}method must be one of {', '.join(SIMILAR_METHODS)}")
    elif kind in ("contains-any", "contains-all", "banned-phrases"):
        as_phrases(value, prefix)
    elif kind == "regex":
        pattern = as_text(value, prefix)
        if not is_template(pattern):
            compile_pattern(pattern, bool(options.get("ignore_case", False)), prefix)
    elif kind == "json-schema":
        check_schema(schema_value(value, prefix), prefix=prefix)
    elif kind in ("length", "pii-present", "is-json", "is-refusal") and value is not None:
        hint = {"length": " (use min and max)", "pii-present": " (use kinds)"}.get(kind, "")
        raise CheckError(f"{prefix}takes no value{hint}")
    elif kind == "length":
        length_bounds(options, prefix)
    elif kind == "pii-present":
        pii_kinds(options.get("kinds"), prefix)
    elif kind in ("latency-le", "cost-le"):
        limit = as_number(value, "value", prefix)
        if limit < 0:
            raise CheckError(f"{prefix}the limit must be 0 or more, got {limit:g}")
    elif (
        kind == JUDGE_KIND and value is not None and not (isinstance(value, str) and value.strip())
    ):
        raise CheckError(
            f"{prefix}needs the rubric text as its value (or none, for the suite's dimensions)"
        )
    elif kind == "contains-json" and value is not None:
        check_schema(schema_value(value, prefix), prefix=prefix)
    elif kind in ("is-xml", "contains-xml"):
        required_elements(value, prefix)
    elif kind in ("is-sql", "contains-sql"):
        sql_options(value, prefix)
    elif kind in _REFERENCE_KINDS and value is not None:
        as_text(value, prefix)
    elif kind == "bleu" and value is not None:
        if isinstance(value, str):
            as_text(value, prefix)
        else:
            as_phrases(value, prefix)
    elif kind in SCRIPT_KINDS:
        script_source(kind, value, prefix)
    elif kind in _GRADED_VALUES:
        _graded_value(spec, prefix)
    elif kind in TOOL_CHECK_OPTIONS:
        validate_tool_check(spec, prefix)
    if spec.negate and kind == "select-best":
        raise CheckError(f"{prefix}select-best cannot be negated")
    if "ignore_case" in options:
        as_boolean(options["ignore_case"], "ignore_case", prefix)


def _graded_value(spec: CheckSpec, prefix: str) -> None:
    what = _GRADED_VALUES[spec.kind]
    value = spec.value
    if what is None:
        if value is not None:
            raise CheckError(f"{prefix}takes no value (it reads the case's query and context)")
        return
    if value is None:
        if spec.kind in _NEEDS_VALUE:
            raise CheckError(f"{prefix}needs a value: {what}")
        return
    if spec.kind == "g-eval" and not isinstance(value, str):
        as_phrases(value, prefix)
    else:
        as_text(value, prefix)
