"""Reads and writes behind production consistency: a prompt's production calls of a window
(query and answer text), and the measured days of `consistency_daily` (m016)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.store.timestamps import utc_now


@dataclass(frozen=True)
class ProductionExchange:
    id: int
    ts: str
    messages: str | None
    """The request's messages as stored (JSON), None once purged."""
    response: str


def production_exchanges(
    db: Database, prompt_name: str, since: str, until: str
) -> list[ProductionExchange]:
    """Successful production calls (not made by a run) of any version of a prompt in the
    window whose bodies are still there, in time order. (The unary `+`s keep SQLite on the
    `calls_version_ts` index: the status and run indexes would walk every prompt's calls.)"""
    rows = db.execute(
        """
        SELECT c.id, c.ts, c.messages, c.response
        FROM calls c
        WHERE c.prompt_version_id IN (
                SELECT v.id FROM prompt_versions v JOIN prompts p ON p.id = v.prompt_id
                WHERE p.name = ?
            )
          AND c.ts >= ? AND c.ts < ? AND +c.status = 'ok' AND +c.run_id IS NULL
          AND c.response IS NOT NULL AND c.purged_at IS NULL
        ORDER BY c.ts, c.id
        """,
        [prompt_name, since, until],
    ).fetchall()
    return [ProductionExchange(*row) for row in rows]


def production_prompts(db: Database, since: str, until: str) -> list[str]:
    """Names of the prompts with production calls in the window, from the daily rollup."""
    rows = db.execute(
        """
        SELECT DISTINCT p.name FROM rollup_daily r
        JOIN prompt_versions v ON v.id = r.prompt_version_id
        JOIN prompts p ON p.id = v.prompt_id
        WHERE r.day >= substr(?, 1, 10) AND r.day <= substr(?, 1, 10)
        ORDER BY p.name
        """,
        [since, until],
    ).fetchall()
    return [row[0] for row in rows]


def prompt_id(db: Database, name: str) -> int | None:
    row = db.execute("SELECT id FROM prompts WHERE name = ?", [name]).fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True)
class ConsistencyDay:
    prompt: str
    day: str
    calls: int
    pairs: int
    divergent: int
    query_threshold: float
    answer_threshold: float
    examples: tuple[tuple[int, int], ...]

    @property
    def share(self) -> float | None:
        return self.divergent / self.pairs if self.pairs else None


def save_days(
    db: Database, prompt: int, days: Iterable[ConsistencyDay], computed_at: str | None = None
) -> int:
    """Store (or replace) measured days of one prompt; returns how many."""
    now = computed_at or utc_now()
    rows = [
        (
            prompt,
            day.day,
            day.calls,
            day.pairs,
            day.divergent,
            day.query_threshold,
            day.answer_threshold,
            json.dumps([list(pair) for pair in day.examples]),
            now,
        )
        for day in days
    ]
    db.conn.executemany(
        "INSERT OR REPLACE INTO consistency_daily (prompt_id, day, calls, pairs, divergent,"
        " query_threshold, answer_threshold, examples, computed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def consistency_days(db: Database, first_day: str, last_day: str) -> list[ConsistencyDay]:
    """Every measured day from first_day to last_day (inclusive), by prompt, oldest first."""
    rows = db.execute(
        """
        SELECT p.name, d.day, d.calls, d.pairs, d.divergent, d.query_threshold,
               d.answer_threshold, d.examples
        FROM consistency_daily d JOIN prompts p ON p.id = d.prompt_id
        WHERE d.day >= ? AND d.day <= ?
        ORDER BY p.name, d.day
        """,
        [first_day, last_day],
    ).fetchall()
    return [
        ConsistencyDay(*row[:7], examples=tuple((int(a), int(b)) for a, b in json.loads(row[7])))
        for row in rows
    ]
