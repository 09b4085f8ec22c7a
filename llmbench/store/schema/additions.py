"""The schema steps after m001 (but the rollups' m004): the columns, indexes and tables each
release added. A released migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database


def m002_prompt_versions(db: Database) -> None:
    # A version's few-shot pool and how many of it to show; adding columns fires no UPDATE
    # trigger, so saved versions stay as they were (an empty pool, no dynamic few-shot).
    db.executescript(
        """
        ALTER TABLE prompt_versions ADD COLUMN examples TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE prompt_versions ADD COLUMN few_shot_k INTEGER CHECK (few_shot_k > 0);
        -- Per-version figures in the Prompts pane look these up for every version shown.
        CREATE INDEX results_version ON results(version_id);
        CREATE INDEX prompt_labels_version ON prompt_labels(version_id);
        """
    )


def m003_cache_kinds_and_routes(db: Database) -> None:
    # Near-duplicate and semantic cache hits, and routes set from the command line.
    db.executescript(
        """
        -- The key over normalised messages (case, spacing and trailing punctuation ignored).
        ALTER TABLE cache ADD COLUMN normalised_key TEXT;
        -- Semantic lookups compare entries of one scope: embedding model, model, params and
        -- every message but the last user one; the vector is that message's, float32, unit
        -- length.
        ALTER TABLE cache ADD COLUMN scope TEXT;
        ALTER TABLE cache ADD COLUMN embedding BLOB;
        CREATE INDEX cache_normalised ON cache(normalised_key, created_at);
        CREATE INDEX cache_scope ON cache(scope, created_at) WHERE scope IS NOT NULL;

        -- What core.routing.Route holds; the gateway reads these beside the config's
        -- [[routes]], and a route here replaces a config route of the same name.
        CREATE TABLE routes (
            name TEXT PRIMARY KEY,
            prompt TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            key TEXT NOT NULL DEFAULT 'user',
            when_tags TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(when_tags)),
            arms TEXT NOT NULL CHECK (json_valid(arms) AND json_array_length(arms) > 0),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """
    )


def m005_case_checks(db: Database) -> None:
    # A case's own checks (core.checks' saved form), run beside a run's checks on that case.
    db.executescript(
        """
        ALTER TABLE cases ADD COLUMN checks TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(checks));
        """
    )


def m006_guard_policies(db: Database) -> None:
    # A prompt's own guard policy (core.guard_policy.parse_policy's plain form), read over the
    # config's [guard] by every call of that prompt's versions.
    db.executescript(
        """
        CREATE TABLE guard_policies (
            prompt_id INTEGER PRIMARY KEY REFERENCES prompts(id),
            policy TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(policy)),
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT ''
        );
        """
    )


def m007_informational_checks(db: Database) -> None:
    # `passed` may be NULL: a measurement with no pass/fail (golden-answer similarity, a pairwise
    # judge's win/tie/loss). SQL's aggregates skip NULL, so min(passed), sum(passed) and
    # count(passed) keep meaning "checks that pass or fail". SQLite cannot drop NOT NULL in
    # place: the table is rebuilt, its ids kept.
    statements = [
        """
        CREATE TABLE checks_m007 (
            id INTEGER PRIMARY KEY,
            result_id INTEGER REFERENCES results(id),
            call_id INTEGER REFERENCES calls(id),
            kind TEXT NOT NULL,
            passed INTEGER,
            score REAL,
            weight REAL NOT NULL DEFAULT 1,
            detail TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            CHECK (result_id IS NOT NULL OR call_id IS NOT NULL)
        )
        """,
        "INSERT INTO checks_m007 (id, result_id, call_id, kind, passed, score, weight, detail,"
        " created_at) SELECT id, result_id, call_id, kind, passed, score, weight, detail,"
        " created_at FROM checks",
        "DROP TABLE checks",
        "ALTER TABLE checks_m007 RENAME TO checks",
        "CREATE INDEX checks_result ON checks(result_id)",
        "CREATE INDEX checks_call ON checks(call_id)",
    ]
    for statement in statements:
        db.execute(statement)
