"""Comparisons from the Compare pane: picks become a resumable run whose cells stream into a
board, on the built-in models."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, Settings
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.services.compare.board import load_board
from llmbench.services.compare.runs import (
    ADHOC_DATASET,
    Picks,
    choices,
    new_comparison,
    parse_adhoc,
    run_comparison,
)
from llmbench.services.evaluation.cells import Cell
from llmbench.services.evaluation.engine import EvalError
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo

SETTINGS = Settings(gateway=GatewaySettings(max_retries=0))
MODELS = ("llmbench/echo", "llmbench/mock")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "compare.db") as opened:
        yield opened
    shutdown_sync()


def _seed(store: Store) -> tuple[list[int], int]:
    def job(db: Any) -> tuple[list[int], int]:
        prompt = prompts_repo.create_prompt(db, "support-reply")
        variables = [Variable("ticket", "untrusted")]
        versions = [
            prompts_repo.add_version(db, prompt, {"task": text}, variables=variables)
            for text in ("Ticket: {{ ticket }}", "Answer kindly. Ticket: {{ ticket }}")
        ]
        dataset = datasets.create_dataset(db, "tickets")
        datasets.add_cases(
            db, dataset, [datasets.NewCase({"ticket": f"problem {n}"}) for n in range(5)]
        )
        return versions, dataset

    return store.write(job)


def test_choices_offer_versions_models_and_datasets(store: Store) -> None:
    versions, dataset = _seed(store)
    offered = choices(store, SETTINGS)
    assert [choice.id for choice in offered.versions] == versions[::-1]  # newest first
    assert offered.models[:2] == list(SETTINGS.models.default_models)
    assert [(d.id, d.name, d.cases, d.variables) for d in offered.datasets] == [
        (dataset, "tickets", 5, frozenset({"ticket"}))
    ]
    assert offered.dataset_for(versions[0]) == offered.datasets[0]


def test_a_comparison_streams_every_cell_into_the_board(store: Store) -> None:
    versions, dataset = _seed(store)
    run_id = new_comparison(store, Picks(tuple(versions), MODELS, dataset_id=dataset))
    board = load_board(store, SETTINGS, run_id)
    assert len(board.columns) == 4 and len(board.rows) == 5
    assert board.progress().finished == 0 and board.resumable

    chunks: list[tuple[int | None, str]] = []
    original = board.chunk

    def spy(cell: Cell, text: str) -> None:
        chunks.append((cell.case_id, text))
        original(cell, text)

    board.chunk = spy  # type: ignore[method-assign]
    board.watched = (board.rows[2].case_id, 0)  # the case on screen: its cells stream
    summary = run_comparison(store, SETTINGS, board, cancelled=lambda: False)
    assert summary.status == "done" and summary.finished == 20
    progress = board.progress()
    assert (progress.finished, progress.running, progress.errors) == (20, 0, 0)
    # The watched case's four answers arrived in pieces; the others whole, more cheaply.
    assert len(chunks) > 4 and {case for case, _ in chunks} == {board.rows[2].case_id}
    echo = board.state(board.columns[0], board.rows[2])
    assert echo.status == "ok" and "problem 2" in echo.text
    assert echo.completion_tokens and echo.latency_ms is not None and echo.result_id

    reloaded = load_board(store, SETTINGS, run_id)
    for column in board.columns:
        for row in board.rows:
            stored, live = reloaded.state(column, row), board.state(column, row)
            assert (stored.text, stored.result_id) == (live.text, live.result_id)


def test_a_cancelled_comparison_resumes_with_only_its_missing_cells(store: Store) -> None:
    versions, dataset = _seed(store)
    run_id = new_comparison(store, Picks(tuple(versions), MODELS, dataset_id=dataset))
    board = load_board(store, SETTINGS, run_id)
    stop = threading.Event()
    finished_before = board.finished

    def finished(outcome: Any) -> None:
        finished_before(outcome)
        if board.progress().finished >= 6:
            stop.set()

    board.finished = finished  # type: ignore[method-assign]
    first = run_comparison(store, SETTINGS, board, cancelled=stop.is_set)
    assert first.status == "cancelled" and 6 <= first.finished < 20
    assert board.progress().running == 0  # nothing left looking busy

    again = load_board(store, SETTINGS, run_id)
    assert again.progress().finished == first.finished
    second = run_comparison(store, SETTINGS, again, cancelled=lambda: False)
    assert second.status == "done" and second.ran == 20 - first.finished
    assert again.progress().finished == 20


def test_an_adhoc_input_is_kept_as_a_case(store: Store) -> None:
    versions, _ = _seed(store)
    run_id = new_comparison(
        store, Picks(tuple(versions[:1]), MODELS[:1], adhoc=parse_adhoc("ticket=lost my keys"))
    )
    board = load_board(store, SETTINGS, run_id)
    assert [row.title for row in board.rows] == ["ticket=lost my keys"]
    run_comparison(store, SETTINGS, board, cancelled=lambda: False)
    assert "lost my keys" in board.state(board.columns[0], board.rows[0]).text
    adhoc = datasets.dataset_id(store.read(), ADHOC_DATASET)
    assert adhoc is not None and len(datasets.list_cases(store.read(), adhoc)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("my parcel is late", {"input": "my parcel is late"}),
        ("ticket=late; tone = warm", {"ticket": "late", "tone": "warm"}),
        ("ticket=a=b\nlang=fr", {"ticket": "a=b", "lang": "fr"}),
    ],
)
def test_parse_adhoc(text: str, expected: dict[str, str]) -> None:
    assert parse_adhoc(text) == expected


def test_bad_picks_are_refused_with_a_reason(store: Store) -> None:
    versions, dataset = _seed(store)
    with pytest.raises(EvalError, match="model"):
        new_comparison(store, Picks(tuple(versions), (), dataset_id=dataset))
    with pytest.raises(EvalError, match="dataset"):
        new_comparison(store, Picks(tuple(versions), MODELS))
    with pytest.raises(EvalError, match="version"):
        new_comparison(store, Picks((), MODELS, dataset_id=dataset))
    with pytest.raises(EvalError, match="name=value"):
        parse_adhoc("ticket=late; nonsense")
