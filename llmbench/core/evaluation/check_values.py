"""Strict readers of a check's fields (flags, numbers, text, phrase lists, length bounds, PII
kinds, patterns): parsing uses them to refuse a spec that cannot run, and the check
functions to read the same fields back. Each raises CheckError saying what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

from llmbench.core.evaluation.check_spec import LENGTH_UNITS, PII_KINDS, CheckError, thaw


def type_name(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def as_boolean(value: object, name: str, prefix: str) -> bool:
    if not isinstance(value, bool):
        raise CheckError(f"{prefix}{name} must be true or false, got {type_name(value)}")
    return value


def as_number(value: object, name: str, prefix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CheckError(f"{prefix}{name} must be a number, got {type_name(value)}")
    if not math.isfinite(value):
        raise CheckError(f"{prefix}{name} must be a finite number")
    return float(value)


def as_text(value: object, prefix: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or value == "":
        raise CheckError(f"{prefix}needs a non-empty text value, got {type_name(value)}")
    return value


def as_phrases(value: object, prefix: str) -> tuple[str, ...]:
    # promptfoo writes a list, or one string with commas between the phrases.
    if isinstance(value, str):
        items: Sequence[object] = [part.strip() for part in value.split(",")]
    elif isinstance(value, Sequence):
        items = value
    else:
        raise CheckError(f"{prefix}needs a list of phrases, got {type_name(value)}")
    phrases = tuple(as_text(item, prefix) for item in items)
    if not phrases:
        raise CheckError(f"{prefix}needs at least one phrase")
    return phrases


def compile_pattern(pattern: str, ignore_case: bool, prefix: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise CheckError(f"{prefix}bad regular expression: {error}") from None


def length_bounds(options: Mapping[str, object], prefix: str) -> tuple[int | None, int | None]:
    bounds = []
    for name in ("min", "max"):
        bound = options.get(name)
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise CheckError(f"{prefix}{name} must be a whole number, got {type_name(bound)}")
        if bound is not None and bound < 0:
            raise CheckError(f"{prefix}{name} must be 0 or more")
        bounds.append(bound)
    low, high = bounds
    if low is None and high is None:
        raise CheckError(f"{prefix}needs min, max or both")
    if low is not None and high is not None and low > high:
        raise CheckError(f"{prefix}min ({low}) is above max ({high})")
    unit = options.get("unit", "chars")
    if unit not in LENGTH_UNITS:
        raise CheckError(f"{prefix}unit must be chars or tokens, got {unit!r}")
    model = options.get("model")
    if model is not None and not isinstance(model, str):
        raise CheckError(f"{prefix}model must be a model name")
    return low, high


def pii_kinds(value: object, prefix: str) -> tuple[str, ...]:
    if value is None:
        return PII_KINDS
    kinds = (value,) if isinstance(value, str) else value
    if not isinstance(kinds, Sequence) or not kinds:
        raise CheckError(f"{prefix}kinds must be a list of {', '.join(PII_KINDS)}")
    for kind in kinds:
        if kind not in PII_KINDS:
            raise CheckError(f"{prefix}unknown PII kind {kind!r} (known: {', '.join(PII_KINDS)})")
    return tuple(kinds)


def json_text(value: object, prefix: str) -> str:
    try:
        return json.dumps(thaw(value), sort_keys=True)
    except (TypeError, ValueError) as error:
        raise CheckError(f"{prefix}value is not JSON data: {error}") from None


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text
