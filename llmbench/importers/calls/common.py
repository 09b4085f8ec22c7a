"""What every importer of other tools' calls shares: a row with where it came from, the
error that names the file and line, and timestamp parsing into the store's format."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from llmbench.importers.bounds import integer_problem

MAX_REPORTED = 20


@dataclass(frozen=True)
class ImportProblem:
    where: str  # 'logs.jsonl:12' or 'logs.db responses row 3'
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class CallImportError(ValueError):
    """The source has rows that cannot be read; nothing was written."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        shown = "\n".join(str(problem) for problem in problems[:MAX_REPORTED])
        more = len(problems) - MAX_REPORTED
        tail = f"\n… and {more} more" if more > 0 else ""
        super().__init__(
            f"{len(problems)} bad row{'s' if len(problems) != 1 else ''}:\n{shown}{tail}"
        )


@dataclass
class ParsedCalls:
    """Calls ready for the audit log (without cost: the service prices them), in source order."""

    source: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


CallOrProblem = dict[str, Any] | ImportProblem


def to_store_time(value: Any) -> str:
    """ISO text (with or without zone), or Unix seconds, as '2025-06-01T12:00:00.000Z'.
    Raises ValueError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError):
            raise ValueError(f"time out of range: {value!r}") from None
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    else:
        raise ValueError(f"no time in {value!r}")
    return moment.replace(tzinfo=None).isoformat(sep="T", timespec="milliseconds") + "Z"


def tokens(value: Any, name: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a count: {_shown(value)}")
    try:
        # An int as it is: float() would round 2**63 down to a storable 9.2e18.
        number = value if isinstance(value, int) else int(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} is not a count: {_shown(value)}") from None
    if problem := integer_problem(number, name):
        raise ValueError(problem)
    if number < 0:
        raise ValueError(f"{name} is negative: {number}")
    return number


def finite_number(value: Any, name: str) -> float | None:
    """A finite number as a float (None stays None); ValueError for anything else, including
    numbers too large for a float and the NaN and Infinity that JSON readers accept."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a number: {_shown(value)}")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} is not a number: {_shown(value)}") from None
    if not math.isfinite(result):
        raise ValueError(f"{name} is not a finite number: {_shown(value)}")
    return result


def _shown(value: Any) -> str:
    """A value for a problem's message, cut short (a bad field may be megabytes long)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def messages_json(system: str | None, prompt: str | None) -> str | None:
    for name, value in (("system", system), ("prompt", prompt)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} is not text: {type(value).__name__}")
    messages = []
    if system:
        messages.append({"role": "system", "content": system})
    if prompt is not None:
        messages.append({"role": "user", "content": prompt})
    return json.dumps(messages) if messages else None
