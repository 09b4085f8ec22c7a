"""m016: production quality the seed's way. `consistency_daily` keeps, per prompt and UTC day,
how many production calls were compared, how many pairs of similar queries they held and how
many of those got diverging answers (`core/monitoring/consistency.py`), with the thresholds
used and a few example pairs, so F7 and drift detection read thirty small rows instead of a
month of call bodies; and an index of the checks on production calls by kind (the judge's
verdicts of `monitor sample`). A released migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database


def m016_production_quality(db: Database) -> None:
    # One row per prompt and day, replaced whenever that day is measured again (a day still
    # under way grows); deleting a prompt is refused while its days are kept.
    db.executescript(
        """
        CREATE TABLE consistency_daily (
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            day TEXT NOT NULL CHECK (length(day) = 10),
            calls INTEGER NOT NULL CHECK (calls >= 0),
            pairs INTEGER NOT NULL CHECK (pairs >= 0),
            divergent INTEGER NOT NULL CHECK (divergent >= 0 AND divergent <= pairs),
            query_threshold REAL NOT NULL,
            answer_threshold REAL NOT NULL,
            examples TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(examples)),
            computed_at TEXT NOT NULL,
            PRIMARY KEY (prompt_id, day)
        );
        CREATE INDEX consistency_daily_day ON consistency_daily(day);
        -- F7 and drift read the judge's verdicts on production calls by kind; eval results'
        -- checks (most of the table) stay out of this index.
        CREATE INDEX checks_production_kind ON checks(kind, call_id)
            WHERE call_id IS NOT NULL AND result_id IS NULL;
        """
    )
