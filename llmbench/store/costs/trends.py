"""What the cost trends read: answered calls by prompt and completion size, and cost per day."""

from __future__ import annotations

from sqlite_utils import Database

TOKEN_EDGES = tuple(2**power for power in range(0, 21))  # 1 … 1,048,576 tokens


def _bucket(column: str) -> str:
    """The index of the power-of-two bucket `column` falls in, in plain SQL (no math
    functions, which not every SQLite build has)."""
    cases = " ".join(f"WHEN {column} < {edge} THEN {index}" for index, edge in
                     enumerate(TOKEN_EDGES[1:]))  # fmt: skip
    return f"CASE WHEN {column} <= 0 THEN -1 {cases} ELSE {len(TOKEN_EDGES) - 1} END"


def token_buckets(db: Database, since: str, until: str) -> list[tuple[int, int, int]]:
    """(prompt bucket, completion bucket, calls) over answered calls in the window; bucket i
    holds [2**i, 2**(i+1)) tokens, -1 holds none."""
    rows = db.execute(
        f"SELECT {_bucket('prompt_tokens')} AS pb, {_bucket('completion_tokens')} AS cb,"
        " count(*) FROM calls WHERE ts >= ? AND ts < ? AND status = 'ok' GROUP BY pb, cb",
        [since, until],
    ).fetchall()
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def cost_by_day(db: Database, since: str, until: str) -> dict[str, float]:
    rows = db.execute(
        "SELECT substr(ts, 1, 10) AS day, coalesce(sum(cost), 0) FROM calls"
        " WHERE ts >= ? AND ts < ? GROUP BY day",
        [since, until],
    ).fetchall()
    return {day: float(cost) for day, cost in rows}
