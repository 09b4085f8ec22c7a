"""What a reviewer grades next: the candidate items of a rubric with what makes them urgent
(failed checks, user flags or low feedback, reviewers who disagree), and the bodies of the items
about to be shown.

Candidates of a rubric: every result (with an output) of the runs chosen for it (by default the
runs someone already graded against it, or the latest run for a rubric not used yet), calls
graded against it directly and, when asked, flagged or badly rated production calls and a
deterministic random share of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlite_utils import Database

LOW_FEEDBACK = (
    "(f.kind = 'thumbs' AND f.value < 0) OR (f.kind = 'rating' AND f.value <= 2)"
    " OR f.kind = 'retried'"
)


@dataclass(frozen=True)
class Candidate:
    kind: str  # "result" or "call"
    id: int
    model: str
    version_id: int | None
    version: str | None  # "support-reply v4"
    run_id: int | None
    case_id: int | None
    repeat: int
    failed_checks: bool
    flagged: bool  # a user flag on the call, or low feedback
    sampled: bool  # came in as part of the random share of production calls

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class ItemBody:
    kind: str
    id: int
    source: str  # the run's name, or "call #id"
    inputs: dict[str, object]
    expected: str | None
    output: str
    checks: tuple[tuple[str, bool, str], ...]  # (kind, passed, detail)
    guard_flags: tuple[str, ...] = ()  # "rule (action)" of each guard finding on its call

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


def candidates(
    db: Database,
    rubric_id: int,
    *,
    run_ids: Sequence[int] = (),
    production_share: float = 0.0,
    include_flagged_calls: bool = False,
    seed: int = 0,
) -> list[Candidate]:
    """The rubric's items in their natural order (run, result id; then calls by id).
    `production_share` (0-1) adds that share of successful production calls (calls outside
    runs), picked by a hash of id and seed, so the same seed picks the same calls."""
    runs_clause = (
        f"SELECT value FROM json_each('{json.dumps([int(r) for r in run_ids])}')"
        if run_ids
        else "SELECT DISTINCT res.run_id FROM grades g JOIN results res ON res.id = g.result_id"
        " WHERE g.rubric_id = :rubric"
        # A rubric nobody has graded a run with yet starts on the latest run.
        " UNION SELECT id FROM (SELECT id FROM runs ORDER BY created_at DESC, id DESC LIMIT 1)"
        " WHERE NOT EXISTS (SELECT 1 FROM grades g2"
        " WHERE g2.rubric_id = :rubric AND g2.result_id IS NOT NULL)"
    )
    permille = max(0, min(1000, round(production_share * 1000)))
    rows = db.execute(
        f"""
        WITH chosen_calls AS (
            SELECT call_id AS id, 0 AS sampled FROM grades
            WHERE rubric_id = :rubric AND call_id IS NOT NULL AND result_id IS NULL
            UNION ALL
            SELECT id, 0 FROM calls
            WHERE :flagged AND run_id IS NULL AND status = 'ok' AND (
                flagged = 1 OR id IN (SELECT f.call_id FROM feedback f WHERE {LOW_FEEDBACK}))
            UNION ALL
            SELECT id, 1 FROM calls
            WHERE :permille > 0 AND run_id IS NULL AND status = 'ok' AND response IS NOT NULL
              AND ((id * 2654435761 + :seed * 40503) % 1000003) % 1000 < :permille
        ),
        call_items AS (SELECT id, min(sampled) AS sampled FROM chosen_calls GROUP BY id)
        SELECT 'result', res.id, res.model, res.version_id,
               p.name || ' v' || v.version, res.run_id, res.case_id, res.repeat,
               EXISTS (SELECT 1 FROM checks k WHERE k.result_id = res.id AND k.passed = 0),
               coalesce((SELECT c.flagged FROM calls c WHERE c.id = res.call_id), 0)
               OR EXISTS (SELECT 1 FROM feedback f WHERE f.call_id = res.call_id
                          AND ({LOW_FEEDBACK})),
               0
        FROM results res
        LEFT JOIN prompt_versions v ON v.id = res.version_id
        LEFT JOIN prompts p ON p.id = v.prompt_id
        WHERE res.run_id IN ({runs_clause}) AND res.output IS NOT NULL
        UNION ALL
        SELECT 'call', c.id, c.model, c.prompt_version_id,
               p.name || ' v' || v.version, c.run_id, NULL, 0,
               EXISTS (SELECT 1 FROM checks k WHERE k.call_id = c.id AND k.passed = 0),
               c.flagged = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.call_id = c.id
                                        AND ({LOW_FEEDBACK})),
               ci.sampled
        FROM call_items ci JOIN calls c ON c.id = ci.id
        LEFT JOIN prompt_versions v ON v.id = c.prompt_version_id
        LEFT JOIN prompts p ON p.id = v.prompt_id
        ORDER BY 1 DESC, 6, 2
        """,
        {
            "rubric": rubric_id,
            "flagged": int(include_flagged_calls),
            "permille": permille,
            "seed": seed,
        },
    ).fetchall()
    return [
        Candidate(
            kind=row[0],
            id=row[1],
            model=row[2],
            version_id=row[3],
            version=row[4],
            run_id=row[5],
            case_id=row[6],
            repeat=row[7],
            failed_checks=bool(row[8]),
            flagged=bool(row[9]),
            sampled=bool(row[10]),
        )
        for row in rows
    ]


def judge_verdicts(db: Database, rubric_id: int) -> dict[str, bool]:
    """Verdicts of LLM judges ('judge' checks) on the rubric's graded items, by item key."""
    rows = db.execute(
        """
        SELECT CASE WHEN k.result_id IS NOT NULL THEN 'result:' || k.result_id
                    ELSE 'call:' || k.call_id END, min(k.passed)
        FROM checks k
        WHERE k.kind LIKE 'judge%' AND (
            k.result_id IN (SELECT result_id FROM grades WHERE rubric_id = :rubric)
            OR k.call_id IN (SELECT call_id FROM grades WHERE rubric_id = :rubric))
        GROUP BY 1
        """,
        {"rubric": rubric_id},
    ).fetchall()
    return {key: bool(passed) for key, passed in rows}


