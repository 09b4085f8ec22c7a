"""`Store.connection()`: a thread's plain sqlite3 connection, the one `Store.read()` wraps, so
that F2's first read (the TUI's start) needs no sqlite_utils (~30 ms of imports)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from llmbench.services.prompts.library import create_prompt
from llmbench.store.db import StoreError, open_db


def test_the_first_read_of_f2_imports_no_sqlite_utils(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with open_db(path) as store:
        create_prompt(store, "refund-triage", description="Sorts refunds", tags=["support"])
    code = (
        "import sys; from llmbench.store.db import open_db; "
        "from llmbench.services.panes import prompt_library; "
        f"store = open_db({str(path)!r}); rows = prompt_library(store); "
        "print([row.name for row in rows], 'sqlite_utils' in sys.modules); store.close()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "['refund-triage'] False"


def test_read_wraps_the_threads_plain_connection_and_a_closed_store_refuses(
    tmp_path: Path,
) -> None:
    store = open_db(tmp_path / "a.db")
    conn = store.connection()
    assert store.read().conn is conn and store.connection() is conn
    other: list[object] = []
    worker = threading.Thread(target=lambda: other.append(store.connection()))
    worker.start()
    worker.join()
    assert other and other[0] is not conn  # one connection per thread
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.connection()
    with pytest.raises(StoreError, match="closed"):
        store.read()
    with pytest.raises(Exception, match="closed"):  # closed with the store: never left open
        conn.execute("SELECT 1")
