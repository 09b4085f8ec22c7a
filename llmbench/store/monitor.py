"""Reads behind the Monitor: the calls of a time window (all of them, or an even sample of a big
window), and daily quality signals from checks and user feedback.

A month of a busy log is a million rows whose bodies sit between the metadata columns; reading
every latency would read most of the file. Counting uses the `calls_ts` index alone, and a window
with more calls than `limit` is read as evenly spaced runs of call ids (ids ascend with time),
so the Monitor costs the same for a million calls as for twenty thousand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlite_utils import Database

from llmbench.store.views import to_iso

SAMPLE_COLUMNS = (
    "ts",
    "model",
    "status",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost",
)
# The columns above, then the call's time in whole seconds since the epoch (for bucketing).
CallFacts = tuple[str, str, str, float | None, float | None, int, int, float | None, int]
# A sample is read as runs of this many consecutive calls, evenly spaced: a run costs one
# B-tree descent and then neighbouring rows on the same pages, about half the cost per row of
# picking single calls, and a month still gets hundreds of runs.
SAMPLE_BLOCK = 50
_SELECT = ", ".join(f"c.[{column}]" for column in SAMPLE_COLUMNS) + ", unixepoch(c.ts)"


@dataclass(frozen=True)
class WindowCalls:
    total: int
    """Calls in the window, counted exactly."""
    exact: bool
    """True when every call of the window was read, False for a sample."""
    rows: list[CallFacts]


def has_calls(db: Database) -> bool:
    return db.execute("SELECT 1 FROM calls LIMIT 1").fetchone() is not None


def _count_calls(db: Database, since: str, until: str) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM calls INDEXED BY calls_ts WHERE ts >= ? AND ts < ?",
            [since, until],
        ).fetchone()[0]
    )


def _day_calls(db: Database, first_day: str, last_day: str) -> int:
    """Calls on the whole UTC days first_day … last_day, from the daily rollup."""
    row = db.execute(
        "SELECT coalesce(sum(calls), 0) FROM rollup_daily WHERE day >= ? AND day <= ?",
        [first_day, last_day],
    ).fetchone()
    return int(row[0])


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + _DAY).isoformat()


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - _DAY).isoformat()


_DAY = timedelta(days=1)
_HALF_DAY = timedelta(hours=12)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _count(db: Database, since: str, until: str) -> int:
    """Calls in [since, until), exactly: whole days from the daily rollup, and of each partial
    edge day the smaller half counted on the `calls_ts` index (a month's count then walks at
    most a day of index entries rather than all of them)."""
    start, end = _moment(since), _moment(until)
    first_day = start.date().isoformat()
    last_day = (end - timedelta(microseconds=1)).date().isoformat()
    if first_day >= last_day:
        return _count_calls(db, since, until)
    total = _day_calls(db, _day_after(first_day), _day_before(last_day))
    first_midnight = datetime.combine(start.date(), time(), UTC)
    if start - first_midnight <= _HALF_DAY:
        total += _day_calls(db, first_day, first_day)
        total -= _count_calls(db, to_iso(first_midnight), since)
    else:
        total += _count_calls(db, since, to_iso(first_midnight + _DAY))
    last_midnight = datetime.combine(date.fromisoformat(last_day), time(), UTC)
    if end - last_midnight >= _HALF_DAY:
        total += _day_calls(db, last_day, last_day)
        total -= _count_calls(db, until, to_iso(last_midnight + _DAY))
    else:
        total += _count_calls(db, to_iso(last_midnight), until)
    return total


def _edge_ids(db: Database, since: str, until: str) -> tuple[int, int]:
    """The ids of the window's first and last call by time (two index probes), in id order."""
    first = db.execute(
        "SELECT id FROM calls INDEXED BY calls_ts WHERE ts >= ? AND ts < ? ORDER BY ts LIMIT 1",
        [since, until],
    ).fetchone()[0]
    last = db.execute(
        "SELECT id FROM calls INDEXED BY calls_ts WHERE ts >= ? AND ts < ?"
        " ORDER BY ts DESC LIMIT 1",
        [since, until],
    ).fetchone()[0]
    return min(first, last), max(first, last)


def _id_bounds(db: Database, since: str, until: str) -> tuple[int, int]:
    """The window's lowest and highest id, wherever they are: a walk of the whole index range,
    three times the cost of counting it."""
    row = db.execute(
        "SELECT min(id), max(id) FROM calls INDEXED BY calls_ts WHERE ts >= ? AND ts < ?",
        [since, until],
    ).fetchone()
    return int(row[0]), int(row[1])


# Reading at most this many times `limit` rows to find a sample: when the window's calls are
# thinly spread among others (a log imported after newer calls), the sample gets smaller
# rather than the read slower.
_MAX_READ_FACTOR = 10


