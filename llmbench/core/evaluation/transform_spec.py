"""Output transforms and a case's own grading rule, as promptfoo writes them.

A transform reshapes the model's output before checks see it. It is JavaScript code (one line is
an expression whose value is the new output, `output.trim().toUpperCase()`; several lines are a
function body that returns it), or `file://path.js[:function]` (the module's export, or the
named one) or `file://path.py[:function]` (`get_transform` unless named), called as
`function(output, context)` with `context` holding the case's vars, the prompt, the test and the
provider. Three places take one, applied in promptfoo's order:

- a case's `transform` (promptfoo's `test.options.transform`), else the suite's (promptfoo's
  `defaultTest.options.transform`): the output every check of the case sees;
- a check's own `transform`: applied after the case's, for that check alone.

A transform that raises, or returns nothing (null/undefined/None), makes what it feeds fail
with the reason, never pass. A value that is not text (`JSON.parse(output)`) goes as it is to
the next transform and to python/javascript checks, as promptfoo passes it; the other checks
read its JSON text, as promptfoo's do (`JSON.stringify`).

A case's `threshold` (promptfoo's `test.threshold`) changes how the case passes: instead of
every check passing, the weighted mean score of its checks (0 when the weights sum to 0) must
reach the threshold (`score >= threshold`), whatever single checks did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from llmbench.core.evaluation.check_spec import CheckError
from llmbench.core.evaluation.script_spec import FILE_PREFIX, SCRIPT_SUFFIXES, ScriptSource

TRANSFORM_KEY = "transform"
PYTHON_TRANSFORM_FUNCTION = "get_transform"  # promptfoo's default for a .py transform
_LABEL_CHARS = 80


class TransformAnswerError(ValueError):
    """The transform gave nothing to check; the message says what it gave."""


def transform_source(value: object, prefix: str = "") -> ScriptSource:
    """The code a transform names; CheckError when it names none. As promptfoo splits
    `file://path:function`: at the last colon, when what comes before is a .js or .py file."""
    if not isinstance(value, str) or not value.strip():
        raise CheckError(f"{prefix}transform needs JavaScript code or file://path as its value")
    if not value.startswith(FILE_PREFIX):
        return ScriptSource("javascript", code=value)
    reference = value[len(FILE_PREFIX) :].strip()
    path, function = reference, ""
    head, colon, tail = reference.rpartition(":")
    if colon and len(head) > 1 and head.endswith(SCRIPT_SUFFIXES["javascript"] + (".py",)):
        path, function = head, tail
    if function and not function.replace("_", "a").replace(".", "a").isalnum():
        raise CheckError(f"{prefix}transform: {function!r} is not a function name")
    if path.endswith(".py"):
        return ScriptSource("python", path=path, function=function or PYTHON_TRANSFORM_FUNCTION)
    if path.endswith(SCRIPT_SUFFIXES["javascript"]):
        return ScriptSource("javascript", path=path, function=function)
    raise CheckError(f"{prefix}a transform file must end in .js, .cjs, .mjs or .py: {path!r}")


def transform_label(value: str) -> str:
    """How reasons name a transform (promptfoo's labels): its code on one line, or the file."""
    if value.startswith(FILE_PREFIX):
        return f"file transform {value[len(FILE_PREFIX) :]}"
    line = " ".join(value.split())
    return "inline transform: " + (line if len(line) <= _LABEL_CHARS else line[:79] + "…")


def transformed_text(answer: object, label: str) -> str:
    """The output a transform's answer stands for: text as it is, anything else as JSON text.
    TransformAnswerError when it answered nothing (promptfoo refuses null and undefined)."""
    if answer is None:
        raise TransformAnswerError(f"the transform did not return a value ({label})")
    if isinstance(answer, str):
        return answer
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"))  # as JSON.stringify


@dataclass(frozen=True)
class CaseGrading:
    """A case's own rule: the transform its checks see the output through ("" for none) and
    the threshold its weighted score must reach (None: every check must pass)."""

    transform: str = ""
    threshold: float | None = None

    @property
    def is_default(self) -> bool:
        return not self.transform and self.threshold is None


def parse_case_grading(data: Mapping[str, object], where: str = "") -> CaseGrading:
    """A CaseGrading from its saved form ({transform, threshold}); CheckError says what is
    wrong."""
    prefix = f"{where}: " if where else ""
    unknown = sorted(set(data) - {TRANSFORM_KEY, "threshold"})
    if unknown:
        raise CheckError(f"{prefix}unknown field {unknown[0]!r} (known: threshold, transform)")
    transform = data.get(TRANSFORM_KEY) or ""
    if transform:
        transform_source(transform, prefix)
    threshold = data.get("threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise CheckError(f"{prefix}threshold must be a number, got {threshold!r}")
        if not math.isfinite(threshold):
            raise CheckError(f"{prefix}threshold must be a finite number")
        threshold = float(threshold)
    return CaseGrading(str(transform), threshold)


def case_grading_data(grading: CaseGrading) -> dict[str, object]:
    """The mapping parse_case_grading reads back."""
    data: dict[str, object] = {}
    if grading.transform:
        data[TRANSFORM_KEY] = grading.transform
    if grading.threshold is not None:
        data["threshold"] = grading.threshold
    return data


def case_gradings(
    default: Mapping[str, object], own: Mapping[int, Mapping[str, object]]
) -> tuple[CaseGrading, dict[int, CaseGrading]]:
    """Every case's rule (`default`, saved form) and each case's own merged over it: a case's
    transform and threshold replace the default's, as promptfoo's test options and threshold
    replace defaultTest's. CheckError names a bad one."""
    every = parse_case_grading(default, "the suite")
    merged = {}
    for case_id, data in own.items():
        grading = parse_case_grading(data, f"case {case_id}")
        merged[case_id] = CaseGrading(
            grading.transform or every.transform,
            grading.threshold if grading.threshold is not None else every.threshold,
        )
    return every, merged
