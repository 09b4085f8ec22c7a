"""The daily cost rollups: their tables' grain and sums, and m004, which made them and the
triggers on `calls` that keep them. A released migration is never edited; the cost queries
read ROLLUP_TABLES and ROLLUP_SUMS to know what the tables hold."""

from __future__ import annotations

from sqlite_utils import Database

# Daily cost rollups, kept by triggers on `calls`: the Costs pane's breakdowns and the Monitor's
# counts read whole days here and only a window's partial edge days from `calls`. Each table's
# grain is the UTC day and its key columns; customer and user get tables of their own (with the
# model) because each has many values, and crossing them with the other tags would make as many
# rows as calls. NULL keys are kept NULL (matched with IS), so "untagged" stays distinct from ''.
ROLLUP_TABLES: dict[str, tuple[str, ...]] = {
    "rollup_daily": (
        "model",
        "provider",
        "prompt_version_id",
        "feature",
        "team",
        "task_type",
        "status",
    ),
    "rollup_daily_customer": ("customer", "model"),
    "rollup_daily_user": ("user", "model"),
}
# (rollup column, what one call adds to it)
ROLLUP_SUMS: tuple[tuple[str, str], ...] = (
    ("calls", "1"),
    ("prompt_tokens", "{row}.prompt_tokens"),
    ("completion_tokens", "{row}.completion_tokens"),
    ("cached_tokens", "{row}.cached_tokens"),
    ("cost", "coalesce({row}.cost, 0)"),
    ("saving", "{row}.saving"),
    ("unpriced", "({row}.cost IS NULL AND {row}.status = 'ok')"),
)
# Columns whose change moves a call to another rollup row or changes its sums. A purge's
# redaction sets only body columns, so it fires no rollup trigger.
_ROLLUP_INPUTS = (
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
)


def _rollup_match(keys: tuple[str, ...], row: str) -> str:
    return " AND ".join(
        [f"day = substr({row}.ts, 1, 10)"] + [f"[{k}] IS {row}.[{k}]" for k in keys]
    )


def _rollup_add(table: str, keys: tuple[str, ...], row: str) -> str:
    """Statements adding one call (`new` or `old`) to its row: update it, or create it."""
    sets = ", ".join(f"{name} = {name} + {value.format(row=row)}" for name, value in ROLLUP_SUMS)
    columns = ", ".join(["day", *(f"[{k}]" for k in keys), *(name for name, _ in ROLLUP_SUMS)])
    values = ", ".join(
        [f"substr({row}.ts, 1, 10)", *(f"{row}.[{k}]" for k in keys)]
        + [value.format(row=row) for _, value in ROLLUP_SUMS]
    )
    return (
        f"UPDATE {table} SET {sets} WHERE {_rollup_match(keys, row)};\n"
        f"INSERT INTO {table} ({columns}) SELECT {values} WHERE changes() = 0;"
    )


def _rollup_remove(table: str, keys: tuple[str, ...], row: str) -> str:
    """Statements taking one call out of its row, dropping the row when no call is left."""
    sets = ", ".join(f"{name} = {name} - {value.format(row=row)}" for name, value in ROLLUP_SUMS)
    match = _rollup_match(keys, row)
    return (
        f"UPDATE {table} SET {sets} WHERE {match};\n"
        f"DELETE FROM {table} WHERE {match} AND calls = 0;"
    )


def m004_daily_rollups(db: Database) -> None:
    statements = [
        # Filtering the audit browser (and costs) by user; the other tags have had one since m001.
        "CREATE INDEX calls_user_ts ON calls(user, ts)",
    ]
    inputs = ", ".join(f"[{column}]" for column in _ROLLUP_INPUTS)
    for table, keys in ROLLUP_TABLES.items():
        key_columns = ", ".join(f"[{k}]" for k in keys)
        sums = ", ".join(
            f"{name} {'REAL' if name in ('cost', 'saving') else 'INTEGER'} NOT NULL"
            for name, _ in ROLLUP_SUMS
        )
        statements += [
            f"CREATE TABLE {table} (day TEXT NOT NULL, {key_columns}, {sums})",
            f"CREATE INDEX {table}_key ON {table}(day, {key_columns})",
            # Back-fill from the calls already logged, one grouped pass per table.
            f"INSERT INTO {table} (day, {key_columns}, {', '.join(n for n, _ in ROLLUP_SUMS)})"
            f" SELECT substr(ts, 1, 10), {key_columns}, "
            + ", ".join(
                "count(*)" if name == "calls" else f"sum({value.format(row='calls')})"
                for name, value in ROLLUP_SUMS
            )
            + f" FROM calls GROUP BY substr(ts, 1, 10), {key_columns}",
            f"CREATE TRIGGER {table}_insert AFTER INSERT ON calls BEGIN\n"
            f"{_rollup_add(table, keys, 'new')}\nEND",
            f"CREATE TRIGGER {table}_delete AFTER DELETE ON calls BEGIN\n"
            f"{_rollup_remove(table, keys, 'old')}\nEND",
            f"CREATE TRIGGER {table}_update AFTER UPDATE OF {inputs} ON calls BEGIN\n"
            f"{_rollup_remove(table, keys, 'old')}\n{_rollup_add(table, keys, 'new')}\nEND",
        ]
    for statement in statements:
        db.execute(statement)
