"""The connection a bulk load writes a private file through (store/bulk_load.private_file):
one transaction without the write-ahead log, committed whole and left in WAL mode as the store
opens every file, or rolled back whole by an exception, with nothing left beside the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmbench.store.bulk_load import private_file
from llmbench.store.db import open_db


def _fresh(tmp_path: Path) -> Path:
    path = tmp_path / "private.db"
    open_db(path).close()
    return path


def _beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p != path)


def test_the_block_is_one_transaction_without_a_wal(tmp_path: Path) -> None:
    path = _fresh(tmp_path)
    with private_file(path) as db:
        assert db.conn.in_transaction
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
        assert db.execute("PRAGMA mmap_size").fetchone()[0] == 0
        db.execute("INSERT INTO meta (key, value) VALUES ('bulk', 'yes')")
        assert _beside(path) == []  # no -wal, no -journal: the journal is in memory
    assert _beside(path) == []
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM meta WHERE key = 'bulk'").fetchone() == ("yes",)
    finally:
        conn.close()


def test_an_exception_rolls_the_block_back(tmp_path: Path) -> None:
    path = _fresh(tmp_path)
    with pytest.raises(RuntimeError, match="stop"), private_file(path) as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('bulk', 'yes')")
        raise RuntimeError("stop")
    with open_db(path, create=False) as store:
        assert store.read().execute("SELECT value FROM meta WHERE key = 'bulk'").fetchone() is None
        assert store.read().execute("PRAGMA integrity_check").fetchone() == ("ok",)
