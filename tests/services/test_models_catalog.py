"""The models view's figures against SQL over the same file (calls, results and checks read
directly, not the rollups the service reads), the models it lists and why, their facts from
litellm's shipped table and the licence table, and the F3 fit check's token counts."""

from __future__ import annotations

import math
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.config import ModelOptions, ModelSettings, PriceOverride, Settings
from llmbench.core.costs.pricing import DatedPrice
from llmbench.core.models import Price, Variable
from llmbench.core.tokens import count_message_tokens
from llmbench.core.traffic.routing import Arm, Route
from llmbench.demo.build import build_demo
from llmbench.gateway.model_table import bundled_model_table
from llmbench.services.models.catalog import models_overview
from llmbench.services.models.fit import prompt_fit
from llmbench.store import datasets as datasets_repo
from llmbench.store.costs.prices import set_price
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation.runs import NewCheck, add_checks
from llmbench.store.prompts import versions as versions_repo
from llmbench.store.routes import set_route

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
DAY = NOW.date().isoformat()
FAILED = ("error", "timeout", "rate_limited")


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("models") / "demo.db", calls=3000, now=NOW).path


@pytest.fixture
def demo_copy(built_demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    shutil.copy(built_demo, path)
    return path


@pytest.fixture
def demo_store(demo_copy: Path) -> Iterator[Store]:
    with open_db(demo_copy, create=False) as opened:
        yield opened


def _sql(path: Path, query: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def _nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def _judge_some_cells(store: Store, path: Path) -> None:
    """Judge checks on a third of the demo's cells (the demo has none), two on some cells, so
    a cell's judge score is its checks' mean and a model's the mean over its judged cells."""
    result_ids = [row[0] for row in _sql(path, "SELECT id FROM results ORDER BY id")]
    checks = []
    for index, result_id in enumerate(result_ids[::3]):
        checks.append(
            NewCheck(result_id=result_id, kind="judge", passed=True, score=0.1 * (index % 10))
        )
        if index % 4 == 0:
            checks.append(NewCheck(result_id=result_id, kind="judge", passed=None, score=0.9))
    store.write(lambda db: add_checks(db, checks))


def _expected_cells(path: Path) -> dict[tuple[str, str | None], tuple[int, int, float | None]]:
    """(cells, passed, judge mean) per (model, prompt) and per (model, None), from raw rows."""
    cells = _sql(
        path,
        "SELECT r.id, r.model, coalesce(p.name, ''), r.status FROM results r"
        " LEFT JOIN prompt_versions pv ON pv.id = r.version_id"
        " LEFT JOIN prompts p ON p.id = pv.prompt_id",
    )
    verdicts: dict[int, list[int]] = defaultdict(list)
    judges: dict[int, list[float]] = defaultdict(list)
    for result_id, kind, passed, score in _sql(
        path, "SELECT result_id, kind, passed, score FROM checks WHERE result_id IS NOT NULL"
    ):
        if passed is not None:
            verdicts[result_id].append(passed)
        if kind == "judge" and score is not None:
            judges[result_id].append(score)
    groups: dict[tuple[str, str | None], list[tuple[bool, float | None]]] = defaultdict(list)
    for result_id, model, prompt, status in cells:
        passed = status == "ok" and 0 not in verdicts[result_id]
        judge = sum(judges[result_id]) / len(judges[result_id]) if judges[result_id] else None
        groups[(model, prompt)].append((passed, judge))
        groups[(model, None)].append((passed, judge))
    expected = {}
    for key, members in groups.items():
        judged = [judge for _passed, judge in members if judge is not None]
        expected[key] = (
            len(members),
            sum(passed for passed, _judge in members),
            sum(judged) / len(judged) if judged else None,
        )
    return expected


def test_every_figure_matches_sql_over_the_calls_and_cells(
    demo_store: Store, demo_copy: Path
) -> None:
    _judge_some_cells(demo_store, demo_copy)
    overview = models_overview(demo_store, Settings(), day=DAY)

    calls = _sql(demo_copy, "SELECT model, status, cost, latency_ms FROM calls")
    per_model: dict[str, list[tuple[str, float | None, float | None]]] = defaultdict(list)
    for model, status, cost, latency in calls:
        per_model[model].append((status, cost, latency))
    assert overview.total_calls == len(calls) and overview.latency_exact
    assert {entry.name for entry in overview.models} >= set(per_model)
    for model, rows in per_model.items():
        measured = overview.entry(model).measured  # type: ignore[union-attr]
        answered = [latency for status, _c, latency in rows if status == "ok" and latency]
        assert measured.calls == len(rows)
        assert measured.failed == sum(status in FAILED for status, _c, _l in rows)
        assert measured.cost == pytest.approx(sum(cost or 0 for _s, cost, _l in rows))
        assert measured.latency_p50 == _nearest_rank(answered, 0.5)
        assert measured.latency_p95 == _nearest_rank(answered, 0.95)
    # Most used first.
    assert [entry.measured.calls for entry in overview.models] == sorted(
        (entry.measured.calls for entry in overview.models), reverse=True
    )

    per_prompt_calls = {
        (model, prompt): (n, failed)
        for model, prompt, n, failed in _sql(
            demo_copy,
            "SELECT c.model, coalesce(p.name, ''), count(*),"
            " sum(c.status IN ('error', 'timeout', 'rate_limited')) FROM calls c"
            " LEFT JOIN prompt_versions pv ON pv.id = c.prompt_version_id"
            " LEFT JOIN prompts p ON p.id = pv.prompt_id GROUP BY 1, 2",
        )
    }
    expected_cells = _expected_cells(demo_copy)
    judged_anywhere = False
    for entry in overview.models:
        cells, passed, judge = expected_cells.get((entry.name, None), (0, 0, None))
        assert (entry.measured.cells, entry.measured.passed) == (cells, passed)
        assert entry.measured.judge_score == pytest.approx(judge)
        shown = {row.prompt: row.measured for row in entry.prompts}
        expected_prompts = {prompt for model, prompt in per_prompt_calls if model == entry.name}
        expected_prompts |= {p for (m, p) in expected_cells if m == entry.name and p is not None}
        assert set(shown) == expected_prompts
        for prompt, figures in shown.items():
            assert (figures.calls, figures.failed) == per_prompt_calls.get(
                (entry.name, prompt), (0, 0)
            )
            cells, passed, judge = expected_cells.get((entry.name, prompt), (0, 0, None))
            assert (figures.cells, figures.passed) == (cells, passed)
            assert figures.judge_score == pytest.approx(judge)
            judged_anywhere |= judge is not None
    assert judged_anywhere


def test_a_big_log_samples_the_latencies_but_counts_every_call(
    demo_store: Store, demo_copy: Path
) -> None:
    overview = models_overview(demo_store, Settings(), day=DAY, sample_limit=500)
    total = _sql(demo_copy, "SELECT count(*) FROM calls")[0][0]
    assert not overview.latency_exact
    assert 0 < overview.latency_calls < total == overview.total_calls
    by_model = dict(_sql(demo_copy, "SELECT model, count(*) FROM calls GROUP BY model"))
    assert {e.name: e.measured.calls for e in overview.models if e.measured.calls} == by_model
    assert all(e.measured.latency_p50 is not None for e in overview.models if e.measured.calls)


def _small_window_model() -> tuple[str, int]:
    """A chat model of litellm's table with a small context window, and that window."""
    table = bundled_model_table()
    for name in ("gpt-4", "gpt-3.5-turbo-0125", "gpt-3.5-turbo"):
        entry = table.get(name)
        if entry and isinstance(entry.get("max_input_tokens"), int):
            return name, entry["max_input_tokens"]
    raise AssertionError("litellm's table lists none of the small-window OpenAI models")


def test_configured_models_are_listed_with_their_facts(tmp_path: Path) -> None:
    table = bundled_model_table()
    small_model, small_window = _small_window_model()
    settings = Settings(
        models=ModelSettings(default_models=("gpt-4o", small_model), judge_model="llmbench/mock"),
        prices={"my-local-model": PriceOverride(input=0.5, output=1.5, cached=0.25),
                "gpt-4o": PriceOverride(input=9.0, output=9.0)},
        model={"ollama/llama3.1:8b": ModelOptions(fallbacks=("deepseek/deepseek-chat",))},
        routes=(Route("canary", (Arm("a", model="mistral/open-mixtral-8x7b"),), model="gpt-4o"),),
    )  # fmt: skip
    with open_db(tmp_path / "config.db") as store:
        store.write(
            lambda db: set_route(
                db,
                Route("stored", (Arm("b", model="groq/qwen-qwq-32b"),)),
                "2025-05-01T00:00:00.000Z",
            )
        )
        store.write(
            lambda db: set_price(db, DatedPrice("gpt-4o", "2025-05-01", Price(2.5, 10.0, 1.25)))
        )
        overview = models_overview(store, settings, day=DAY)
    by_name = {entry.name: entry for entry in overview.models}
    assert overview.total_calls == 0 and overview.table_found
    assert set(by_name) == {
        "gpt-4o", small_model, "llmbench/mock", "llmbench/echo", "my-local-model",
        "ollama/llama3.1:8b", "deepseek/deepseek-chat", "mistral/open-mixtral-8x7b",
        "groq/qwen-qwq-32b",
    }  # fmt: skip
    assert by_name["gpt-4o"].sources == ("config", "price", "route")
    assert by_name["groq/qwen-qwq-32b"].sources == ("route",)
    assert by_name["llmbench/mock"].sources == ("built-in", "config")

    gpt = by_name["gpt-4o"].facts
    assert gpt.context_window == table["gpt-4o"]["max_input_tokens"]
    assert gpt.max_output == table["gpt-4o"]["max_output_tokens"]
    assert (gpt.tools, gpt.vision) == (True, True)
    # The prices table's entry of the day wins over the config's, as the gateway bills.
    assert (gpt.price, gpt.price_source) == (Price(2.5, 10.0, 1.25), "prices table")
    assert gpt.licence.name == "proprietary" and gpt.licence.open_weight is False
    small = by_name[small_model].facts
    assert small.context_window == small_window and small.price_source == "litellm"
    assert small.price is not None
    assert small.price.input == pytest.approx(table[small_model]["input_cost_per_token"] * 1e6)
    local = by_name["my-local-model"].facts
    assert (local.price, local.price_source) == (Price(0.5, 1.5, 0.25), "config")
    assert local.context_window is None and not local.in_table
    assert local.licence.name == "unknown"
    assert by_name["ollama/llama3.1:8b"].facts.licence.name == "Llama 3.1 Community License"
    assert by_name["deepseek/deepseek-chat"].facts.licence.name == "MIT"
    assert by_name["mistral/open-mixtral-8x7b"].facts.licence.name == "Apache-2.0"
    mock = by_name["llmbench/mock"]
    assert mock.facts.unlimited and mock.facts.provider == "llmbench"
    assert (mock.facts.tools, mock.facts.vision) == (False, False)
    assert mock.facts.price_source == "built-in"
    assert mock.measured.calls == 0 and mock.measured.latency_p50 is None


def test_a_stored_route_that_no_longer_parses_is_reported_not_fatal(tmp_path: Path) -> None:
    with open_db(tmp_path / "bad-route.db") as store:
        store.write(
            lambda db: db.execute(
                "INSERT INTO routes (name, arms, created_at, updated_at) VALUES"
                ' (\'broken\', \'[{"name": "a", "weight": -1, "model": "x"}]\', \'\', \'\')'
            )
        )
        overview = models_overview(store, Settings(), day=DAY)
    assert any("broken" in problem for problem in overview.problems)
    assert {"llmbench/mock", "llmbench/echo"} <= {entry.name for entry in overview.models}


def test_the_fit_check_counts_each_cases_prompt_against_the_window(tmp_path: Path) -> None:
    small_model, small_window = _small_window_model()
    long_text = " ".join(["lorem"] * (small_window + 500))
    with open_db(tmp_path / "fit.db") as store:

        def setup(db: object) -> tuple[int, int]:
            prompt_id = versions_repo.create_prompt(db, "digest")  # type: ignore[arg-type]
            version_id = versions_repo.add_version(
                db,  # type: ignore[arg-type]
                prompt_id,
                {"task": "Summarise this document:\n{{ document }}"},
                variables=(Variable("document"),),
            )
            dataset_id = datasets_repo.create_dataset(db, "documents")  # type: ignore[arg-type]
            datasets_repo.add_cases(
                db,  # type: ignore[arg-type]
                dataset_id,
                [
                    datasets_repo.NewCase(vars={"document": "short"}),
                    datasets_repo.NewCase(vars={"document": long_text}),
                ],
            )
            return version_id, dataset_id

        version_id, dataset_id = store.write(setup)
        problems = prompt_fit(
            store,
            version_ids=[version_id],
            models=[small_model, "llmbench/mock", "gpt-4o"],
            context_windows={small_model: small_window, "llmbench/mock": None, "gpt-4o": 128_000},
            dataset_id=dataset_id,
        )
        typed = prompt_fit(
            store,
            version_ids=[version_id],
            models=[small_model],
            context_windows={small_model: small_window},
            adhoc={"document": "a few words"},
        )
    expected = count_message_tokens(
        [{"role": "user", "content": f"Summarise this document:\n{long_text}"}], small_model
    )
    assert expected > small_window
    [problem] = problems
    assert (problem.model, problem.version, problem.too_long, problem.cases) == (
        small_model, "digest@1", 1, 2,
    )  # fmt: skip
    assert problem.longest == expected and problem.exact
    assert f"{small_window:,}-token context" in problem.sentence()
    assert typed == []
