"""`python` and `javascript` checks as promptfoo writes them, and what their code's answer means.

The value is inline code or a file. Inline code on one line is an expression (`output.includes(
"refund")`, `len(output) < 200`); on several lines it is a function body that returns (for
Python, `output` and `context` in scope; for JavaScript, `return` from a body that sees `output`
and `context`). `file://path.py[:function]` names a function (default `get_assert`) and
`file://path.js[:function]` a module whose `module.exports` is the function (or holds it by
name), each called as `function(output, context)`. The run engine runs the code
(services.evaluation.scripts); `script_outcome` reads its answer with promptfoo's rules:

- `true`/`false` (or the strings "true"/"false"): pass or fail, score 1 or 0;
- a number: the score, passing when it reaches `threshold` (above 0 when there is none);
- a GradingResult `{pass, score, reason}` (snake_case keys too): as given, failing when a
  `threshold` is set and the score is below it;
- anything else is an error.

`not-python`/`not-javascript` flip the pass and keep the score, as promptfoo does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from llmbench.core.evaluation.check_spec import CheckError

PYTHON_DEFAULT_FUNCTION = "get_assert"
SCRIPT_SUFFIXES = {"python": (".py",), "javascript": (".js", ".cjs", ".mjs")}
FILE_PREFIX = "file://"


class ScriptAnswerError(ValueError):
    """The code answered with something that is not a verdict; the message says what."""


@dataclass(frozen=True)
class ScriptSource:
    kind: str  # "python" or "javascript"
    code: str = ""  # inline code ("" for a file)
    path: str = ""  # a file's path, as written (relative to the suite file until resolved)
    function: str = ""  # the function a file's check calls ("" for the default)

    @property
    def is_file(self) -> bool:
        return bool(self.path)


def script_source(kind: str, value: object, prefix: str = "") -> ScriptSource:
    """The code a `python`/`javascript` check's value names; CheckError when it names none."""
    if not isinstance(value, str) or not value.strip():
        raise CheckError(f"{prefix}needs code or file://path as its value")
    if not value.startswith(FILE_PREFIX):
        return ScriptSource(kind, code=value)
    reference = value[len(FILE_PREFIX) :].strip()
    path, _, function = reference.partition(":")
    # A Windows drive letter ("C:/x.py") is part of the path, not a function name.
    if len(path) == 1 and path.isalpha() and function:
        drive_rest, _, function = function.partition(":")
        path = f"{path}:{drive_rest}"
    suffixes = SCRIPT_SUFFIXES[kind]
    if not path.endswith(suffixes):
        raise CheckError(f"{prefix}a {kind} file must end in {' or '.join(suffixes)}: {path!r}")
    if function and not function.replace("_", "a").replace(".", "a").isalnum():
        raise CheckError(f"{prefix}{function!r} is not a function name")
    return ScriptSource(kind, path=path, function=function)


def inline_python(code: str) -> str:
    """The module text promptfoo builds around inline Python: a one-line expression is
    returned; several lines are the body of `main(output, context)`, indented as written."""
    if "\n" not in code:
        return f"import json\n\ndef main(output, context):\n    return {code}\n"
    indent = "    "
    for line in code.split("\n"):
        stripped = line.lstrip()
        if stripped and len(line) > len(stripped):
            indent = line[: len(line) - len(stripped)]
            break
    body = "\n".join(f"{indent}{line}" for line in code.split("\n"))
    return f"import json\n\ndef main(output, context):\n{body}\n"


def _last_statement_semicolon(code: str) -> int:
    quote = ""
    last = -1
    for index, char in enumerate(code):
        if quote:
            if char == quote and code[index - 1] != "\\":
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == ";":
            last = index
    return last


def inline_javascript(code: str) -> str:
    """The function body promptfoo builds from inline JavaScript: several lines are a body as
    written; one line is an expression to return, or declarations then one (`const s = ...;
    s > 1`)."""
    code = code.rstrip()
    if "\n" in code:
        return code
    trimmed = code.strip().rstrip(";").rstrip()
    if trimmed.split(" ", 1)[0] in ("const", "let", "var"):
        last = _last_statement_semicolon(trimmed)
        if last != -1 and trimmed[last + 1 :].strip():
            return f"{trimmed[: last + 1]} return {trimmed[last + 1 :].strip()}"
        return trimmed
    return f"return {trimmed}"


@dataclass(frozen=True)
class ScriptOutcome:
    passed: bool
    score: float
    reason: str


def _is_grading_result(value: Mapping[str, object]) -> bool:
    return (
        isinstance(value.get("pass"), bool)
        and isinstance(value.get("score"), int | float)
        and not isinstance(value.get("score"), bool)
        and isinstance(value.get("reason"), str)
    )


def _camel(value: Mapping[str, object]) -> dict[str, object]:
    renamed = {
        "pass_": "pass",
        "named_scores": "namedScores",
        "component_results": "componentResults",
    }
    return {renamed.get(key, key): item for key, item in value.items()}


def script_outcome(
    answer: object, *, threshold: float | None, negate: bool, label: str
) -> ScriptOutcome:
    """promptfoo's reading of what a python/javascript check's code returned. `label` names the
    code in reasons ("Python code"). ScriptAnswerError for an answer that is no verdict."""
    if isinstance(answer, str):
        lowered = answer.strip().lower()
        if lowered in ("true", "false"):
            answer = lowered == "true"
        elif answer.lstrip().startswith("{"):
            try:
                answer = json.loads(answer)
            except ValueError as error:
                raise ScriptAnswerError(f"invalid JSON {answer[:80]!r}: {error}") from None
    if isinstance(answer, bool):
        passed = answer != negate
        return ScriptOutcome(
            passed, float(passed), "passed" if passed else f"{label} returned {str(answer).lower()}"
        )
    if isinstance(answer, Mapping):
        result = _camel(answer)
        if not _is_grading_result(result):
            shown = json.dumps(answer, default=str)[:200]
            raise ScriptAnswerError(
                f"must return a boolean, a number or {{pass, score, reason}}, got {shown}"
            )
        raw_pass, score = bool(result["pass"]), float(result["score"])  # type: ignore[arg-type]
        reason = str(result["reason"])
        if threshold is not None and score < threshold:
            raw_pass = False
            reason = f"score {score:g} is less than threshold {threshold:g}" + (
                f": {reason}" if reason else ""
            )
        passed = raw_pass != negate
        if passed != raw_pass:
            reason = "passed" if passed else f"{label} returned {str(raw_pass).lower()}"
        return ScriptOutcome(passed, score, reason)
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        score = float(answer)
    else:
        try:
            score = float(str(answer))
        except ValueError:
            score = math.nan
    if math.isnan(score):
        raise ScriptAnswerError(
            f"must return a boolean, a number or {{pass, score, reason}}, got {str(answer)[:200]!r}"
        )
    raw_pass = score > 0 if threshold is None else score >= threshold
    passed = raw_pass != negate
    return ScriptOutcome(
        passed,
        score,
        "passed" if passed else f"{label} returned {str(raw_pass).lower()} (score {score:g})",
    )
