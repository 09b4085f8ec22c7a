"""m014: reasoning and cache-write tokens kept apart, with the unit prices they were charged at,
and their sums in the daily rollups. Reasoning tokens (o-series, extended thinking, Gemini
thinking) were lost in completion_tokens and cache writes in prompt_tokens, though each has a
rate of its own. A released migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database

from llmbench.store.schema.rollups import ROLLUP_SUMS, ROLLUP_TABLES

# What m014 adds to each rollup row (NULL counts as 0 there).
ADDED_ROLLUP_SUMS: tuple[tuple[str, str], ...] = (
    ("reasoning_tokens", "coalesce({row}.reasoning_tokens, 0)"),
    ("cache_write_tokens", "coalesce({row}.cache_write_tokens, 0)"),
)
# Every sum a rollup row holds since m014, in column order.
ROLLUP_SUMS_M014: tuple[tuple[str, str], ...] = (*ROLLUP_SUMS, *ADDED_ROLLUP_SUMS)
# Columns whose change moves a call to another rollup row or changes its sums.
_INPUTS = (
    "ts",
    "model",
    "provider",
    "prompt_version_id",
    "feature",
    "team",
    "customer",
    "task_type",
    "user",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cost",
    "saving",
    "reasoning_tokens",
    "cache_write_tokens",
)


def _match(keys: tuple[str, ...], row: str) -> str:
    return " AND ".join(
        [f"day = substr({row}.ts, 1, 10)"] + [f"[{k}] IS {row}.[{k}]" for k in keys]
    )


def _add(table: str, keys: tuple[str, ...], row: str) -> str:
    sums = ROLLUP_SUMS_M014
    sets = ", ".join(f"{name} = {name} + {value.format(row=row)}" for name, value in sums)
    columns = ", ".join(["day", *(f"[{k}]" for k in keys), *(name for name, _ in sums)])
    values = ", ".join(
        [f"substr({row}.ts, 1, 10)", *(f"{row}.[{k}]" for k in keys)]
        + [value.format(row=row) for _, value in sums]
    )
    return (
        f"UPDATE {table} SET {sets} WHERE {_match(keys, row)};\n"
        f"INSERT INTO {table} ({columns}) SELECT {values} WHERE changes() = 0;"
    )


def _remove(table: str, keys: tuple[str, ...], row: str) -> str:
    sums = ROLLUP_SUMS_M014
    sets = ", ".join(f"{name} = {name} - {value.format(row=row)}" for name, value in sums)
    match = _match(keys, row)
    return (
        f"UPDATE {table} SET {sets} WHERE {match};\n"
        f"DELETE FROM {table} WHERE {match} AND calls = 0;"
    )


def m014_reasoning_and_cache_write_tokens(db: Database) -> None:
    # NULL when the provider did not say (every call logged before). Sealed as the call's
    # metadata when present (core.audit.chain.LATER_METADATA_FIELDS), so rows sealed before
    # keep their hash; reasoning_price and cache_write_price are the unit prices (USD per
    # million) the call was charged for them, NULL when it had no rate of their own.
    statements = [
        "ALTER TABLE calls ADD COLUMN reasoning_tokens INTEGER"
        " CHECK (reasoning_tokens IS NULL OR reasoning_tokens >= 0)",
        "ALTER TABLE calls ADD COLUMN cache_write_tokens INTEGER"
        " CHECK (cache_write_tokens IS NULL OR cache_write_tokens >= 0)",
        "ALTER TABLE calls ADD COLUMN reasoning_price REAL",
        "ALTER TABLE calls ADD COLUMN cache_write_price REAL",
    ]
    inputs = ", ".join(f"[{column}]" for column in _INPUTS)
    for table, keys in ROLLUP_TABLES.items():
        statements += [
            # Every call logged before has NULL for both: the new sums start at 0.
            *(
                f"ALTER TABLE {table} ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0"
                for name, _ in ADDED_ROLLUP_SUMS
            ),
            f"DROP TRIGGER {table}_insert",
            f"DROP TRIGGER {table}_delete",
            f"DROP TRIGGER {table}_update",
            f"CREATE TRIGGER {table}_insert AFTER INSERT ON calls BEGIN\n"
            f"{_add(table, keys, 'new')}\nEND",
            f"CREATE TRIGGER {table}_delete AFTER DELETE ON calls BEGIN\n"
            f"{_remove(table, keys, 'old')}\nEND",
            f"CREATE TRIGGER {table}_update AFTER UPDATE OF {inputs} ON calls BEGIN\n"
            f"{_remove(table, keys, 'old')}\n{_add(table, keys, 'new')}\nEND",
        ]
    for statement in statements:
        db.execute(statement)
