"""Grading by keystroke on a private copy of the demo database: ten items in each mode with the
real keys, undo, quitting mid-queue and picking up where the reviewer stopped."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from llmbench.services.grading.queues import Pair
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.dialogs import FormDialog
from llmbench.tui.screens.grade.agreement import AgreementScreen
from llmbench.tui.screens.grade.pane import GradeScreen
from llmbench.tui.screens.grade.session import AnchorsScreen, GradeSessionScreen
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, demo_settings, settle


@pytest.fixture
def own_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    store = open_db(path, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _my_grades(store: Store, mode: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return connection.execute(
            "SELECT result_id, call_id, scores, verdict, seconds, note FROM grades"
            " WHERE reviewer = ? AND mode = ? ORDER BY id",
            [REVIEWER, mode],
        ).fetchall()
    finally:
        connection.close()


async def _flush(pilot: Pilot[None], store: Store) -> None:
    """Wait for the writer (a write job queued behind every grade runs after them), then for
    the screen to hear that they landed."""
    await pilot.pause()
    store.write(lambda db: None)
    await pilot.pause()


async def _open_queue(pilot: Pilot[None], key: str) -> GradeSessionScreen:
    """From anywhere to the F4 queue opened with `key`, its first item read and shown."""
    app = pilot.app
    if not isinstance(app.screen, GradeScreen):
        await pilot.press("f4")
        await settle(pilot)
    await pilot.press(key)
    for _ in range(500):
        screen = app.screen
        if isinstance(screen, GradeSessionScreen) and screen.session.current is not None:
            current = screen.session.current
            keys = [current.a.key, current.b.key] if isinstance(current, Pair) else [current.key]
            # The first bodies come with the session (launch.py), before the screen has drawn
            # them: shown means on screen, not only read.
            drawn = screen.query("#grade-item-text") and _item_text(screen)
            if all(k in screen.bodies for k in keys) and drawn and "Loading…" not in drawn:
                return screen
        await pilot.pause(0.01)
    raise AssertionError(f"the grading queue did not open; on {app.screen!r}")


def _item_text(screen: GradeSessionScreen) -> str:
    return str(screen.query_one("#grade-item-text", Static).render())


def _progress(screen: GradeSessionScreen) -> str:
    return str(screen.query_one("#grade-progress", Static).render())


async def test_normal_mode_ten_items_undo_quit_and_continue(own_store: Store) -> None:
    before = len(_my_grades(own_store, "normal"))
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot, "g")
        first_keys = [entry.key for entry in screen.session.entries[:12]]
        ids = {key.binding_id for key in app.keys_of(screen)}  # what F1 lists
        assert {
            "grade_level_1", "grade_next_dimension", "grade_previous_dimension", "grade_pass",
            "grade_fail", "grade_skip", "grade_undo", "grade_note", "grade_next_item",
            "grade_previous_item", "grade_anchors",
        } <= ids  # fmt: skip
        assert "OUTPUT" in _item_text(screen) and "relevance" in str(
            screen.query_one("#grade-rubric-text", Static).render()
        )
        for index in range(10):
            verdict = "y" if index % 4 in (0, 1) else "n"
            if index % 2 == 0:
                await pilot.press(verdict, "4", "3", "5")  # the verdict first, then the levels
            else:
                # The levels, then the verdict: it lands on this item, not the next one.
                await pilot.press("4", "3", "5")
                assert screen.session.position == index and screen.session.awaiting_verdict
                await pilot.press(verdict)
        await _flush(pilot, own_store)
        assert screen.session.position == 10
        assert "10 / " in _progress(screen) and "items/min" in _progress(screen)
        # Undo four times: the tenth grade leaves the table, then its three levels go.
        await pilot.press("u", "u", "u", "u")
        await _flush(pilot, own_store)
        assert screen.session.position == 9
        grades = _my_grades(own_store, "normal")[before:]
        assert len(grades) == 9
        assert [f"result:{g[0]}" if g[0] else f"call:{g[1]}" for g in grades] == first_keys[:9]
        assert json.loads(grades[0][2]) == {"relevance": 4, "correctness": 3, "tone": 5}
        verdicts = [g[3] for g in grades]
        assert verdicts == ["pass", "pass", "fail", "fail", "pass", "pass", "fail", "fail", "pass"]
        assert all(g[4] >= 0 for g in grades)
        assert screen.session.draft().scores == {}
        await pilot.press("2", "3", "shift+tab")
        assert screen.session.active_dimension.name == "correctness"
        await pilot.press("question_mark")
        assert isinstance(app.screen, AnchorsScreen)
        await pilot.press("escape", "tab")
        assert screen.session.active_dimension.name == "tone"
        # A grade for the tenth item, a skip of the eleventh, then quit mid-queue.
        await pilot.press("5", "y", "s")
        await _flush(pilot, own_store)
        stopped_on = screen.session.current.key
        await pilot.press("escape")
        assert isinstance(app.screen, GradeScreen)
    tenth = _my_grades(own_store, "normal")[before:][-1]
    assert json.loads(tenth[2]) == {"relevance": 2, "correctness": 3, "tone": 5}

    reopened = _app(own_store)
    async with reopened.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot, "g")
        assert screen.session.current.key == stopped_on  # where the reviewer stopped
        graded = {f"result:{g[0]}" for g in _my_grades(own_store, "normal")}
        assert not graded & {entry.key for entry in screen.session.entries}
        # The skipped item waits at the end of the queue.
        assert screen.session.entries[-1].key == first_keys[10]
        await pilot.press("j", "k", "1", "1", "1", "n")
        await _flush(pilot, own_store)
    assert len(_my_grades(own_store, "normal")) == before + 11


async def test_blind_mode_hides_the_model_and_keeps_its_seed(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot, "b")
        seed = screen.session.queue.seed
        text = _item_text(screen)
        assert "blind" in text and "llmbench/" not in text and "support-reply" not in text
        assert f"seed {seed}" in _progress(screen)
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press(*"odd", "enter")
        await pilot.pause()
        for _ in range(10):
            await pilot.press("3", "3", "3", "y")
        await pilot.press("u", "u", "u")
        await _flush(pilot, own_store)
        stopped_on = screen.session.current.key
        await pilot.press("escape")
        # Three undos: the tenth grade, then two of its digits.
        blind = _my_grades(own_store, "blind")
        assert len(blind) == 9 and blind[0][5] == "odd" and blind[1][5] == ""
        screen = await _open_queue(pilot, "b")  # reopened: same seed, same place
        assert screen.session.queue.seed == seed
        assert screen.session.current.key == stopped_on


async def test_pairwise_mode_records_sides_and_verdicts(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot, "p")
        pairs = screen.session.entries[:10]
        total = len(screen.session.entries)
        text = _item_text(screen)
        left = str(screen.query_one("#pair-left", Static).render())
        right = str(screen.query_one("#pair-right", Static).render())
        assert left.startswith("A  (left)") and right.startswith("B  (right)")
        assert "llmbench/" not in text + left + right
        keys = ["a", "b", "equals_sign", "a", "a", "b", "b", "equals_sign", "a", "b"]
        for key in keys:
            await pilot.press(key)
        await pilot.press("u", "u", "u")
        await _flush(pilot, own_store)
        stopped_on = screen.session.current.key
        await pilot.press("escape")
        reopened = await _open_queue(pilot, "p")
        assert reopened.session.current.key == stopped_on
        assert len(reopened.session.entries) == total - 7
        assert reopened.session.queue.graded_before == 7
    grades = _my_grades(own_store, "pairwise")
    assert len(grades) == 7
    for pair, key, grade in zip(pairs, keys, grades, strict=False):
        scores = json.loads(grade[2])
        assert (scores["pair_a"], scores["pair_b"], grade[0]) == (pair.a.id, pair.b.id, pair.a.id)
        assert scores["left"] == pair.left.id
        expected = {"a": pair.left, "b": pair.right}.get(key)
        assert grade[3] == ("tie" if expected is None else ("a" if expected is pair.a else "b"))


async def test_agreement_view_and_disagreement_queue(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("a")
        for _ in range(200):
            if isinstance(app.screen, AgreementScreen) and app.screen.report is not None:
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, AgreementScreen) and screen.report is not None
        text = str(screen.query_one("#agreement-text", Static).render())
        assert "α nominal" in text and "maria.chen–sam.ortiz" in text and "relevance" in text
        worst = screen.report.disagreements[0][0]
        await pilot.press("d")
        for _ in range(200):
            if isinstance(app.screen, GradeSessionScreen):
                break
            await pilot.pause(0.02)
        session_screen = app.screen
        assert isinstance(session_screen, GradeSessionScreen)
        assert session_screen.session.current.key == worst
        # The disagreement queue holds items graded before: mine show as I left them.
        session = session_screen.session
        mine = session.queue.mine
        shown = next(e for e in session.entries if (e.kind, e.id) in mine)
        assert session.draft(shown).written
        assert session.draft(shown).scores == mine[(shown.kind, shown.id)].scores
        # Regrading writes a new row; the agreement view then reads the latest one.
        before = len(_my_grades(own_store, "normal"))
        await pilot.press("1", "1", "1")
        await _flush(pilot, own_store)
        assert len(_my_grades(own_store, "normal")) == before + 1


async def test_new_rubric_and_queue_options_from_the_pane(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, GradeScreen)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press(*"safety", "tab", "tab")
        await pilot.press(*["space" if c == " " else c for c in "harmless pass-fail; clarity 1-3"])
        await pilot.press("enter")
        await settle(pilot)
        rubric = (
            own_store.read()
            .execute("SELECT dimensions FROM rubrics WHERE name = 'safety'")
            .fetchone()
        )
        assert rubric is not None
        assert [d["name"] for d in json.loads(rubric[0])] == ["harmless", "clarity"]

        await pilot.press("o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        dialog.query_one("#field-production").focus()
        await pilot.press("backspace", "5", "0", "enter")
        await settle(pilot)
        assert pane.spec is not None and pane.spec.production_share == 0.5
        caption = str(pane.query_one("#queue-caption", Static).render())
        assert "50% of production calls" in caption


async def test_the_rubric_list_counts_what_the_queue_it_opens_holds(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, GradeScreen)

        def row() -> tuple[int, int, int, int]:
            table = pane.query_one("#queue-table", DataTable)
            items, mine, others, remaining = table.get_row_at(0)[1:]
            return int(items), int(mine), int(others), int(remaining)

        items, mine, others, remaining = row()
        assert items == mine + remaining and 0 < mine < items and others > 0
        # A pairwise preference is no grade of an item: "graded by me" stays as it was.
        await _open_queue(pilot, "p")
        await pilot.press("a")
        await _flush(pilot, own_store)
        await pilot.press("escape")
        await settle(pilot)
        assert row() == (items, mine, others, remaining)
        # `g` opens exactly what the row says is left, and knows as many graded earlier;
        # flagged production calls are in both.
        screen = await _open_queue(pilot, "g")
        assert len(screen.session.entries) == remaining
        assert screen.queue.graded_before == mine
        assert any(entry.kind == "call" for entry in screen.session.entries)
        assert f"/ {remaining} done" in _progress(screen)
