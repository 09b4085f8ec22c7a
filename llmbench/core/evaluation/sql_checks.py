"""promptfoo's `is-sql` and `contains-sql`, parsed with sqlglot instead of node-sql-parser.

The value is promptfoo's: `{databaseType: MySQL (default) | PostgreSQL | ..., allowedTables:
[...], allowedColumns: [...]}`. A statement passes when it parses in that dialect and passes
promptfoo's own pre-checks (not empty, backticks paired, no `SELECT a b FROM` missing a comma,
no PostgreSQL-only `generate_series` on MySQL). sqlglot reads more than node-sql-parser does,
so it is held to node-sql-parser's stricter grammar where they were measured to differ: a
SELECT or GROUP/ORDER BY with nothing in it, a comma before a clause keyword, a reserved word
as an unquoted table name, MySQL's DELETE without FROM, ILIKE outside PostgreSQL, LOCK IN SHARE
MODE and LIMIT offset, count outside MySQL (tests/core/test_sql_checks.py pins
node-sql-parser 5.4.0's verdicts).

Whitelists are node-sql-parser's: every `type::table::name` the statement touches
(`select::null::employees` for a table, `select::users::id` or `select::null::id` for a column)
must fully match one of the patterns (regular expressions, case-insensitive).

`contains-sql` checks the fenced ```sql (or unlabelled) blocks of the output, else the whole
output, and passes when one of them is SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from llmbench.core.evaluation.check_spec import CheckError

# promptfoo's databaseType names (node-sql-parser's) to sqlglot's dialects.
SQL_DIALECTS: dict[str, str] = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgres",
    "redshift": "redshift",
    "sqlite": "sqlite",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "transactsql": "tsql",
    "hive": "hive",
    "db2": "postgres",
    "flinksql": "spark",
    "trino": "trino",
    "athena": "athena",
    "noql": "postgres",
}
DEFAULT_DATABASE = "MySQL"
_VALUE_KEYS = frozenset({"databaseType", "allowedTables", "allowedColumns"})
_MYSQL_MODIFIERS = (
    r"(?:all|distinct(?:row)?|high_priority|straight_join|sql_(?:big_result|buffer_result|cache"
    r"|calc_found_rows|no_cache|small_result))"
)
_STANDARD_MODIFIERS = r"(?:all|distinct)"
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_RESERVED = frozenset(
    (
        "select", "from", "where", "group", "order", "by", "having", "limit", "insert", "update",
        "delete", "into", "values", "set", "join", "on", "union", "create", "drop", "alter",
        "table", "and", "or", "not", "null", "as"
    )
)  # fmt: skip
_CLAUSE_AFTER_COMMA = re.compile(
    r",\s*(?:from|where|group|order|having|limit|union|\)|;|$)", re.IGNORECASE
)


def _missing_comma(database: str) -> re.Pattern[str]:
    modifiers = (
        _MYSQL_MODIFIERS if database.lower() in ("mysql", "mariadb") else _STANDARD_MODIFIERS
    )
    return re.compile(
        rf"\bselect\s+(?:{modifiers}\s+)*(?!{modifiers}\b){_IDENTIFIER}\s+{_IDENTIFIER}\s+from\b",
        re.IGNORECASE,
    )


def sql_options(value: object, prefix: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(databaseType, allowed tables, allowed columns) from a check's value."""
    if value is None:
        return DEFAULT_DATABASE, (), ()
    if not isinstance(value, Mapping):
        raise CheckError(f"{prefix}value must be a mapping ({{databaseType: MySQL, ...}})")
    unknown = sorted(set(value) - _VALUE_KEYS)
    if unknown:
        raise CheckError(f"{prefix}unknown key {unknown[0]!r} (known: {', '.join(_VALUE_KEYS)})")
    database = value.get("databaseType") or DEFAULT_DATABASE
    if not isinstance(database, str) or database.lower() not in SQL_DIALECTS:
        raise CheckError(f"{prefix}databaseType {database!r} is not one llmbench can parse")
    lists = []
    for key in ("allowedTables", "allowedColumns"):
        items = value.get(key) or ()
        if isinstance(items, str) or not isinstance(items, Sequence):
            raise CheckError(f"{prefix}{key} must be a list of patterns")
        for item in items:
            try:
                re.compile(str(item))
            except re.error as error:
                raise CheckError(f"{prefix}{key}: bad pattern {item!r}: {error}") from None
        lists.append(tuple(str(item) for item in items))
    return database, lists[0], lists[1]


def _strip_literals(sql: str) -> str:
    """sql with quoted text and comments taken out (promptfoo's heuristics ignore them)."""
    return re.sub(
        r"'(?:[^'\\]|\\.|'')*'?|\"(?:[^\"\\]|\\.|\"\")*\"?|`[^`]*`?|--[^\r\n]*|#[^\r\n]*"
        r"|/\*.*?(?:\*/|$)|\$(\w*)\$.*?(?:\$\1\$|$)",
        " ? ",
        sql,
        flags=re.DOTALL,
    )


