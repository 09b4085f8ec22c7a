"""The demo's answer consistency: a week in which support-reply deflected a share of the tickets
it usually answers (a retrieval outage, 8 to 2 days before the demo's now), then each prompt's
days measured as `llmbench monitor consistency` measures them, so F7 shows the series with its
bump from the first look.

Runs on the generated rows before they are sealed (an answer is never changed afterwards), a
slice of the month at a time; the days are stored in the build's one transaction, once the
prompts are written (the days name their prompt)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from llmbench.core.monitoring.consistency import ConsistencySettings, Exchange, compare_day
from llmbench.services.monitoring.consistency import query_text
from llmbench.store import consistency as consistency_repo
from llmbench.store.consistency import ConsistencyDay

if TYPE_CHECKING:
    from llmbench.store.db import Database

PROMPT = "support-reply"
DEFLECTION = (
    "I'm sorry, I can't look into this here. Please open the Help Center chat and a specialist "
    "will pick it up."
)
OUTAGE_DAYS = (8, 2)  # from 8 days before now until 2 days before
DEFLECTED_SHARE = 0.18


# A day's exchanges of one prompt measured at most, an even sample of them (reservoir): a large
# demo has tens of thousands a day, and comparing neighbours costs more than linear (0.03 s for
# 400, 0.27 s for 1,600), while the day's figure is a share, which a few hundred measure. Every
# demo drawn in one slice has fewer (at most about 330 at 25,000 calls): it keeps them all.
MAX_EXCHANGES_PER_DAY = 400


class Consistency:
    """The outage's deflections and each prompt's consistency days, over the month's calls as
    they are generated (in time order, a slice at a time), before they are sealed."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(f"{seed}:consistency")
        start, end = (now - timedelta(days=days) for days in OUTAGE_DAYS)
        self.outage = start.strftime("%Y-%m-%dT%H:%M:%S"), end.strftime("%Y-%m-%dT%H:%M:%S")
        self.position = 0  # of the next call in the month: stands in for the id it will get
        self.open: dict[tuple[str, str], list[Exchange]] = defaultdict(list)
        self.seen: dict[tuple[str, str], int] = {}  # answers of an open day, sampled or not
        self.sample = random.Random(f"{seed}:consistency-sample")
        self.days: list[ConsistencyDay] = []
        self.settings = ConsistencySettings(examples=0)

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Deflect the outage's answers among `rows` (the calls after the last ones added) and
        keep their exchanges; measure the days that ended before them."""
        self._deflect(rows)
        for row in rows:
            position, self.position = self.position, self.position + 1
            reference = row.get("prompt_version")
            if reference is None or row.get("run") is not None or row.get("status") != "ok":
                continue
            if row.get("response") is None:
                continue
            key = (reference[0], row["ts"][:10])
            found, seen = self.open[key], self.seen.get(key, 0)
            self.seen[key] = seen + 1
            if seen < MAX_EXCHANGES_PER_DAY:
                found.append(Exchange(position, query_text(row.get("messages")), row["response"]))
            elif (slot := self.sample.randrange(seen + 1)) < MAX_EXCHANGES_PER_DAY:
                found[slot] = Exchange(position, query_text(row.get("messages")), row["response"])
        if rows:
            self._measure(before=rows[-1]["ts"][:10])  # later calls are of that day or after

    def _deflect(self, rows: list[dict[str, Any]]) -> None:
        """During the outage, a share of support-reply's plain answers (not the tool-using
        conversations) become the deflection."""
        first, last = self.outage
        for row in rows:
            reference = row.get("prompt_version")
            if (
                reference is not None
                and reference[0] == PROMPT
                and first <= row["ts"] < last
                and row.get("status") == "ok"
                and row.get("run") is None
                and row.get("response")
                and not row.get("tool_calls")
                and not row.get("conversation_id")
                and self.rng.random() < DEFLECTED_SHARE
            ):
                row["response"] = DEFLECTION

    def _measure(self, before: str | None = None) -> None:
        for key in sorted(self.open):
            prompt, day = key
            if before is not None and day >= before:
                continue
            self.seen.pop(key, None)
            figure, _pairs = compare_day(self.open.pop(key), self.settings)
            self.days.append(
                ConsistencyDay(
                    prompt=prompt,
                    day=day,
                    calls=figure.calls,
                    pairs=figure.pairs,
                    divergent=figure.divergent,
                    query_threshold=self.settings.query_threshold,
                    answer_threshold=self.settings.answer_threshold,
                    examples=(),
                )
            )

    def finish(self) -> list[ConsistencyDay]:
        """Measure the days still open; every day measured."""
        self._measure()
        return self.days


def save_days(db: Database, days: list[ConsistencyDay], computed_at: str) -> int:
    """Store every prompt's days; returns the days stored."""
    stored = 0
    for prompt in sorted({day.prompt for day in days}):
        prompt_id = consistency_repo.prompt_id(db, prompt)
        if prompt_id is None:
            continue
        found = sorted((day for day in days if day.prompt == prompt), key=_day)
        stored += consistency_repo.save_days(db, prompt_id, found, computed_at=computed_at)
    return stored


def _day(day: ConsistencyDay) -> str:
    return day.day
