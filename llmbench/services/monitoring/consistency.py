"""`llmbench monitor consistency`: measure, per prompt and UTC day, the share of similar
production queries whose answers diverge (`core/monitoring/consistency.py`), and keep each day
in `consistency_daily`, where F7's series and drift detection read it.

Each day is read and compared on its own (a day of 20,000 calls is a few seconds, and memory
holds one day's bodies, not a month's). A day measured again replaces its row: today's grows
as its calls come in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from llmbench.core.monitoring.consistency import (
    ConsistencySettings,
    DayConsistency,
    Exchange,
    compare_day,
)
from llmbench.store import consistency as consistency_repo
from llmbench.store.consistency import ConsistencyDay
from llmbench.store.db import Store
from llmbench.store.views import to_iso


class ConsistencyError(ValueError):
    """Nothing to measure as asked; the message says why."""


def query_text(messages: str | None) -> str:
    """What the user asked: the text of the last user message (the request's messages as
    stored, JSON); '' when there is none."""
    if not messages:
        return ""
    try:
        parsed = json.loads(messages)
    except ValueError:
        return ""
    if not isinstance(parsed, list):
        return ""
    for message in reversed(parsed):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(
                    str(part.get("text", ""))
                    for part in content
                    if isinstance(part, dict) and part.get("type") == "text"
                )
            return content if isinstance(content, str) else ""
    return ""


@dataclass(frozen=True)
class PromptConsistency:
    prompt: str
    days: list[ConsistencyDay]

    @property
    def pairs(self) -> int:
        return sum(day.pairs for day in self.days)

    @property
    def divergent(self) -> int:
        return sum(day.divergent for day in self.days)


def _days(end: datetime, days: int) -> list[str]:
    """The last `days` UTC days of the window ending at `end` (exclusive): end's own day when
    it is under way, the day before when `end` is midnight."""
    last = (end - timedelta(microseconds=1)).date()
    return [(last - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def _bounds(day: str, end: datetime) -> tuple[str, str]:
    start = datetime.combine(date.fromisoformat(day), time(), UTC)
    return to_iso(start), to_iso(min(start + timedelta(days=1), end))


def measure_day(
    store: Store, prompt: str, day: str, end: datetime, settings: ConsistencySettings
) -> DayConsistency:
    since, until = _bounds(day, end)
    calls = consistency_repo.production_exchanges(store.read(), prompt, since, until)
    exchanges = [Exchange(call.id, query_text(call.messages), call.response) for call in calls]
    figure, _pairs = compare_day(exchanges, settings)
    return figure


def measure_consistency(
    store: Store,
    *,
    prompt: str | None = None,
    days: int = 7,
    now: datetime | None = None,
    settings: ConsistencySettings | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> list[PromptConsistency]:
    """Measure the last `days` days of one prompt (every prompt with calls when None), store
    them and return them. `progress(prompt, day)` is told before each day is read."""
    settings = settings or ConsistencySettings()
    end = now if now is not None else datetime.now(UTC)
    labels = _days(end, days)
    db = store.read()
    if prompt is None:
        prompts = consistency_repo.production_prompts(db, f"{labels[0]}T00:00:00Z", to_iso(end))
    else:
        if consistency_repo.prompt_id(db, prompt) is None:
            raise ConsistencyError(f"no prompt named {prompt!r}")
        prompts = [prompt]
    measured = []
    for name in prompts:
        prompt_id = consistency_repo.prompt_id(db, name)
        if prompt_id is None:
            continue
        found = []
        for day in labels:
            if progress:
                progress(name, day)
            figure = measure_day(store, name, day, end, settings)
            if not figure.calls:
                continue
            found.append(
                ConsistencyDay(
                    prompt=name,
                    day=day,
                    calls=figure.calls,
                    pairs=figure.pairs,
                    divergent=figure.divergent,
                    query_threshold=settings.query_threshold,
                    answer_threshold=settings.answer_threshold,
                    examples=figure.examples,
                )
            )
        if found:
            store.write(
                lambda db, rows=found, key=prompt_id: consistency_repo.save_days(db, key, rows)
            )
        measured.append(PromptConsistency(name, found))
    return measured