def sql_problem(sql: str, database: str) -> str | None:
    """Why sql is not one or more statements of database's dialect, or None when it is."""
    import sqlglot  # ~0.1 s to import: loaded by the first SQL check only
    from sqlglot import exp

    text = sql.strip()
    if not text:
        return "empty"
    if text.count("`") % 2:
        return "unpaired backtick"
    plain = _strip_literals(text)
    lowered = database.lower()
    if _missing_comma(database).search(plain):
        return "two names in a row in the SELECT list (a missing comma)"
    if lowered == "mysql" and re.search(r"\bgenerate_series\s*\(", text, re.IGNORECASE):
        return "generate_series is not MySQL"
    if _CLAUSE_AFTER_COMMA.search(plain):
        return "a comma before a clause keyword"
    if lowered != "postgresql" and re.search(r"\bilike\b", plain, re.IGNORECASE):
        return "ILIKE is PostgreSQL's"
    if lowered not in ("mysql", "mariadb") and re.search(
        r"\block\s+in\s+share\s+mode\b", plain, re.IGNORECASE
    ):
        return "LOCK IN SHARE MODE is MySQL's"
    if lowered not in ("mysql", "mariadb", "sqlite") and re.search(
        r"\blimit\s+\d+\s*,", plain, re.IGNORECASE
    ):
        return "LIMIT offset, count is MySQL's"
    if lowered in ("mysql", "mariadb") and re.match(
        r"\s*delete\s+(?!(?:low_priority\s+|quick\s+|ignore\s+)*from\b)", plain, re.IGNORECASE
    ):
        return "DELETE needs FROM"
    try:
        trees = sqlglot.parse(text, read=SQL_DIALECTS[lowered])
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as error:
        return str(error).splitlines()[0]
    except RecursionError:
        return "nested too deeply to parse"
    if not trees or any(tree is None for tree in trees):
        return "no statement"
    for tree in trees:
        if isinstance(tree, exp.Command | exp.Column | exp.Identifier | exp.Alias | exp.Literal):
            return "not a statement"
        for select in tree.find_all(exp.Select):
            if not select.expressions:
                return "SELECT with nothing to select"
        for clause in tree.find_all(exp.Group, exp.Order):
            if not clause.expressions:
                return f"{clause.key.upper()} BY with nothing after it"
        for table in tree.find_all(exp.Table):
            identifier = table.this
            if (
                isinstance(identifier, exp.Identifier)
                and not identifier.quoted
                and identifier.name.lower() in _RESERVED
            ):
                return f"the reserved word {identifier.name!r} as a table name"
    return None


def _authorities(sql: str, database: str) -> tuple[list[str], list[str]]:
    """node-sql-parser's table and column lists: `type::table::name`."""
    import sqlglot
    from sqlglot import exp

    tables: list[str] = []
    columns: list[str] = []
    kinds = {exp.Select: "select", exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete"}
    for tree in sqlglot.parse(sql, read=SQL_DIALECTS[database.lower()]):
        if tree is None:
            continue
        kind = next((name for cls, name in kinds.items() if isinstance(tree, cls)), tree.key)
        for table in tree.find_all(exp.Table):
            tables.append(f"{kind}::{table.db or 'null'}::{table.name}")
        for column in tree.find_all(exp.Column):
            columns.append(f"{kind}::{column.table or 'null'}::{column.name}")
        if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            target = tree.this.this.name if isinstance(tree.this.this, exp.Table) else "null"
            for identifier in tree.this.expressions:
                columns.append(f"insert::{target}::{identifier.name}")
    return list(dict.fromkeys(tables)), list(dict.fromkeys(columns))


def _unauthorised(found: Sequence[str], allowed: Sequence[str]) -> list[str]:
    return [
        item
        for item in found
        if not any(re.fullmatch(pattern, item, re.IGNORECASE) for pattern in allowed)
    ]


def is_sql(output: str, value: Any) -> tuple[bool, str]:
    database, allowed_tables, allowed_columns = sql_options(value, "")
    problem = sql_problem(output, database)
    if problem is not None:
        return False, f"not {database} SQL: {problem}"
    if not allowed_tables and not allowed_columns:
        return True, f"valid {database} SQL"
    tables, columns = _authorities(output, database)
    if allowed_tables and (bad := _unauthorised(tables, allowed_tables)):
        return False, f"unauthorized table(s): {', '.join(bad)}"
    if allowed_columns:
        # A column written without its table may match a pattern naming the table.
        widened = [*allowed_columns]
        for pattern in allowed_columns:
            parts = pattern.split("::")
            if len(parts) == 3 and parts[1] != "null":
                widened.append(f"{parts[0]}::null::{parts[2]}")
        if bad := _unauthorised(columns, widened):
            return False, f"unauthorized column(s): {', '.join(bad)}"
    return True, f"valid {database} SQL"


_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})(.*)$")


def sql_blocks(output: str) -> list[str]:
    """The bodies of the output's fenced blocks labelled sql or not labelled at all."""
    blocks: list[str] = []
    fence: tuple[str, bool] | None = None
    body: list[str] = []
    for line in re.split(r"\r\n?|\n", output):
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = (match.group(1), match.group(2).strip().lower() in ("", "sql"))
                body = []
            continue
        closes = match is not None and not match.group(2).strip()
        if closes and match.group(1)[0] == fence[0][0] and len(match.group(1)) >= len(fence[0]):
            if fence[1]:
                blocks.append("\n".join(body).strip())
            fence = None
            continue
        body.append(line)
    return blocks


def contains_sql(output: str, value: Any) -> tuple[bool, str]:
    candidates = [block for block in sql_blocks(output) or [output] if block.strip()]
    reason = "the output holds no SQL"
    for candidate in candidates:
        passed, reason = is_sql(candidate, value)
        if passed:
            return True, reason
    return False, reason