def item_bodies(db: Database, keys: Iterable[str]) -> dict[str, ItemBody]:
    """What the reviewer reads for each item ("result:12", "call:7"), in two queries."""
    wanted = list(keys)
    result_ids = [int(k.split(":")[1]) for k in wanted if k.startswith("result:")]
    call_ids = [int(k.split(":")[1]) for k in wanted if k.startswith("call:")]
    bodies: dict[str, ItemBody] = {}
    checks = _checks(db, result_ids, call_ids)
    if result_ids:
        for row in db.execute(
            f"""
            SELECT res.id, coalesce(nullif(r.name, ''), 'run ' || r.id), c.vars, c.expected,
                   coalesce(res.output, '')
            FROM results res
            JOIN runs r ON r.id = res.run_id
            LEFT JOIN cases c ON c.id = res.case_id
            WHERE res.id IN ({",".join("?" * len(result_ids))})
            """,
            result_ids,
        ).fetchall():
            key = f"result:{row[0]}"
            bodies[key] = ItemBody(
                kind="result",
                id=row[0],
                source=row[1],
                inputs=dict(json.loads(row[2])) if row[2] else {},
                expected=row[3],
                output=row[4],
                checks=checks.get(key, ()),
            )
    if call_ids:
        for row in db.execute(
            f"SELECT id, messages, coalesce(response, '') FROM calls"
            f" WHERE id IN ({','.join('?' * len(call_ids))})",
            call_ids,
        ).fetchall():
            key = f"call:{row[0]}"
            bodies[key] = ItemBody(
                kind="call",
                id=row[0],
                source=f"call #{row[0]}",
                inputs=last_user_message(row[1]),
                expected=None,
                output=row[2],
                checks=checks.get(key, ()),
            )
    for key, flags in _guard_flags(db, result_ids, call_ids).items():
        if key in bodies:
            bodies[key] = replace(bodies[key], guard_flags=flags)
    return bodies


def _guard_flags(
    db: Database, result_ids: Sequence[int], call_ids: Sequence[int]
) -> dict[str, tuple[str, ...]]:
    """What the guards found on each item's call, for flagged calls only."""
    found: dict[str, tuple[str, ...]] = {}
    queries = (
        ("result", result_ids, "SELECT res.id, c.guard_flags FROM results res"
         " JOIN calls c ON c.id = res.call_id WHERE c.flagged = 1 AND res.id IN ({})"),
        ("call", call_ids, "SELECT id, guard_flags FROM calls WHERE flagged = 1 AND id IN ({})"),
    )  # fmt: skip
    for kind, ids, sql in queries:
        if not ids:
            continue
        for item_id, flags_json in db.execute(sql.format(",".join("?" * len(ids))), list(ids)):
            found[f"{kind}:{item_id}"] = _flag_names(flags_json)
    return found


def _flag_names(flags_json: str | None) -> tuple[str, ...]:
    try:
        flags = json.loads(flags_json) if flags_json else []
    except json.JSONDecodeError:
        return ("unreadable guard flags",)
    names = []
    for flag in flags if isinstance(flags, list) else []:
        if isinstance(flag, dict):
            action = f" ({flag['action']})" if flag.get("action") else ""
            names.append(f"{flag.get('rule', '?')}{action}")
        else:
            names.append(str(flag))
    return tuple(dict.fromkeys(names))


def _checks(
    db: Database, result_ids: Sequence[int], call_ids: Sequence[int]
) -> dict[str, tuple[tuple[str, bool, str], ...]]:
    found: dict[str, list[tuple[str, bool, str]]] = {}
    for column, ids, kind in (("result_id", result_ids, "result"), ("call_id", call_ids, "call")):
        if not ids:
            continue
        for item_id, check_kind, passed, detail in db.execute(
            f"SELECT {column}, kind, passed, detail FROM checks"
            f" WHERE {column} IN ({','.join('?' * len(ids))}) AND passed IS NOT NULL ORDER BY id",
            list(ids),
        ).fetchall():
            found.setdefault(f"{kind}:{item_id}", []).append((check_kind, bool(passed), detail))
    return {key: tuple(value) for key, value in found.items()}


def last_user_message(messages_json: str | None) -> dict[str, object]:
    """A call's last user message, as the grading screen shows a call's input."""
    try:
        messages = json.loads(messages_json) if messages_json else []
    except json.JSONDecodeError:
        return {}
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return {"message": content if isinstance(content, str) else json.dumps(content)}
    return {}