def _sample(
    db: Database, since: str, until: str, ids: tuple[int, int], total: int, limit: int
) -> tuple[list[CallFacts], int]:
    """Runs of SAMPLE_BLOCK consecutive ids spread evenly over `ids`, enough of them to find
    about `limit` of the window's `total` calls; returns the window's calls among them and how
    many ids the runs covered."""
    low, high = ids
    span = high - low + 1
    density = min(total / span, 1.0)
    blocks = min(
        math.ceil(limit / (SAMPLE_BLOCK * density)),
        math.ceil(_MAX_READ_FACTOR * limit / SAMPLE_BLOCK),
        math.ceil(span / SAMPLE_BLOCK),
    )
    step = max(span // blocks, SAMPLE_BLOCK)
    rows = db.execute(
        f"""
        WITH RECURSIVE starts(id) AS (
            SELECT :low UNION ALL SELECT id + :step FROM starts WHERE id + :step <= :high
        )
        SELECT {_SELECT} FROM starts
        JOIN calls c ON c.id >= starts.id AND c.id < starts.id + :block AND c.id <= :high
        WHERE c.ts >= :since AND c.ts < :until
        """,
        {
            "low": low,
            "high": high,
            "step": step,
            "block": SAMPLE_BLOCK,
            "since": since,
            "until": until,
        },
    ).fetchall()
    covered = sum(min(SAMPLE_BLOCK, high - start + 1) for start in range(low, high + 1, step))
    return rows, covered


def window_calls(db: Database, since: str, until: str, limit: int) -> WindowCalls:
    """The facts of every call in [since, until), or of an even sample of about `limit`."""
    total = _count(db, since, until)
    if total <= limit:
        rows = db.execute(
            f"SELECT {_SELECT} FROM calls c INDEXED BY calls_ts WHERE c.ts >= ? AND c.ts < ?",
            [since, until],
        ).fetchall()
        return WindowCalls(total, True, rows)
    # Calls are appended as they happen, so the window's calls are (nearly always) the ids from
    # its first call to its last. When the sample finds fewer of them there than that implies
    # (a log imported after newer calls interleaves), the true id bounds are looked up.
    ids = _edge_ids(db, since, until)
    rows, covered = _sample(db, since, until, ids, total, limit)
    expected = covered * total / (ids[1] - ids[0] + 1)
    if total > ids[1] - ids[0] + 1 or len(rows) < 0.9 * expected:
        ids = _id_bounds(db, since, until)
        rows, _covered = _sample(db, since, until, ids, total, limit)
    return WindowCalls(total, False, rows)


@dataclass(frozen=True)
class DailyChecks:
    day: str
    checks: int
    passed: int


def daily_checks(db: Database, since: str, until: str) -> list[DailyChecks]:
    """Pass counts of the checks run on calls of each UTC day: checks on production calls, and
    checks on eval results through the call that produced them."""
    rows = db.execute(
        """
        SELECT substr(c.ts, 1, 10) AS day, count(k.passed), coalesce(sum(k.passed), 0)
        FROM checks k
        LEFT JOIN results r ON r.id = k.result_id
        JOIN calls c ON c.id = coalesce(k.call_id, r.call_id)
        WHERE c.ts >= ? AND c.ts < ?
        GROUP BY day ORDER BY day
        """,
        [since, until],
    ).fetchall()
    return [DailyChecks(*row) for row in rows]


@dataclass(frozen=True)
class DailyFeedback:
    day: str
    kind: str
    count: int
    positive: int
    mean: float | None


def daily_feedback(db: Database, since: str, until: str) -> list[DailyFeedback]:
    """Thumbs (positive = up) and ratings per UTC day of the call they are about. (The unary
    `+` keeps SQLite from walking a month of calls by time to find the few with feedback.)"""
    rows = db.execute(
        """
        SELECT substr(c.ts, 1, 10) AS day, f.kind, count(*), coalesce(sum(f.value > 0), 0),
               avg(f.value)
        FROM feedback f JOIN calls c ON c.id = f.call_id
        WHERE +c.ts >= ? AND +c.ts < ? AND f.kind IN ('thumbs', 'rating')
        GROUP BY day, f.kind ORDER BY day, f.kind
        """,
        [since, until],
    ).fetchall()
    return [DailyFeedback(*row) for row in rows]


@dataclass(frozen=True)
class ProductionCall:
    id: int
    request_id: str
    model: str
    response: str
    latency_ms: float | None
    cost: float | None
    messages: str | None
    """The request's messages as stored (JSON): what a judge is shown as the input."""


def unchecked_production_calls(
    db: Database, prompt_name: str, since: str, until: str
) -> list[ProductionCall]:
    """Successful production calls (not made by a run) of any version of a prompt, in the
    window, whose bodies are still there and that no check has looked at yet."""
    rows = db.execute(
        """
        SELECT c.id, c.request_id, c.model, c.response, c.latency_ms, c.cost, c.messages
        FROM calls c
        JOIN prompt_versions v ON v.id = c.prompt_version_id
        JOIN prompts p ON p.id = v.prompt_id
        WHERE p.name = ? AND c.ts >= ? AND c.ts < ? AND c.status = 'ok' AND c.run_id IS NULL
          AND c.response IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM checks k WHERE k.call_id = c.id)
        ORDER BY c.id
        """,
        [prompt_name, since, until],
    ).fetchall()
    return [ProductionCall(*row) for row in rows]


@dataclass(frozen=True)
class DailyJudge:
    day: str
    judged: int
    """Judge verdicts on production calls of the day (checks of kind 'judge' with a score)."""
    mean_score: float | None
    """Their mean score, each 0..1 (the judge's dimensions scaled and averaged)."""
    failures: int
    """Judge checks that could not run (the judge failed): recorded, with no score."""


def daily_judge_scores(db: Database, since: str, until: str) -> list[DailyJudge]:
    """Judge verdicts on production calls (not eval results) per UTC day of the call."""
    rows = db.execute(
        """
        SELECT substr(c.ts, 1, 10) AS day, count(k.score), avg(k.score),
               coalesce(sum(k.score IS NULL), 0)
        FROM checks k JOIN calls c ON c.id = k.call_id
        WHERE k.kind = 'judge' AND k.call_id IS NOT NULL AND k.result_id IS NULL
          AND +c.ts >= ? AND +c.ts < ?
        GROUP BY day ORDER BY day
        """,
        [since, until],
    ).fetchall()
    return [DailyJudge(*row) for row in rows]
