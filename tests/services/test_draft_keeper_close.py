"""Closing the draft keeper (the app quitting) hands back every write not yet in the file, also
those handed to the writer before (a dialog flushing its own draft as the app quits), so that
quitting waits for all of them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from llmbench.services.drafts import DraftKeeper
from llmbench.store import drafts as drafts_repo
from llmbench.store.db import open_db


def test_close_returns_the_writes_already_handed_over(tmp_path: Path) -> None:
    with open_db(tmp_path / "drafts.db") as store:
        keeper = DraftKeeper(store, delay_s=60)
        release = threading.Event()

        def busy_writer(db: Any) -> None:  # another write ahead in the writer's queue
            release.wait(10)

        blocker = store.submit(busy_writer)
        handed = keeper.keep_now("dialog:import", "dialog", {"path": "calls.jsonl"})
        keeper.put("note:1", "dialog", {"text": "still waiting"})
        waiting = keeper.close()
        assert handed is not None and handed in waiting and len(waiting) == 2
        assert not handed.done()
        release.set()
        for future in (blocker, *waiting):
            future.result(timeout=10)
        kept = drafts_repo.get_draft(store.read(), "dialog:import")
        assert kept is not None and kept.body == {"path": "calls.jsonl"}
        assert drafts_repo.get_draft(store.read(), "note:1") is not None
