"""Scenario 10 — a call returns only once its row is on disk, and a row the file refuses is a
typed error for that call, with the model's answer attached.

What it proves:
  * with the default durability a call does not return while the writer has not committed its
    row (the writer is held on purpose); with durability="async" it returns at once;
  * on a read-only file every call raises CallNotRecorded — complete, acomplete (concurrent),
    stream, and a call whose model failed anyway — carrying the answer (or the error), with
    the store's DatabaseReadOnly as its cause, and nothing is written;
  * on a disk that fills up every call either returns with its row in the file or raises
    CallNotRecorded without one: none returns without its row;
  * calls that end together are sealed in one writer job, and a record refused for itself (a
    malformed value) fails alone: the others of its group land;
  * with durability="async" the calls return, the refusals are counted, and close() raises;
  * the litellm callback never raises into the app on a read-only file: each call it could
    not record is counted, and one warning is logged.

How the conditions are made (as in test_disk_full_read_only): a read-only file is chmod 0444,
made immutable with `chattr +i` when running as root; a full disk is SQLite's
`max_page_count`, set on every connection, so a write that needs a page past it fails with
SQLITE_FULL as on a disk with no space left.

Runtime: ~10 s, most of it litellm's import.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmbench.config import GatewaySettings, Settings
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.client import run_sync, shutdown, shutdown_sync
from llmbench.gateway.litellm_setup import litellm_module
from llmbench.gateway.outcomes import CallNotRecorded, GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.sdk import Bench
from llmbench.store import db as db_module
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import DatabaseFull, DatabaseReadOnly, open_db
from tests.reliability.conftest import assert_sound, count
from tests.support.litellm_callbacks import callback_lists_restored

ECHO = "llmbench/echo"
SETTINGS = Settings(gateway=GatewaySettings(max_retries=0))
BIG = "lorem ipsum dolor sit amet " * 80  # ~2 KB a body: a few dozen calls fill the slack
CALLS_TO_FILL = 132


def _ask(n: int, body: str = "") -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question {n} {body}".strip()}]


@pytest.fixture(autouse=True)
def _stop_background_loop() -> Iterator[None]:
    yield
    shutdown_sync()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with Bench(db=path, settings=SETTINGS):  # creates the file and its chain key
        pass
    return path


def _fill_disk(monkeypatch: pytest.MonkeyPatch, path: Path, slack_pages: int) -> None:
    """From now on every connection may grow the file by `slack_pages` pages at most."""
    conn = sqlite3.connect(path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0] + slack_pages
    conn.close()
    apply = db_module._apply_pragmas

    def with_limit(conn: sqlite3.Connection) -> None:
        apply(conn)
        conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(db_module, "_apply_pragmas", with_limit)


def _request_ids(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT request_id FROM calls")}
    finally:
        conn.close()


def _hold_writer(bench: Bench) -> threading.Event:
    """Park the store's writer thread on a job until the returned event is set."""
    release = threading.Event()
    bench.store.submit(lambda db: release.wait(10))
    return release


@pytest.mark.parametrize("durability", ["durable", "async"])
def test_a_call_returns_once_its_row_is_committed(database: Path, durability: str) -> None:
    with Bench(db=database, settings=SETTINGS, durability=durability) as bench:  # type: ignore[arg-type]
        bench.complete(ECHO, _ask(0))  # warm: the first call imports and opens what it needs
        release = _hold_writer(bench)
        answers: list[GatewayResult] = []
        caller = threading.Thread(target=lambda: answers.append(bench.complete(ECHO, _ask(1))))
        caller.start()
        caller.join(0.5)
        returned_while_held = bool(answers)
        release.set()
        caller.join(10)
        assert answers, "the call never returned"
        if durability == "durable":
            assert not returned_while_held, "a durable call returned before its commit"
            # Returned, hence committed: another connection sees the row at once.
            assert answers[0].request_id in _request_ids(database)
        else:
            assert returned_while_held


def test_records_queued_together_land_together_and_a_bad_one_fails_alone(database: Path) -> None:
    def row(n: int, status: str = "ok") -> dict[str, Any]:
        ts = f"2026-01-01T00:00:{n:02d}.000Z"
        return {"ts": ts, "request_id": f"r{n}", "model_requested": ECHO, "model": ECHO,
                "status": status}  # fmt: skip

    with open_db(database, create=False) as store:
        recorder = AuditRecorder(store)
        redactor = recorder.redactor()
        release = threading.Event()
        store.submit(lambda db: release.wait(10))  # the records below wait in one group
        written = [recorder.record(row(n, "bogus" if n == 2 else "ok"), redactor) for n in range(5)]
        release.set()
        ids = [future.result(10)[0] for n, future in enumerate(written) if n != 2]
        with pytest.raises(ValueError, match="unknown call status 'bogus'"):
            written[2].result(10)
        assert ids == sorted(ids)
        found = store.read().execute("SELECT request_id FROM calls ORDER BY id").fetchall()
        assert [r[0] for r in found] == ["r0", "r1", "r3", "r4"]
        assert verify_chain(store.read(), recorder.key).ok
        assert recorder.failed_writes == 1


