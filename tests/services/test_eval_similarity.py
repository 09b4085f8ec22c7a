"""Similarity to golden answers in evaluation runs: lexical measurements on every cell with an
expected answer, and `similar` checks by embedding cosine through the loopback server's
embeddings endpoint, falling back to lexical similarity (and saying so) without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from llmbench.config import GatewaySettings, ModelOptions, ModelSettings, Settings
from llmbench.core.evaluation.similarity import levenshtein_similarity, rouge_l, token_f1
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.services.evaluation.engine import EvalPlan, run_cells, run_eval, scoreboard
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.schema.migrations import migrations
from tests.support.openai_server import OpenAICompatibleServer, running_server

OFFLINE = Settings(gateway=GatewaySettings(max_retries=0))
# Echo answers with the prompt, "Ticket: My parcel never arrived": close to this, not equal.
GOLDEN = "Ticket: my parcel arrived late"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "similarity.db") as opened:
        yield opened
    shutdown_sync()


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAICompatibleServer]:
    yield from running_server()


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-similarity-0123456789")


def _seed(store: Store) -> tuple[int, list[int]]:
    """One prompt and two cases: one with a golden answer, one without."""

    def job(db: Any) -> tuple[int, list[int]]:
        prompt = prompts_repo.create_prompt(db, "support-reply")
        version = prompts_repo.add_version(
            db, prompt, {"task": "Ticket: {{ ticket }}"}, variables=[Variable("ticket", "trusted")]
        )
        dataset = datasets.create_dataset(db, "tickets")
        cases = datasets.add_cases(
            db,
            dataset,
            [
                datasets.NewCase({"ticket": "My parcel never arrived"}, expected=GOLDEN),
                datasets.NewCase({"ticket": "I was charged twice"}),
            ],
        )
        return version, cases

    return store.write(job)


def _run(store: Store, settings: Settings, checks: tuple[dict[str, Any], ...] = ()) -> int:
    version, cases = _seed(store)
    plan = EvalPlan(
        name="similarity",
        version_ids=(version,),
        case_ids=tuple(cases),
        models=("llmbench/echo",),
        checks=checks,
    )
    return run_eval(store, settings, plan).run_id


def _checks(store: Store, run_id: int) -> dict[tuple[int, str], tuple[Any, ...]]:
    rows = store.read().execute(
        "SELECT r.case_id, k.kind, k.passed, k.score, k.weight, k.detail FROM checks k"
        " JOIN results r ON r.id = k.result_id WHERE r.run_id = ?",
        [run_id],
    )
    return {(row[0], row[1]): tuple(row[2:]) for row in rows.fetchall()}


def test_cells_with_a_golden_answer_get_lexical_measurements_without_pass_or_fail(
    store: Store,
) -> None:
    run_id = _run(store, OFFLINE)
    golden, other = (cell for cell in run_cells(store, run_id))
    checks = _checks(store, run_id)
    output = golden.output
    expected = {
        "similarity-rouge-l": rouge_l(output, GOLDEN),
        "similarity-token-f1": token_f1(output, GOLDEN),
        "similarity-levenshtein": levenshtein_similarity(output, GOLDEN),
    }
    for kind, score in expected.items():
        passed, stored, weight, detail = checks[(golden.case_id, kind)]
        assert passed is None and weight == 0.0 and "golden answer" in detail
        assert stored == pytest.approx(score, abs=1e-6)
    assert expected["similarity-rouge-l"] == pytest.approx(0.8)  # 4 of 5 words in order
    # The case without an expected answer has none; neither cell has pass/fail from them.
    assert not [key for key in checks if key[0] == other.case_id]
    assert golden.passed is None and other.passed is None
    assert golden.similarity == pytest.approx(expected["similarity-rouge-l"], abs=1e-6)
    (group,) = scoreboard(store, run_id)
    assert group.mean_similarity == pytest.approx(expected["similarity-rouge-l"], abs=1e-6)
    assert group.pass_rate == 1.0  # measurements never fail a cell


@pytest.mark.parametrize(("threshold", "passes"), [(0.5, True), (0.95, False)])
def test_a_lexical_similar_check_passes_at_its_threshold(
    store: Store, threshold: float, passes: bool
) -> None:
    check = {"type": "similar", "method": "rouge-l", "threshold": threshold}
    run_id = _run(store, OFFLINE, (check,))
    golden = run_cells(store, run_id)[0]
    passed, _, _, detail = _checks(store, run_id)[(golden.case_id, "similar")]
    assert bool(passed) is passes and golden.passed is passes
    assert detail.startswith("rouge-l ") and "embedding" not in detail
    # The case without a golden answer cannot run the check, and says why.
    other = run_cells(store, run_id)[1]
    passed, _, _, detail = _checks(store, run_id)[(other.case_id, "similar")]
    assert passed == 0 and "no expected answer" in detail


def test_without_an_embedding_model_similar_falls_back_to_lexical_and_says_so(
    store: Store,
) -> None:
    run_id = _run(store, OFFLINE, ({"type": "similar", "threshold": 0.5},))
    golden = run_cells(store, run_id)[0]
    _, score, _, detail = _checks(store, run_id)[(golden.case_id, "similar")]
    assert score == pytest.approx(rouge_l(golden.output, GOLDEN), abs=1e-6)
    assert "no embedding model configured" in detail
    assert "lexical rouge-l used instead of embeddings" in detail


def _embedding_settings(server: OpenAICompatibleServer, model: str) -> Settings:
    return Settings(
        gateway=GatewaySettings(max_retries=0),
        models=ModelSettings(embedding_model=model),
        model={model: ModelOptions(api_base=server.base_url, timeout_s=5)},  # type: ignore[dict-item]
    )


def test_similar_compares_by_embedding_cosine_through_the_embedding_model(
    store: Store, server: OpenAICompatibleServer
) -> None:
    settings = _embedding_settings(server, "openai/embed-similar")
    check = {"type": "similar", "value": "ticket my parcel never arrived", "threshold": 0.6}
    unlike = {"type": "not-similar", "value": "completely unrelated words here", "threshold": 0.3}
    run_id = _run(store, settings, (check, unlike))
    golden = run_cells(store, run_id)[0]
    rows = store.read().execute(
        "SELECT passed, score, detail FROM checks WHERE result_id = ? AND kind = 'similar'"
        " ORDER BY id",
        [golden.result_id],
    )
    (first, second) = rows.fetchall()
    assert first[0] == 1 and 0.6 <= first[1] < 1.0
    assert first[2].startswith("embedding cosine") and "openai/embed-similar" in first[2]
    assert second[0] == 1 and second[2].startswith("not: embedding cosine")
    sent = [r.body["input"] for r in server.requests if r.body.get("model") == "embed-similar"]
    assert sent and all(
        r.path.endswith("/embeddings")
        for r in server.requests
        if r.body.get("model") == "embed-similar"
    )
    assert [t for t in sent[0] if t.startswith("ticket")] == ["ticket my parcel never arrived"]


def test_a_failing_embedding_model_falls_back_to_lexical_with_its_problem(
    store: Store, server: OpenAICompatibleServer
) -> None:
    model = "openai/" + server.scenario("embed-down-similar", fault="status", status=500)
    run_id = _run(store, _embedding_settings(server, model), ({"type": "similar"},))
    golden = run_cells(store, run_id)[0]
    _, score, _, detail = _checks(store, run_id)[(golden.case_id, "similar")]
    assert score == pytest.approx(rouge_l(golden.output, GOLDEN), abs=1e-6)
    assert f"embedding model {model} failed" in detail
    assert "lexical rouge-l used instead of embeddings" in detail


def test_m007_keeps_existing_checks_and_allows_no_pass_or_fail(tmp_path: Path) -> None:
    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="m007_informational_checks")
    db.execute(
        "INSERT INTO runs (kind, name, config, status, created_at)"
        " VALUES ('eval', 'old', '{}', 'done', '2026-01-01')"
    )
    db.execute("INSERT INTO results (run_id, model, status, created_at) VALUES (1, 'm', 'ok', 'x')")
    db.execute(
        "INSERT INTO checks (result_id, kind, passed, score, detail, created_at)"
        " VALUES (1, 'contains', 1, 1.0, 'found', 'x')"
    )
    db.conn.commit()
    with pytest.raises(Exception, match="NOT NULL"):
        db.execute(
            "INSERT INTO checks (result_id, kind, passed, created_at) VALUES (1, 'x', NULL, 'x')"
        )
    migrations.apply(db)
    assert db.execute("SELECT id, kind, passed, detail FROM checks").fetchall() == [
        (1, "contains", 1, "found")
    ]
    db.execute(
        "INSERT INTO checks (result_id, kind, passed, created_at)"
        " VALUES (1, 'similarity-rouge-l', NULL, 'x')"
    )
    indexes = {row[1] for row in db.execute("PRAGMA index_list(checks)").fetchall()}
    assert {"checks_result", "checks_call"} <= indexes
    with pytest.raises(Exception, match="CHECK constraint"):
        db.execute("INSERT INTO checks (kind, passed, created_at) VALUES ('x', 1, 'x')")
