"""Importing simonw/llm's logs.db as a user would, on files llm itself wrote (tests/data/llm_logs):
a file upgraded by a newer llm adds exactly its new calls, non-ASCII text is found by the audit
search, a damaged row refuses the whole file naming its row, and `llmbench import llm-logs`
exits 0 on llm's files and 2 on anything else, writing nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.core.models import Price
from llmbench.importers.calls.common import CallImportError
from llmbench.services.imports.calls import import_file
from llmbench.store.db import Store, open_db
from tests.importers.llm_logs_source import FIXTURES, source_calls
from tests.importers.test_llm_logs_fixtures import imported, no_price

OLD = FIXTURES / "llm-0.19-logs.db"
UPGRADED = FIXTURES / "llm-0.19-upgraded-to-0.36-logs.db"
NEW = FIXTURES / "llm-0.36-logs.db"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "bench.db")
    yield store
    store.close()


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def test_a_file_upgraded_by_a_newer_llm_adds_exactly_its_new_calls(store: Store) -> None:
    old = import_file(store, "llm-logs", OLD, prices=no_price)
    upgraded = import_file(store, "llm-logs", UPGRADED, prices=no_price)
    new_calls = [c for c in source_calls(UPGRADED) if c.table == "turns"]
    assert len(new_calls) == 3
    assert (upgraded.read, upgraded.added, upgraded.skipped) == (old.read + 3, 3, old.read)
    calls = imported(store)
    assert list(calls)[-3:] == [f"llm:{c.id}" for c in new_calls]
    # The call that continued a conversation 0.19 logged sent that conversation's turns.
    old_conversations = {c.conversation: c for c in source_calls(OLD)}
    continued = [c for c in new_calls if c.conversation in old_conversations]
    assert len(continued) == 1
    call = calls[f"llm:{continued[0].id}"]
    assert call["conversation_id"] == continued[0].conversation
    sent = [m["content"] for m in json.loads(call["messages"]) if m["role"] == "user"]
    first_prompt = old_conversations[continued[0].conversation]
    earlier = [c for c in source_calls(OLD) if c.conversation == continued[0].conversation]
    assert sent[: len(earlier)] == [c.typed_prompt for c in earlier]
    assert first_prompt.typed_prompt in sent
    # Both layouts' calls of that conversation are one thread.
    thread = [c for c in calls.values() if c["conversation_id"] == continued[0].conversation]
    assert [c["request_id"] for c in thread] == [f"llm:{c.id}" for c in [*earlier, continued[0]]]
    again = import_file(store, "llm-logs", UPGRADED, prices=no_price)
    assert again.added == 0


def test_non_ascii_text_is_stored_as_itself_and_found_by_the_audit_search(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "llm-logs", NEW, prices=no_price)
    calls = imported(store)
    # The calls whose user messages say café (echo's answers spell it \u00e9 themselves).
    with_cafe = {
        request_id
        for request_id, call in calls.items()
        if any(
            "café" in json.dumps(m["content"], ensure_ascii=False)
            for m in json.loads(call["messages"] or "[]")
            if m["role"] == "user"
        )
    }
    assert len(with_cafe) >= 3
    for request_id in with_cafe:  # stored as the characters, which is what FTS5 indexes
        assert "café" in calls[request_id]["messages"]
    assert any("日本語" in (call["messages"] or "") for call in calls.values())
    assert any("🎉" in (call["messages"] or "") for call in calls.values())
    result = _cli("logs", "export", "-", "-q", "café", "--db", str(store.path))
    assert result.exit_code == 0, result.output
    found = {json.loads(line)["request_id"] for line in result.stdout.splitlines() if line}
    assert with_cafe <= found


def test_imported_calls_are_priced_at_their_days_price_and_unknown_models_stay_unpriced(
    store: Store,
) -> None:
    echo = Price(input=1.0, output=2.0)
    outcome = import_file(
        store, "llm-logs", NEW, prices=lambda model, _ts: echo if model == "echo" else None
    )
    rows = store.read().execute("SELECT model, prompt_tokens, completion_tokens, cost FROM calls")
    markov = 0
    for model, prompt, completion, cost in rows.fetchall():
        if model == "echo":
            assert cost == pytest.approx((prompt * 1.0 + completion * 2.0) / 1e6)
        else:  # markov: no price, so no cost rather than a cost of 0
            assert cost is None
            markov += 1
    assert markov and outcome.unpriced == markov


def test_calls_without_usage_are_estimated_and_flagged_never_zero(store: Store) -> None:
    import_file(store, "llm-logs", FIXTURES / "llm-0.13-logs.db", prices=no_price)
    calls = list(imported(store).values())
    assert calls and all(call["tokens_estimated"] == 1 for call in calls)
    assert all(call["prompt_tokens"] > 0 and call["completion_tokens"] > 0 for call in calls)


def _damaged(tmp_path: Path, source: Path, *statements: str) -> Path:
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


def test_a_damaged_responses_row_refuses_the_whole_file(store: Store, tmp_path: Path) -> None:
    path = _damaged(
        tmp_path, OLD,
        "UPDATE responses SET datetime_utc = NULL WHERE rowid = 4",
        "UPDATE responses SET input_tokens = -3 WHERE rowid = 5",
    )  # fmt: skip
    with pytest.raises(CallImportError) as caught:
        import_file(store, "llm-logs", path, prices=no_price)
    message = str(caught.value)
    assert "llm-0.19-logs.db: responses row 4: no time" in message
    assert "llm-0.19-logs.db: responses row 5: input_tokens is negative: -3" in message
    assert imported(store) == {}


def test_a_damaged_turn_refuses_the_whole_file(store: Store, tmp_path: Path) -> None:
    path = _damaged(
        tmp_path, NEW,
        "UPDATE turns SET model = NULL WHERE rowid = 2",
        "UPDATE turns SET tip_message_hash = 'b2:gone' WHERE rowid = 3",
        "UPDATE parts SET payload = '{not json' WHERE id = (SELECT min(id) FROM parts"
        " WHERE type = 'tool_call')",
    )  # fmt: skip
    with pytest.raises(CallImportError) as caught:
        import_file(store, "llm-logs", path, prices=no_price)
    message = str(caught.value)
    assert "llm-0.36-logs.db: turns row 2: no model" in message
    assert "llm-0.36-logs.db: turns row 3: message b2:gone is not in `messages`" in message
    assert "part payload is not JSON" in message
    assert imported(store) == {}


def test_a_file_that_is_not_llm_logs_is_refused(store: Store, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(CallImportError, match=r"not llm's logs\.db"):
        import_file(store, "llm-logs", other, prices=no_price)
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 200)
    with pytest.raises(CallImportError, match="not a SQLite database"):
        import_file(store, "llm-logs", text, prices=no_price)
    half = _damaged(tmp_path, NEW, "DROP TABLE parts")
    with pytest.raises(CallImportError, match=r"a `turns` table without llm's parts"):
        import_file(store, "llm-logs", half, prices=no_price)
    assert imported(store) == {}


def test_the_import_command_exits_0_on_llms_files_and_2_on_anything_else(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bench.db"
    calls = len(source_calls(NEW))
    result = _cli("import", "llm-logs", str(NEW), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert f"llm-0.36-logs.db: {calls} calls read, {calls} added" in result.stdout
    again = _cli("import", "llm-logs", str(NEW), "--db", str(db))
    assert f"{calls} calls read, 0 added, {calls} already in the log" in again.stdout

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 200)
    fresh = tmp_path / "fresh.db"
    for path, reason in ((other, "not llm's logs.db"), (text, "not a SQLite database")):
        refused = _cli("import", "llm-logs", str(path), "--db", str(fresh))
        assert refused.exit_code == 2, refused.output
        assert reason in refused.output and "Traceback" not in refused.output
        assert "nothing was written" in refused.output
    if fresh.exists():  # a refused import leaves no calls behind
        conn = sqlite3.connect(fresh)
        assert conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
        conn.close()
