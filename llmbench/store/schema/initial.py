"""m001: the first released schema, whole. A released migration is never edited."""

from __future__ import annotations

from sqlite_utils import Database

from llmbench.store.schema.vocabulary import (
    CALL_STATUSES,
    CASE_SOURCES,
    NOTE_KINDS,
    RUN_KINDS,
    RUN_STATUSES,
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def m001_initial(db: Database) -> None:
    db.executescript(
        f"""
        -- Facts about this file: its random id names the audit-chain key kept outside it.
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('db_id', lower(hex(randomblob(16))));
        CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        );
        CREATE TABLE prompt_versions (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            version INTEGER NOT NULL,
            sections TEXT NOT NULL,
            variables TEXT NOT NULL DEFAULT '[]',
            model TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{{}}',
            author TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            parent_id INTEGER REFERENCES prompt_versions(id),
            UNIQUE (prompt_id, version)
        );
        CREATE TRIGGER prompt_versions_immutable BEFORE UPDATE ON prompt_versions
        BEGIN SELECT RAISE(ABORT, 'prompt versions are immutable: save a new version'); END;
        CREATE TABLE prompt_labels (
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            label TEXT NOT NULL,
            version_id INTEGER NOT NULL REFERENCES prompt_versions(id),
            moved_at TEXT NOT NULL,
            moved_by TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (prompt_id, label)
        );
        CREATE TABLE label_moves (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            label TEXT NOT NULL,
            from_version_id INTEGER REFERENCES prompt_versions(id),
            to_version_id INTEGER NOT NULL REFERENCES prompt_versions(id),
            moved_by TEXT NOT NULL DEFAULT '',
            moved_at TEXT NOT NULL
        );
        CREATE INDEX label_moves_prompt ON label_moves(prompt_id, moved_at);
        CREATE TABLE prompt_notes (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            version_id INTEGER REFERENCES prompt_versions(id),
            kind TEXT NOT NULL CHECK (kind IN {_in(NOTE_KINDS)}),
            text TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX prompt_notes_prompt ON prompt_notes(prompt_id);

        CREATE TABLE datasets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            dataset_id INTEGER NOT NULL REFERENCES datasets(id),
            vars TEXT NOT NULL DEFAULT '{{}}',
            expected TEXT,
            tags TEXT NOT NULL DEFAULT '{{}}',
            source TEXT NOT NULL DEFAULT 'manual' CHECK (source IN {_in(CASE_SOURCES)}),
            source_call_id INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX cases_dataset ON cases(dataset_id);

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN {_in(RUN_KINDS)}),
            name TEXT NOT NULL DEFAULT '',
            config TEXT NOT NULL DEFAULT '{{}}',
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN {_in(RUN_STATUSES)}),
            baseline_run_id INTEGER REFERENCES runs(id),
            created_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX runs_created ON runs(created_at);

        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            request_id TEXT NOT NULL,
            attempt INTEGER NOT NULL DEFAULT 1,
            model_requested TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL DEFAULT '',
            prompt_version_id INTEGER REFERENCES prompt_versions(id),
            run_id INTEGER REFERENCES runs(id),
            messages TEXT,
            params TEXT NOT NULL DEFAULT '{{}}',
            response TEXT,
            finish_reason TEXT,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens INTEGER NOT NULL DEFAULT 0,
            tokens_estimated INTEGER NOT NULL DEFAULT 0,
            cost REAL,
            input_price REAL,
            output_price REAL,
            cached_price REAL,
            saving REAL NOT NULL DEFAULT 0,
            latency_ms REAL,
            ttft_ms REAL,
            status TEXT NOT NULL CHECK (status IN {_in(CALL_STATUSES)}),
            error_kind TEXT,
            error TEXT,
            feature TEXT,
            team TEXT,
            customer TEXT,
            task_type TEXT,
            user TEXT,
            arm TEXT,
            tags TEXT NOT NULL DEFAULT '{{}}',
            guard_flags TEXT NOT NULL DEFAULT '[]',
            flagged INTEGER NOT NULL DEFAULT 0,
            content_hash TEXT,
            prev_hash TEXT,
            hash TEXT,
            purged_at TEXT
        );
        CREATE INDEX calls_ts ON calls(ts);
        CREATE INDEX calls_model_ts ON calls(model, ts);
        CREATE INDEX calls_status_ts ON calls(status, ts);
        CREATE INDEX calls_version_ts ON calls(prompt_version_id, ts);
        CREATE INDEX calls_run ON calls(run_id);
        CREATE INDEX calls_request ON calls(request_id);
        CREATE INDEX calls_feature_ts ON calls(feature, ts);
        CREATE INDEX calls_team_ts ON calls(team, ts);
        CREATE INDEX calls_customer_ts ON calls(customer, ts);
        CREATE INDEX calls_flagged ON calls(flagged, ts) WHERE flagged = 1;

        CREATE VIRTUAL TABLE calls_fts USING fts5(
            messages, response, content='calls', content_rowid='id', tokenize='unicode61'
        );
        CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN
            INSERT INTO calls_fts(rowid, messages, response)
            VALUES (new.id, new.messages, new.response);
        END;
        CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN
            INSERT INTO calls_fts(calls_fts, rowid, messages, response)
            VALUES ('delete', old.id, old.messages, old.response);
        END;
        CREATE TRIGGER calls_fts_update AFTER UPDATE OF messages, response ON calls BEGIN
            INSERT INTO calls_fts(calls_fts, rowid, messages, response)
            VALUES ('delete', old.id, old.messages, old.response);
            INSERT INTO calls_fts(rowid, messages, response)
            VALUES (new.id, new.messages, new.response);
        END;

        -- The audit log is append-only. Purge opens a window by inserting a row here,
        -- inside its own transaction, and removes it before committing.
        CREATE TABLE purge_window (id INTEGER PRIMARY KEY CHECK (id = 1), reason TEXT NOT NULL);
        -- Where retention deleted the head of the chain: the first kept call's prev_hash must
        -- equal the hash recorded here, itself an HMAC so it cannot be forged without the key.
        CREATE TABLE chain_anchors (
            id INTEGER PRIMARY KEY,
            first_kept_call_id INTEGER NOT NULL,
            prev_hash TEXT NOT NULL,
            deleted INTEGER NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER calls_no_update BEFORE UPDATE ON calls
        WHEN NOT EXISTS (SELECT 1 FROM purge_window)
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: use llmbench audit purge'); END;
        CREATE TRIGGER calls_no_delete BEFORE DELETE ON calls
        WHEN NOT EXISTS (SELECT 1 FROM purge_window)
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: use llmbench audit purge'); END;

        CREATE TABLE results (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            version_id INTEGER REFERENCES prompt_versions(id),
            model TEXT NOT NULL,
            case_id INTEGER REFERENCES cases(id),
            repeat INTEGER NOT NULL DEFAULT 0,
            call_id INTEGER REFERENCES calls(id),
            output TEXT,
            status TEXT NOT NULL DEFAULT 'pending',
            score REAL,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, version_id, model, case_id, repeat)
        );
        CREATE INDEX results_case ON results(case_id);

        CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            result_id INTEGER REFERENCES results(id),
            call_id INTEGER REFERENCES calls(id),
            kind TEXT NOT NULL,
            passed INTEGER NOT NULL,
            score REAL,
            weight REAL NOT NULL DEFAULT 1,
            detail TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            CHECK (result_id IS NOT NULL OR call_id IS NOT NULL)
        );
        CREATE INDEX checks_result ON checks(result_id);
        CREATE INDEX checks_call ON checks(call_id);

        CREATE TABLE rubrics (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            dimensions TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE grades (
            id INTEGER PRIMARY KEY,
            call_id INTEGER REFERENCES calls(id),
            result_id INTEGER REFERENCES results(id),
            rubric_id INTEGER NOT NULL REFERENCES rubrics(id),
            reviewer TEXT NOT NULL,
            scores TEXT NOT NULL DEFAULT '{{}}',
            verdict TEXT,
            note TEXT NOT NULL DEFAULT '',
            seconds REAL NOT NULL DEFAULT 0,
            mode TEXT NOT NULL DEFAULT 'normal',
            created_at TEXT NOT NULL,
            CHECK (result_id IS NOT NULL OR call_id IS NOT NULL)
        );
        CREATE INDEX grades_result ON grades(result_id);
        CREATE INDEX grades_call ON grades(call_id);
        CREATE INDEX grades_reviewer ON grades(reviewer, rubric_id);

        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL REFERENCES calls(id),
            kind TEXT NOT NULL,
            value REAL,
            comment TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX feedback_call ON feedback(call_id);

        CREATE TABLE budgets (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL DEFAULT 'global',
            scope_value TEXT NOT NULL DEFAULT '',
            period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
            limit_usd REAL NOT NULL CHECK (limit_usd > 0),
            created_at TEXT NOT NULL,
            UNIQUE (scope, scope_value, period)
        );
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
            message TEXT NOT NULL,
            context TEXT NOT NULL DEFAULT '{{}}',
            created_at TEXT NOT NULL,
            acked_at TEXT,
            acked_by TEXT
        );
        CREATE INDEX alerts_open ON alerts(acked_at, created_at);
        CREATE TABLE prices (
            model TEXT NOT NULL,
            from_date TEXT NOT NULL,
            input REAL NOT NULL,
            output REAL NOT NULL,
            cached REAL NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT 'user',
            PRIMARY KEY (model, from_date)
        );
        CREATE TABLE cache (
            key TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            hits INTEGER NOT NULL DEFAULT 0
        );
        """
    )
