"""Running output transforms (core.evaluation.transform_spec says what they are) with the run's
script runner: JavaScript in QuickJS, Python files in the run's Python worker.

`apply_transform` gives the new output (text, or any JSON value the code returned: the next
transform and code checks get it as it is, other checks its JSON text), or raises
TransformFailed (the code raised, hung, returned nothing, or its file is missing: what it feeds
fails with this reason) or ScriptSkipped (no JavaScript engine here: what it feeds is skipped
and says so, as javascript checks are).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.check_spec import CheckError
from llmbench.core.evaluation.transform_spec import (
    TransformAnswerError,
    transform_label,
    transform_source,
    transformed_text,
)
from llmbench.services.evaluation.scripts import ScriptCall, ScriptError, ScriptRunner


class TransformFailed(Exception):
    """The transform gave no output to check; the message says which one and why."""


async def apply_transform(
    transform: str, output: object, context: Mapping[str, Any], runner: ScriptRunner
) -> object:
    """`output` put through `transform`, called as `transform(output, context)`; never None."""
    label = transform_label(transform)
    try:
        source = transform_source(transform)
    except CheckError as error:
        raise TransformFailed(f"{label}: {error}") from None
    if source.is_file and not Path(source.path).is_file():
        raise TransformFailed(f"{label}: no such file {source.path!r}")
    try:
        answer = await runner.run(ScriptCall(source, output, context))
        transformed_text(answer, label)  # refuses None, as promptfoo refuses null/undefined
        return answer
    except ScriptError as error:
        raise TransformFailed(f"transform failed ({label}): {error}") from None
    except TransformAnswerError as error:
        raise TransformFailed(str(error)) from None