def test_every_call_on_a_read_only_file_raises_with_its_answer(
    database: Path, read_only_file: Callable[[Path], None]
) -> None:
    read_only_file(database)
    with Bench(db=database, settings=SETTINGS) as bench:
        for n in range(3):
            with pytest.raises(CallNotRecorded) as caught:
                bench.complete(ECHO, _ask(n))
            refused = caught.value
            assert refused.result is not None and refused.text == f"question {n}"
            assert isinstance(refused.cause, DatabaseReadOnly)
            assert refused.__cause__ is refused.cause
            assert "was not recorded in the audit log" in str(refused)
            assert "is read-only" in str(refused) and "\n" not in str(refused)

        async def concurrent() -> list[Any]:
            calls = (bench.acomplete(ECHO, _ask(n)) for n in range(10, 18))
            return await asyncio.gather(*calls, return_exceptions=True)

        outcomes = run_sync(concurrent())
        assert all(isinstance(outcome, CallNotRecorded) for outcome in outcomes), outcomes
        assert sorted(o.text for o in outcomes) == sorted(f"question {n}" for n in range(10, 18))

        pieces: list[Any] = []
        with pytest.raises(CallNotRecorded) as caught:
            for piece in bench.stream(ECHO, _ask(20)):
                pieces.append(piece)
        assert "".join(pieces) == "question 20" == caught.value.text

        # A call whose model failed anyway: the provider's error travels with it.
        with pytest.raises(CallNotRecorded) as caught:
            bench.complete(ECHO, _ask(30), params={"mock_fail": "server"})
        assert caught.value.result is None and caught.value.error is not None
        assert caught.value.error.failure.kind == "server"
    # close() did not raise again what every call raised already.
    assert count(database, "SELECT count(*) FROM calls") == 0
    assert_sound(database)


def test_a_full_disk_leaves_no_call_returned_without_its_row(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_disk(monkeypatch, database, slack_pages=20)
    returned: list[str] = []
    refused: list[CallNotRecorded] = []
    with Bench(db=database, settings=SETTINGS) as bench:

        async def call(n: int) -> None:
            try:
                returned.append((await bench.acomplete(ECHO, _ask(n, BIG))).request_id)
            except CallNotRecorded as error:
                refused.append(error)

        async def calls() -> None:
            for n in range(4):  # one at a time first: these fit, whatever the timing
                await call(n)
            for start in range(4, CALLS_TO_FILL, 16):  # then together, until the disk is full
                await asyncio.gather(*(call(n) for n in range(start, start + 16)))

        run_sync(calls())
    assert len(returned) >= 4 and refused, (len(returned), len(refused))
    assert len(returned) + len(refused) == CALLS_TO_FILL
    assert all(isinstance(error.cause, DatabaseFull) for error in refused)
    assert all(error.text and error.text.startswith("question") for error in refused)
    on_disk = _request_ids(database)
    assert set(returned) == on_disk  # every returned call has its row, and only those
    assert not {error.request_id for error in refused} & on_disk
    assert_sound(database)


def test_async_durability_returns_counts_and_raises_at_close(
    database: Path, read_only_file: Callable[[Path], None]
) -> None:
    with pytest.raises(ValueError, match="durability must be one of 'durable', 'async'"):
        Bench(db=database, settings=SETTINGS, durability="eventually")  # type: ignore[arg-type]
    read_only_file(database)
    bench = Bench(db=database, settings=SETTINGS, durability="async")
    answers = [bench.complete(ECHO, _ask(n)).text for n in range(5)]
    assert answers == [f"question {n}" for n in range(5)]
    with pytest.raises(DatabaseReadOnly):
        bench.close()
    assert bench.gateway.recorder.failed_writes == 5


@pytest.fixture
def litellm() -> Iterator[ModuleType]:
    module = litellm_module()
    with callback_lists_restored(module):
        yield module


def test_the_litellm_callback_never_raises_and_counts_what_it_could_not_record(
    litellm: ModuleType,
    database: Path,
    read_only_file: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    read_only_file(database)
    logger = LLMBenchLogger(db=database)
    litellm.callbacks = [logger]
    with caplog.at_level(logging.WARNING, logger="llmbench.gateway.callback"):
        for n in range(3):
            response = litellm.completion(model=ECHO, messages=_ask(n))
            assert response.choices[0].message.content == f"question {n}"

        async def calls() -> None:
            await asyncio.gather(
                *(litellm.acompletion(model=ECHO, messages=_ask(n)) for n in range(3, 6))
            )
            await shutdown()  # litellm's logging worker runs the async hooks before the loop ends

        asyncio.run(calls())
        deadline = time.monotonic() + 10
        while logger.unrecorded < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        logger.close()  # never raises either
    assert logger.unrecorded == 6
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    assert "could not record a litellm call" in warnings[0].getMessage()
    assert "is read-only" in warnings[0].getMessage()
    assert count(database, "SELECT count(*) FROM calls") == 0
