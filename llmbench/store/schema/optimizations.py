"""m019: the optimizations shipped from F5's savings (`llmbench optimize --apply`): what each
changed and the monthly saving projected when it shipped, so realised can be set against it.
A released migration is never edited: add a new step."""

from __future__ import annotations

from sqlite_utils import Database


def m019_optimizations(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE optimizations (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            baseline_version_id INTEGER NOT NULL REFERENCES prompt_versions(id),
            candidate_version_id INTEGER REFERENCES prompt_versions(id),
            model TEXT NOT NULL DEFAULT '',
            route TEXT NOT NULL DEFAULT '',
            run_id INTEGER REFERENCES runs(id),
            label_move_id INTEGER REFERENCES label_moves(id),
            baseline_cost_per_call REAL NOT NULL,
            projected_monthly REAL NOT NULL,
            quality_delta REAL,
            shipped_at TEXT NOT NULL,
            shipped_by TEXT NOT NULL DEFAULT ''
        )
        """
    )
    db.execute("CREATE INDEX optimizations_prompt ON optimizations(prompt_id, shipped_at)")
