"""The demo's plain records and its clock. Prompt versions and runs are referenced by name,
number and key rather than by id: ids are the store's business."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from llmbench.core.costs.pricing import DatedPrice
from llmbench.core.models import Variable

VersionRef = tuple[str, int]  # (prompt name, version number)
Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class DemoVersion:
    number: int
    sections: dict[str, str]
    variables: tuple[Variable, ...]
    model: str
    params: dict[str, Any]
    author: str
    message: str
    created_at: str
    parent: int | None
    cacheable: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoLabelMove:
    label: str
    to_version: int
    moved_by: str
    moved_at: str


@dataclass(frozen=True)
class DemoNote:
    kind: str
    text: str
    version: int | None
    author: str
    created_at: str


@dataclass(frozen=True)
class DemoPrompt:
    name: str
    description: str
    tags: tuple[str, ...]
    created_at: str
    versions: tuple[DemoVersion, ...]
    label_moves: tuple[DemoLabelMove, ...]  # in time order; the last per label is current
    notes: tuple[DemoNote, ...]


@dataclass(frozen=True)
class DemoCase:
    vars: dict[str, str]
    expected: str
    tags: dict[str, str]
    source: str
    created_at: str


@dataclass(frozen=True)
class DemoDataset:
    name: str
    description: str
    created_at: str
    cases: tuple[DemoCase, ...]


@dataclass(frozen=True)
class DemoCheck:
    kind: str
    passed: bool
    score: float
    detail: str


@dataclass(frozen=True)
class DemoResult:
    version: int
    model: str
    case_index: int
    request_id: str  # of the run's call that produced it
    output: str
    status: str
    score: float
    checks: tuple[DemoCheck, ...]
    created_at: str


@dataclass(frozen=True)
class RunSetup:
    """What a comparison run compares: versions of one prompt × models, on one dataset."""

    key: str
    name: str
    prompt: str
    dataset: str
    versions: tuple[int, ...]
    models: tuple[str, ...]


@dataclass(frozen=True)
class DemoRun(RunSetup):
    config: dict[str, Any]
    created_at: str
    finished_at: str
    results: tuple[DemoResult, ...]


@dataclass(frozen=True)
class DemoRubric:
    name: str
    description: str
    dimensions: tuple[dict[str, Any], ...]
    created_at: str


@dataclass(frozen=True)
class DemoGrade:
    run_key: str
    result_index: int
    reviewer: str
    scores: dict[str, int]
    verdict: str
    note: str
    seconds: float
    created_at: str


@dataclass(frozen=True)
class DemoSpike:
    """Where the demo's cost incident is, so tests and docs can point at it."""

    customer: str
    feature: str
    model: str
    start: str
    hours: int
    calls: int


@dataclass(frozen=True)
class DemoContent:
    now: str
    prices: tuple[tuple[DatedPrice, str], ...]  # (dated price, source)
    prompts: tuple[DemoPrompt, ...]
    datasets: tuple[DemoDataset, ...]
    runs: tuple[DemoRun, ...]
    rubric: DemoRubric
    grades: tuple[DemoGrade, ...]
    # Audit-log rows in time order: `calls` columns, plus "prompt_version" (a VersionRef or
    # None) and "run" (a run key or None) for the writer to resolve into ids.
    calls: list[dict[str, Any]] = field(repr=False)
    spike: DemoSpike | None = None


def iso_ms(moment: datetime) -> str:
    """'2026-11-27T13:45:12.123Z': ISO-8601 UTC with milliseconds, sortable as text."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_from_ms(epoch_ms: int) -> str:
    seconds, millis = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def default_now() -> datetime:
    """The current minute: the demo's days end "today", at the moment it is built."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


class DemoClock:
    """The demo's window, [now - days, now). Story dates are written on a 30-day scale and
    stretched to the window, so a shorter demo keeps the same order of events."""

    def __init__(self, now: datetime, days: int) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now = now.astimezone(UTC)
        self.days = days
        self.start = self.now - timedelta(days=days)
        self.start_ms = round(self.start.timestamp() * 1000)
        self.end_ms = round(self.now.timestamp() * 1000)

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days * self.days / 30)

    def ago_iso(self, days: float) -> str:
        return iso_ms(self.ago(days))
