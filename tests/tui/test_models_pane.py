"""F8 Models with real keys on the demo database: its rows and a model's detail against SQL over
the same file, the columns that stay at 80×24 and those wider sizes add, the palette and F1;
and the F3 model picker's columns and its warning for a prompt longer than a context window."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, SelectionList, Static

from llmbench.config import ModelSettings, Settings
from llmbench.core.models import Variable
from llmbench.gateway.model_table import bundled_model_table
from llmbench.store import datasets as datasets_repo
from llmbench.store.db import open_db
from llmbench.store.prompts import versions as versions_repo
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import millis, percent
from llmbench.tui.screens.compare.new_run import NewRunDialog
from llmbench.tui.screens.model_columns import (
    ALWAYS_SHOWN,
    ModelTable,
    picker_header,
    picker_layout,
    tokens_short,
)
from llmbench.tui.screens.models import ModelsScreen
from tests.services.test_models_catalog import _small_window_model
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


def _sql(demo_sql: sqlite3.Connection, query: str, *args: object) -> list[tuple[Any, ...]]:
    return demo_sql.execute(query, args).fetchall()


def _p50(demo_sql: sqlite3.Connection, model: str) -> float:
    values = [
        row[0]
        for row in _sql(
            demo_sql,
            "SELECT latency_ms FROM calls WHERE model = ? AND status = 'ok'"
            " AND latency_ms IS NOT NULL ORDER BY latency_ms",
            model,
        )
    ]
    return values[max(math.ceil(0.5 * len(values)), 1) - 1]


def _price(demo_sql: sqlite3.Connection, model: str) -> tuple[float, float]:
    """The prices table's entry in force on the demo's day."""
    row = _sql(
        demo_sql,
        "SELECT input, output FROM prices WHERE model = ? AND from_date <= ?"
        " ORDER BY from_date DESC LIMIT 1",
        model,
        DEMO_NOW.date().isoformat(),
    )[0]
    return row[0], row[1]


def _line(table: ModelTable, y: int) -> str:
    return table.render_line(y).text


async def test_f8_lists_every_model_with_its_facts_and_figures(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f8")
        assert app.current_mode == "models"
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        table = screen.query_one("#models-table", ModelTable)
        used = _sql(demo_sql, "SELECT model, count(*) FROM calls GROUP BY model ORDER BY 2 DESC")
        keys = [row.key for row in table.rows]
        assert keys[: len(used)] == [model for model, _n in used]  # the most used first
        assert {"llmbench/mock", "llmbench/echo"} <= set(keys)

        columns = [column.key for column in table.columns]
        gpt = table.rows[keys.index("gpt-4o")].cells
        cell = dict(zip(columns, gpt, strict=True))
        window = bundled_model_table()["gpt-4o"]["max_input_tokens"]
        price_in, price_out = _price(demo_sql, "gpt-4o")
        assert cell["context"] == tokens_short(window)
        assert (cell["input"], cell["output"]) == (f"{price_in:.2f}", f"{price_out:.2f}")
        assert cell["p50"] == millis(_p50(demo_sql, "gpt-4o"))
        calls = dict(used)["gpt-4o"]
        assert cell["calls"] == f"{calls:,}"
        cells, passed = _sql(
            demo_sql,
            "SELECT count(*), sum(r.status = 'ok' AND coalesce((SELECT min(k.passed) FROM checks k"
            " WHERE k.result_id = r.id), 1) != 0) FROM results r WHERE r.model = 'gpt-4o'",
        )[0]
        assert cell["pass"] == percent(passed / cells)

        while table.cursor_key != "gpt-4o":
            await pilot.press("down")
        await pilot.pause()
        facts = str(screen.query_one("#model-facts", Static).render())
        assert f"Context {window:,}" in facts
        assert f"Here: {calls:,} calls" in facts
        assert "Licence: proprietary (API only)" in facts
        per_prompt = dict(
            _sql(
                demo_sql,
                "SELECT coalesce(p.name, ''), count(*) FROM calls c"
                " LEFT JOIN prompt_versions pv ON pv.id = c.prompt_version_id"
                " LEFT JOIN prompts p ON p.id = pv.prompt_id WHERE c.model = 'gpt-4o' GROUP BY 1",
            )
        )
        prompts = screen.query_one("#model-prompts", DataTable)
        shown = {
            str(prompts.get_row_at(row)[0]): str(prompts.get_row_at(row)[1])
            for row in range(prompts.row_count)
        }
        assert shown == {(name or "(no saved prompt)"): f"{n:,}" for name, n in per_prompt.items()}

        await pilot.press("end")  # the least used: a built-in simulator
        await pilot.pause()
        facts = str(screen.query_one("#model-facts", Static).render())
        assert "offline simulator" in facts and "Context no limit" in facts


async def test_at_80x24_the_columns_that_matter_stay_and_wider_shows_more(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "f8")
        table = app.screen.query_one("#models-table", ModelTable)
        keys = [column.key for column in table.columns]
        assert set(ALWAYS_SHOWN) == {"model", "context", "input", "output", "p50"}
        assert set(ALWAYS_SHOWN) <= set(keys) and "licence" not in keys
        header = _line(table, 0)
        for label in ("Model", "Context", "In $/M", "Out $/M", "p50"):
            assert label in header
        row = _line(table, 1 + [r.key for r in table.rows].index("gpt-4o"))
        cell = dict(zip(keys, table.rows[[r.key for r in table.rows].index("gpt-4o")].cells,
                        strict=True))  # fmt: skip
        for key in ALWAYS_SHOWN:
            assert cell[key] in row  # drawn, not cut
        assert len(row.rstrip()) <= table.size.width
        # What folded is still in the detail.
        assert "Licence:" in str(app.screen.query_one("#model-facts", Static).render())

        await pilot.resize_terminal(200, 60)
        await settle(pilot)
        wide = [column.key for column in table.columns]
        assert {"licence", "tools", "vision", "p95", "cost", "cached", "max_output"} <= set(wide)
        assert "Licence" in _line(table, 0)


async def test_the_palette_and_f1_offer_the_models_view(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Models")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "models"
        await pilot.press("f1")
        await pilot.pause()
        help_rows = app.screen.query_one("#help-keys", DataTable)
        by_id = {
            str(help_rows.get_row_at(row)[2]): [str(c) for c in help_rows.get_row_at(row)]
            for row in range(help_rows.row_count)
        }
        assert by_id["show_models"][:2] == ["f8", "Models"]


async def test_an_empty_database_lists_the_built_in_models(tmp_path: Path) -> None:
    with open_db(tmp_path / "empty.db") as store:
        app = LLMBenchApp(store, demo_settings())
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f8")
            table = app.screen.query_one("#models-table", ModelTable)
            assert {row.key for row in table.rows} == {"llmbench/mock", "llmbench/echo"}
            caption = str(app.screen.query_one("#models-caption", Static).render())
            assert "no calls recorded yet" in caption and "llmbench demo" in caption


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await pilot.pause(0.05)


async def test_the_f3_picker_shows_the_models_columns_and_warns_of_a_prompt_too_long(
    pristine_copy: Path,
) -> None:
    small_model, window = _small_window_model()
    long_transcript = " ".join(["lorem"] * (window + 200))

    def seed(db: Any) -> None:
        # Sorted first among the versions, so the dialog picks it and its dataset.
        prompt = versions_repo.create_prompt(db, "aaa-digest")
        versions_repo.add_version(
            db, prompt, {"task": "Digest: {{ transcript }}"}, variables=(Variable("transcript"),)
        )
        dataset = datasets_repo.create_dataset(db, "long-documents")
        datasets_repo.add_cases(
            db,
            dataset,
            [
                datasets_repo.NewCase({"transcript": "a short one"}),
                datasets_repo.NewCase({"transcript": long_transcript}),
            ],
        )

    settings = Settings(
        general=demo_settings().general,
        models=ModelSettings(default_models=("llmbench/mock", small_model, "gpt-4o")),
    )
    with open_db(pristine_copy, create=False) as store:
        store.write(seed)
        demo_sql = sqlite3.connect(f"file:{pristine_copy}?mode=ro", uri=True)
        app = LLMBenchApp(store, settings, db_label="demo.db", clock=lambda: DEMO_NOW)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await open_pane(pilot, "f3")
                await pilot.press("n")
                await _until(pilot, lambda: isinstance(app.screen, NewRunDialog))
                dialog = app.screen
                assert isinstance(dialog, NewRunDialog)
                await _until(pilot, lambda: dialog.fit_problems is not None)

                head = str(dialog.query_one("#new-run-models-head", Static).render())
                for label in ("Model", "Context", "In $/M", "Out $/M", "p50", "Pass"):
                    assert label in head
                models = dialog.query_one("#new-run-models", SelectionList)
                lines = {
                    str(models.get_option_at_index(i).value): str(
                        models.get_option_at_index(i).prompt
                    )
                    for i in range(models.option_count)
                }
                price_in, price_out = _price(demo_sql, "gpt-4o")
                cells, passed = _sql(
                    demo_sql,
                    "SELECT count(*), sum(r.status = 'ok' AND coalesce((SELECT min(k.passed)"
                    " FROM checks k WHERE k.result_id = r.id), 1) != 0) FROM results r"
                    " WHERE r.model = 'gpt-4o'",
                )[0]
                gpt = lines["gpt-4o"].split()
                assert gpt == [
                    "gpt-4o",
                    tokens_short(bundled_model_table()["gpt-4o"]["max_input_tokens"]),
                    f"{price_in:.2f}",
                    f"{price_out:.2f}",
                    *millis(_p50(demo_sql, "gpt-4o")).split(),
                    percent(passed / cells),
                ]
                assert tokens_short(window) in lines[small_model]
                assert "no limit" in lines["llmbench/mock"]

                [problem] = dialog.fit_problems
                assert (problem.model, problem.version) == (small_model, "aaa-digest@1")
                assert (problem.too_long, problem.cases) == (1, 2)
                warning = str(dialog.query_one("#new-run-fit", Static).render())
                assert f"{small_model}: 1 of 2 cases of aaa-digest@1 would not fit" in warning

                # Unpicking the model that is too small clears the warning.
                models.deselect(small_model)
                await _until(pilot, lambda: dialog.fit_problems == [])
                assert str(dialog.query_one("#new-run-fit", Static).render()) == ""
                await pilot.press("escape")
        finally:
            demo_sql.close()


def test_the_picker_lines_fold_their_fields_from_the_pass_rate_down() -> None:
    full = picker_layout(None)
    assert [key for key, _label, _width in full.fields] == [
        "context",
        "input",
        "output",
        "p50",
        "pass",
    ]
    narrow = picker_layout(36)
    assert [key for key, _label, _width in narrow.fields] == ["context", "input"]
    assert len(picker_header(narrow)) <= 36
