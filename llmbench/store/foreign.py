"""Read-only access to another tool's SQLite file (simonw/llm's logs.db), for importers.

Opened with mode=ro, so an import can never change the file it reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ForeignDatabaseError(ValueError):
    pass


class ForeignDatabase:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ForeignDatabaseError(f"{path}: no such file")
        self.path = path
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise ForeignDatabaseError(f"{path}: not a SQLite database ({error})") from None

    def columns(self, table: str) -> list[str]:
        """The table's columns, [] when it does not exist."""
        return [row[1] for row in self._conn.execute(f"PRAGMA table_info([{table}])")]

    def count(self, table: str) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        cursor = self._conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(5000):
            for values in batch:
                yield dict(zip(names, values, strict=True))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ForeignDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
