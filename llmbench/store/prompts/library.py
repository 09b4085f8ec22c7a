"""Read queries behind the Prompts pane: the searchable library, a prompt's version history
with per-version figures from the audit log and evaluations, its notes and label moves.

Every query is shaped for a library of thousands of prompts with tens of versions each: one
statement per list, indexed lookups per prompt, nothing that scans the audit log as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmbench.core.stats import nearest_rank

if TYPE_CHECKING:  # the TUI's first read (library) runs on a plain sqlite3 connection
    import sqlite3

    from sqlite_utils import Database

LABEL_PRODUCTION = "production"
LABEL_STAGING = "staging"


@dataclass(frozen=True)
class LibraryRow:
    id: int
    name: str
    description: str
    tags: tuple[str, ...]
    versions: int
    production: int | None
    staging: int | None
    latest_author: str
    latest_message: str
    updated_at: str
    notes: int
    haystack: str = field(default="", repr=False, compare=False)


def library(db: Database | sqlite3.Connection) -> list[LibraryRow]:
    """Every prompt, the most recently changed first, with the text a search looks through
    (name, description, tags and every note, lower-cased) in `haystack`."""
    rows = db.execute(
        """
        WITH latest AS (
            SELECT prompt_id, max(version) AS version FROM prompt_versions GROUP BY prompt_id
        ),
        labelled AS (
            SELECT l.prompt_id,
                   max(CASE WHEN l.label = ? THEN v.version END) AS production,
                   max(CASE WHEN l.label = ? THEN v.version END) AS staging
            FROM prompt_labels l JOIN prompt_versions v ON v.id = l.version_id
            GROUP BY l.prompt_id
        ),
        noted AS (
            SELECT prompt_id, count(*) AS notes, group_concat(text, char(10)) AS texts
            FROM prompt_notes GROUP BY prompt_id
        )
        SELECT p.id, p.name, p.description, p.tags, coalesce(v.version, 0),
               labelled.production, labelled.staging,
               coalesce(v.author, ''), coalesce(v.message, ''),
               coalesce(v.created_at, p.created_at), coalesce(noted.notes, 0),
               coalesce(noted.texts, '')
        FROM prompts p
        LEFT JOIN latest ON latest.prompt_id = p.id
        LEFT JOIN prompt_versions v ON v.prompt_id = p.id AND v.version = latest.version
        LEFT JOIN labelled ON labelled.prompt_id = p.id
        LEFT JOIN noted ON noted.prompt_id = p.id
        ORDER BY coalesce(v.created_at, p.created_at) DESC, p.name
        """,
        [LABEL_PRODUCTION, LABEL_STAGING],
    ).fetchall()
    library_rows = []
    for row in rows:
        tags = tuple(json.loads(row[3]))
        library_rows.append(
            LibraryRow(
                id=row[0],
                name=row[1],
                description=row[2],
                tags=tags,
                versions=row[4],
                production=row[5],
                staging=row[6],
                latest_author=row[7],
                latest_message=row[8],
                updated_at=row[9],
                notes=row[10],
                haystack="\n".join((row[1], row[2], *tags, row[11])).casefold(),
            )
        )
    return library_rows


def search(rows: Sequence[LibraryRow], query: str) -> list[LibraryRow]:
    """The rows whose name, description, tags or notes contain every word of `query`
    (case-insensitive), those whose name matches more of the words first, otherwise in the
    order given. Runs in memory: a library of thousands filters in about a millisecond, so the
    pane filters as you type without a round trip to the database."""
    terms = query.casefold().split()
    if not terms:
        return list(rows)
    found = [row for row in rows if all(term in row.haystack for term in terms)]
    return sorted(found, key=lambda row: -sum(term in row.name.casefold() for term in terms))


@dataclass(frozen=True)
class VersionRow:
    id: int
    version: int
    created_at: str
    author: str
    message: str
    model: str
    parent: int | None
    labels: tuple[str, ...]
    calls: int


def version_rows(db: Database | sqlite3.Connection, prompt_id: int) -> list[VersionRow]:
    """A prompt's history, newest first, with the labels on each version and its call count."""
    rows = db.execute(
        """
        SELECT v.id, v.version, v.created_at, v.author, v.message, v.model, parent.version,
               (SELECT json_group_array(label) FROM
                   (SELECT label FROM prompt_labels WHERE version_id = v.id ORDER BY label)),
               (SELECT count(*) FROM calls c WHERE c.prompt_version_id = v.id)
        FROM prompt_versions v
        LEFT JOIN prompt_versions parent ON parent.id = v.parent_id
        WHERE v.prompt_id = ?
        ORDER BY v.version DESC
        """,
        [prompt_id],
    ).fetchall()
    return [
        VersionRow(
            id=row[0],
            version=row[1],
            created_at=row[2],
            author=row[3],
            message=row[4],
            model=row[5],
            parent=row[6],
            labels=tuple(json.loads(row[7])),
            calls=row[8],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class VersionMetrics:
    calls: int
    ok_calls: int
    mean_prompt_tokens: float | None
    mean_completion_tokens: float | None
    p50_ms: float | None
    p95_ms: float | None
    cost_per_call: float | None
    checked: int
    """The version's evaluated cells (results of every run), as F3's scoreboard counts them."""
    passed: int
    """Of those, the cells that succeeded: answered, and no check failed."""
    grades: int
    mean_grade: float | None

    @property
    def error_rate(self) -> float | None:
        return (self.calls - self.ok_calls) / self.calls if self.calls else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.checked if self.checked else None


def _latency_percentile(
    db: Database | sqlite3.Connection, version_id: int, fraction: float, count: int
) -> float | None:
    """Nearest-rank percentile of the version's `count` answered, timed calls' latency, read in
    order from the index `calls_version_latency` without a call row; from whichever end of the
    index is nearer the rank (SQLite steps over an OFFSET one entry at a time)."""
    if count == 0:
        return None
    rank = nearest_rank(fraction, count)
    from_top = rank > count / 2
    row = db.execute(
        "SELECT latency_ms FROM calls WHERE prompt_version_id = ? AND status = 'ok'"
        f" AND latency_ms IS NOT NULL ORDER BY latency_ms {'DESC' if from_top else 'ASC'}"
        " LIMIT 1 OFFSET ?",
        [version_id, count - rank if from_top else rank - 1],
    ).fetchone()
    return None if row is None else float(row[0])


def version_metrics(db: Database | sqlite3.Connection, version_id: int) -> VersionMetrics:
    """What the audit log and evaluations say about one version: its calls, their tokens,
    latency and cost; the pass rate of its evaluated outputs and the mean of its grades.
    Counts and sums come from the daily rollups (tokens are never NULL, a call without a price
    counts as `unpriced`), so a version of any size is described without reading its calls."""
    calls, ok_calls, prompt_tokens, completion_tokens, cost, priced = db.execute(
        """
        SELECT coalesce(sum(calls), 0), coalesce(sum(CASE WHEN status = 'ok' THEN calls END), 0),
               sum(CASE WHEN status = 'ok' THEN prompt_tokens END),
               sum(CASE WHEN status = 'ok' THEN completion_tokens END),
               sum(CASE WHEN status = 'ok' THEN cost END),
               sum(CASE WHEN status = 'ok' THEN calls - unpriced END)
        FROM rollup_daily WHERE prompt_version_id = ?
        """,
        [version_id],
    ).fetchone()
    # Answered calls without a latency (imported logs may lack one) sort first in the index:
    # counting them, not the timed ones, is a short step whatever the version's size.
    (untimed,) = db.execute(
        "SELECT count(*) FROM calls WHERE prompt_version_id = ? AND status = 'ok'"
        " AND latency_ms IS NULL",
        [version_id],
    ).fetchone()
    timed = ok_calls - untimed
    # F3's scoreboard's definition (core.evaluation.scoreboard.CellRecord.succeeded), over
    # every run of the version: each result is a cell; it passes when the model answered and
    # none of its checks failed (measurements, passed NULL, never fail one). An unchecked
    # answered cell passes and an error cell fails, exactly as F3 counts them.
    checked, passed = db.execute(
        """
        SELECT count(*), coalesce(sum(
            r.status = 'ok'
            AND coalesce((SELECT min(ch.passed) FROM checks ch WHERE ch.result_id = r.id), 1) = 1
        ), 0)
        FROM results r WHERE r.version_id = ?
        """,
        [version_id],
    ).fetchone()
    grades, mean_grade = db.execute(
        """
        WITH version_grades AS (
            SELECT g.id, g.scores FROM results r JOIN grades g ON g.result_id = r.id
            WHERE r.version_id = ?
            UNION
            -- From the grades (hundreds) to their calls, not from the version's calls (millions).
            SELECT g.id, g.scores FROM grades g CROSS JOIN calls c ON c.id = g.call_id
            WHERE g.call_id IS NOT NULL AND c.prompt_version_id = ?
        )
        SELECT count(DISTINCT vg.id), avg(CAST(s.value AS REAL))
        FROM version_grades vg LEFT JOIN json_each(vg.scores) s
        """,
        [version_id, version_id],
    ).fetchone()
    return VersionMetrics(
        calls=calls,
        ok_calls=ok_calls,
        mean_prompt_tokens=prompt_tokens / ok_calls if ok_calls else None,
        mean_completion_tokens=completion_tokens / ok_calls if ok_calls else None,
        p50_ms=_latency_percentile(db, version_id, 0.50, timed),
        p95_ms=_latency_percentile(db, version_id, 0.95, timed),
        cost_per_call=cost / priced if priced else None,
        checked=checked,
        passed=passed,
        grades=grades,
        mean_grade=mean_grade,
    )


@dataclass(frozen=True)
class NoteRow:
    id: int
    kind: str
    text: str
    version: int | None
    author: str
    created_at: str


def notes(db: Database | sqlite3.Connection, prompt_id: int) -> list[NoteRow]:
    rows = db.execute(
        """
        SELECT n.id, n.kind, n.text, v.version, n.author, n.created_at
        FROM prompt_notes n LEFT JOIN prompt_versions v ON v.id = n.version_id
        WHERE n.prompt_id = ? ORDER BY n.created_at DESC, n.id DESC
        """,
        [prompt_id],
    ).fetchall()
    return [NoteRow(*row) for row in rows]


@dataclass(frozen=True)
class LabelMove:
    label: str
    from_version: int | None
    to_version: int
    moved_by: str
    moved_at: str


def label_moves(
    db: Database | sqlite3.Connection, prompt_id: int, limit: int = 50
) -> list[LabelMove]:
    """Who moved which label from where to where, newest first."""
    rows = db.execute(
        """
        SELECT m.label, f.version, t.version, m.moved_by, m.moved_at
        FROM label_moves m
        LEFT JOIN prompt_versions f ON f.id = m.from_version_id
        JOIN prompt_versions t ON t.id = m.to_version_id
        WHERE m.prompt_id = ? ORDER BY m.moved_at DESC, m.id DESC LIMIT ?
        """,
        [prompt_id, limit],
    ).fetchall()
    return [LabelMove(*row) for row in rows]


@dataclass(frozen=True)
class CaseChoice:
    id: int
    dataset: str
    vars: dict[str, object]


def cases_with(db: Database, names: Sequence[str], limit: int = 500) -> list[CaseChoice]:
    """Test cases that give a value to every one of `names` (a preview's candidates)."""
    conditions = " AND ".join("json_type(c.vars, ?) IS NOT NULL" for _ in names) or "1"
    rows = db.execute(
        f"""
        SELECT c.id, d.name, c.vars FROM cases c JOIN datasets d ON d.id = c.dataset_id
        WHERE {conditions} ORDER BY d.name, c.id LIMIT ?
        """,
        [*(f'$."{name}"' for name in names), limit],
    ).fetchall()
    return [CaseChoice(row[0], row[1], json.loads(row[2])) for row in rows]
