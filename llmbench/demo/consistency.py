"""The demo's answer consistency: a week in which support-reply deflected a share of the tickets
it usually answers (a retrieval outage, 8 to 2 days before the demo's now), then each prompt's
days measured as `llmbench monitor consistency` measures them, so F7 shows the series with its
bump from the first look.

Runs on the generated rows before they are sealed (an answer is never changed afterwards), in
the build's one transaction, once the prompts are written (the days name their prompt)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from llmbench.core.monitoring.consistency import ConsistencySettings, Exchange, compare_day
from llmbench.demo.records import DemoContent
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


def _deflect(rows: list[dict[str, Any]], now: datetime, rng: random.Random) -> None:
    """During the outage, a share of support-reply's plain answers (not the tool-using
    conversations) become the deflection."""
    start, end = (now - timedelta(days=days) for days in OUTAGE_DAYS)
    first, last = start.strftime("%Y-%m-%dT%H:%M:%S"), end.strftime("%Y-%m-%dT%H:%M:%S")
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
            and rng.random() < DEFLECTED_SHARE
        ):
            row["response"] = DEFLECTION


def add_consistency(db: Database, content: DemoContent, seed: int) -> int:
    """Deflect the outage's answers, measure every prompt's days and store them; returns the
    days stored."""
    now = datetime.fromisoformat(content.now.replace("Z", "+00:00"))
    _deflect(content.calls, now, random.Random(f"{seed}:consistency"))
    by_day: dict[tuple[str, str], list[Exchange]] = defaultdict(list)
    for index, row in enumerate(content.calls):
        reference = row.get("prompt_version")
        if reference is None or row.get("run") is not None or row.get("status") != "ok":
            continue
        if row.get("response") is None:
            continue
        # The rows have no ids yet: the position stands in (examples are not kept here).
        exchange = Exchange(index, query_text(row.get("messages")), row["response"])
        by_day[(reference[0], row["ts"][:10])].append(exchange)
    settings = ConsistencySettings(examples=0)
    stored = 0
    for prompt in sorted({prompt for prompt, _day in by_day}):
        prompt_id = consistency_repo.prompt_id(db, prompt)
        if prompt_id is None:
            continue
        days = []
        for (name, day), exchanges in sorted(by_day.items()):
            if name != prompt:
                continue
            figure, _pairs = compare_day(exchanges, settings)
            days.append(
                ConsistencyDay(
                    prompt=prompt,
                    day=day,
                    calls=figure.calls,
                    pairs=figure.pairs,
                    divergent=figure.divergent,
                    query_threshold=settings.query_threshold,
                    answer_threshold=settings.answer_threshold,
                    examples=(),
                )
            )
        stored += consistency_repo.save_days(db, prompt_id, days, computed_at=content.now)
    return stored
