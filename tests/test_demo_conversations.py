"""The demo's conversations read as one chat: each answer is to the question asked in its thread."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from llmbench.demo.build import build_demo

ASKED = re.compile(r"Reply to (\w+)")
GREETED = re.compile(r"^Hi (\w+),")


def test_each_demo_conversation_answers_the_customer_it_was_asked_about(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    build_demo(path, seed=11, calls=3000, now=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    with sqlite3.connect(path) as connection:
        answers = connection.execute(
            "SELECT messages, response FROM calls WHERE conversation_id IS NOT NULL"
            " AND response IS NOT NULL AND parent_request_id IS NOT NULL"
        ).fetchall()
    checked = 0
    for messages, response in answers:
        users = [m for m in json.loads(messages) if m.get("role") == "user"]
        asked = ASKED.search(str(users[-1]["content"]))
        greeted = GREETED.search(response)
        if asked and greeted:
            assert greeted.group(1) == asked.group(1), (users[-1]["content"][:80], response[:80])
            checked += 1
    assert checked == len(answers) >= 2
