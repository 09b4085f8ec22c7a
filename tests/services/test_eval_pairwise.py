"""The pairwise judge of the evaluation engine: every candidate group against the baseline group,
case by case, with the order shown to the judge randomised per case, on the loopback server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from llmbench.cli.evaluate import _print_verdict
from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.evaluation.judge import order_for
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.services.evaluation.engine import (
    EvalPlan,
    compare_groups,
    create_eval_run,
    resume,
    run_cells,
    run_eval,
    scoreboard,
)
from llmbench.services.evaluation.export import to_csv, to_json, to_junit
from llmbench.services.evaluation.pairwise import PairwiseConfig, order_seed
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.services.evaluation.verdict import verdict_of
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo
from tests.support.openai_server import OpenAICompatibleServer, running_server

KEY = "sk-test-pairwise-0123456789"
A_WINS = json.dumps({"winner": "A", "reason": "A answers the ticket"})
TIE = json.dumps({"winner": "tie", "reason": "both fine"})
TICKETS = (
    "My parcel never arrived",
    "I was charged twice",
    "How do I reset my password",
    "The app crashes on start",
    "Please cancel my order",
    "Where is my invoice",
)
RESPONSE_A = re.compile(r"<response_a>\n(.*?)\n</response_a>", re.DOTALL)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "pairwise.db") as opened:
        yield opened
    shutdown_sync()


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAICompatibleServer]:
    yield from running_server()


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def _seed(store: Store, versions: int = 1) -> tuple[list[int], list[int]]:
    def job(db: Any) -> tuple[list[int], list[int]]:
        prompt = prompts_repo.create_prompt(db, "support-reply")
        variables = [Variable("ticket", "untrusted")]
        ids = [
            prompts_repo.add_version(
                db, prompt, {"task": f"Reply {n}. Ticket: {{{{ ticket }}}}"}, variables=variables
            )
            for n in range(versions)
        ]
        dataset = datasets.create_dataset(db, "tickets")
        cases = datasets.add_cases(
            db, dataset, [datasets.NewCase({"ticket": t}, expected=t) for t in TICKETS]
        )
        return ids, cases

    return store.write(job)


def _settings(server: OpenAICompatibleServer, judge: str) -> Settings:
    return Settings(
        gateway=GatewaySettings(max_retries=0),
        model={judge: ModelOptions(api_base=server.base_url)},  # type: ignore[dict-item]
    )


def _plan(versions: list[int], cases: list[int], judge: str, **pairwise: Any) -> EvalPlan:
    config = PairwiseConfig(baseline="llmbench/mock", baseline_model="llmbench/mock")
    return EvalPlan(
        name="pairwise",
        version_ids=tuple(versions),
        case_ids=tuple(cases),
        models=("llmbench/echo", "llmbench/mock"),
        judge_model=judge,
        concurrency=1,  # scripted judge replies go to the pairs in order
        pairwise=replace(config, **pairwise).to_data(),
    )


def _pairwise_checks(store: Store, run_id: int) -> dict[int, tuple[Any, ...]]:
    rows = store.read().execute(
        "SELECT r.case_id, k.passed, k.score, k.weight, k.detail FROM checks k"
        " JOIN results r ON r.id = k.result_id WHERE r.run_id = ? AND k.kind = 'pairwise'",
        [run_id],
    )
    found: dict[int, tuple[Any, ...]] = {}
    for case_id, *rest in rows.fetchall():
        assert case_id not in found, "one verdict per candidate cell"
        found[case_id] = tuple(rest)
    return found


def test_orders_are_randomised_per_case_and_unswapped_to_the_right_winner(
    store: Store, server: OpenAICompatibleServer
) -> None:
    judge = "openai/" + server.scenario("pairwise-a-wins", reply=A_WINS)
    versions, cases = _seed(store)
    summary = run_eval(store, _settings(server, judge), _plan(versions, cases, judge))
    assert summary.status == "done" and summary.errors == 0

    swapped = {case: order_for(order_seed(summary.run_id, case, 0)) for case in cases}
    assert set(swapped.values()) == {True, False}  # both orders over the six cases
    verdicts = _pairwise_checks(store, summary.run_id)
    assert set(verdicts) == set(cases)  # every case of the candidate (echo) was judged
    cells = {(c.model, c.case_id): c for c in run_cells(store, summary.run_id)}
    for case in cases:
        passed, score, weight, detail = verdicts[case]
        # The judge always prefers what it is shown first: the candidate wins exactly when
        # it was shown first.
        assert (passed, weight) == (None, 0.0)
        assert score == (1.0 if swapped[case] else 0.0)
        assert detail.startswith("win" if swapped[case] else "loss")
        assert "vs support-reply@1 × llmbench/mock" in detail
        assert ("candidate shown first" if swapped[case] else "baseline shown first") in detail
        assert cells[("llmbench/echo", case)].pairwise == score
        assert cells[("llmbench/mock", case)].pairwise is None  # the baseline is not judged

    # What the judge saw as A really was the candidate's output (echo repeats the prompt,
    # "Reply 0. Ticket: ...") in the swapped cases, and the baseline's in the others.
    requests = server.requests_for(judge.removeprefix("openai/"))
    assert len(requests) == len(cases)
    for request in requests:
        content = request.body["messages"][1]["content"]
        (index,) = [
            i for i, ticket in enumerate(TICKETS) if ticket in content.split("Response A")[0]
        ]
        (shown,) = RESPONSE_A.findall(content)
        assert ("Reply 0." in shown) == swapped[cases[index]]

    board = {group.model: group for group in scoreboard(store, summary.run_id)}
    expected_rate = sum(swapped.values()) / len(cases)
    assert board["llmbench/echo"].pairwise_win_rate == pytest.approx(expected_rate)
    assert board["llmbench/echo"].pairwise_judged == len(cases)
    assert board["llmbench/mock"].pairwise_win_rate is None
    # The cells still pass or fail by their checks only: none here, so none is graded.
    assert all(cell.passed is None for cell in cells.values())

    report = compare_groups(
        store, summary.run_id, (versions[0], "llmbench/mock"), (versions[0], "llmbench/echo")
    )
    assert report.candidate_win_rate == pytest.approx(expected_rate)
    assert f"pairwise win rate {expected_rate:.0%} (n={len(cases)})" in report.verdict()

    # The judge's calls are in the audit log with the run, tagged as pairwise judging.
    rows = store.read().execute(
        "SELECT tags FROM calls WHERE run_id = ? AND model_requested = ?",
        [summary.run_id, judge],
    )
    tags = [json.loads(row[0]) for row in rows.fetchall()]
    assert len(tags) == len(cases)
    assert all(tag.get("judge") == "pairwise" and tag.get("run") == "eval-judge" for tag in tags)


def test_a_tie_scores_half_and_outputs_carry_the_figures(
    store: Store, server: OpenAICompatibleServer
) -> None:
    judge = "openai/" + server.scenario("pairwise-tie", reply=TIE)
    versions, cases = _seed(store)
    summary = run_eval(store, _settings(server, judge), _plan(versions, cases[:2], judge))
    cells = run_cells(store, summary.run_id)
    board = scoreboard(store, summary.run_id)
    assert [c.pairwise for c in cells if c.model == "llmbench/echo"] == [0.5, 0.5]
    data = json.loads(to_json({"id": summary.run_id}, cells, board, None))
    echo = next(g for g in data["scoreboard"] if g["model"] == "llmbench/echo")
    assert echo["pairwise_win_rate"] == 0.5 and echo["pairwise_judged"] == 2
    assert echo["mean_similarity"] is not None
    header = to_csv(cells).splitlines()[0]
    assert "pairwise" in header.split(",") and "similarity" in header.split(",")
    junit = to_junit("pairwise", cells, board)
    assert '<property name="pairwise_win_rate" value="0.5" />' in junit
    # `llmbench eval` prints the win rate and the similarity beside the other figures.
    console = Console(record=True, width=200)
    _print_verdict(console, verdict_of(store, summary, baseline_run_id=None, fail_under=0))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "prompt" in line)
    assert "similar" in header and "win" in header
    (echo_row,) = [line for line in text.splitlines() if "llmbench/echo" in line]
    assert "50%" in echo_row


def test_a_junk_verdict_is_an_error_check_and_resume_judges_only_what_is_missing(
    store: Store, server: OpenAICompatibleServer
) -> None:
    name = "pairwise-resume"
    # The first pair gets junk twice (the answer and its one repair); the rest are fine.
    judge = "openai/" + server.scenario(name, replies=("no idea", "still no idea"), reply=TIE)
    versions, cases = _seed(store)
    settings = _settings(server, judge)
    summary = run_eval(store, settings, _plan(versions, cases[:3], judge))
    assert summary.status == "done"  # a judge failure does not stop the run
    verdicts = _pairwise_checks(store, summary.run_id)
    errors = {case: row for case, row in verdicts.items() if row[1] is None}
    assert len(errors) == 1 and len(verdicts) == 3
    (error,) = errors.values()
    assert error[0] is None and error[3].startswith("error: unreadable verdict after one repair")
    assert "shown first" in error[3]
    requests = server.requests_for(judge.removeprefix("openai/"))
    assert len(requests) == 4  # two for the junk pair, one each for the others
    repair = requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": "no idea"}

    # Resuming the finished run judges the one pair without a verdict, and replaces its error.
    again = resume(store, settings, summary.run_id)
    assert again.status == "done" and again.ran == 0
    assert len(server.requests_for(judge.removeprefix("openai/"))) == 5
    verdicts = _pairwise_checks(store, summary.run_id)
    assert sorted(row[1] for row in verdicts.values()) == [0.5, 0.5, 0.5]
    # Once every pair has a verdict, a resume asks the judge nothing.
    resume(store, settings, summary.run_id)
    assert len(server.requests_for(judge.removeprefix("openai/"))) == 5


def test_a_failing_judge_model_leaves_error_checks_not_a_crash(
    store: Store, server: OpenAICompatibleServer
) -> None:
    judge = "openai/" + server.scenario("pairwise-down", fault="status", status=500)
    versions, cases = _seed(store)
    summary = run_eval(store, _settings(server, judge), _plan(versions, cases[:2], judge))
    assert summary.status == "done" and summary.errors == 0
    verdicts = _pairwise_checks(store, summary.run_id)
    assert len(verdicts) == 2
    assert all(row[1] is None and "error: the judge" in row[3] for row in verdicts.values())
    board = {group.model: group for group in scoreboard(store, summary.run_id)}
    assert board["llmbench/echo"].pairwise_win_rate is None


def test_a_version_baseline_pairs_each_model_with_the_baseline_version(
    store: Store, server: OpenAICompatibleServer
) -> None:
    judge = "openai/" + server.scenario("pairwise-versions", reply=A_WINS)
    versions, cases = _seed(store, versions=2)
    plan = _plan(
        versions,
        cases[:2],
        judge,
        baseline="support-reply@1",
        baseline_version_id=versions[0],
        baseline_model=None,
    )
    run_id = create_eval_run(store, plan)
    summary = resume(store, _settings(server, judge), run_id)
    judged = {
        (c.version_id, c.model) for c in run_cells(store, summary.run_id) if c.pairwise is not None
    }
    assert judged == {(versions[1], "llmbench/echo"), (versions[1], "llmbench/mock")}
    # Different prompts: the judge is shown the case's variables as the input.
    request = server.requests_for(judge.removeprefix("openai/"))[0]
    assert f"ticket: {TICKETS[0]}" in request.body["messages"][1]["content"]


SUITE = """\
name: pairwise suite
prompts:
  - name: support-reply
    sections: {task: "Ticket: {{ ticket }}"}
models: [llmbench/echo, llmbench/mock]
tests:
  - vars: {ticket: My parcel never arrived}
    expected: parcel
judge:
  model: llmbench/mock
  pairwise:
    baseline: BASELINE
    criteria: Which reply helps the customer more?
"""


@pytest.mark.parametrize(
    ("baseline", "version", "model"),
    [
        ("llmbench/mock", False, "llmbench/mock"),
        ("support-reply", True, None),
        ("{prompt: support-reply, model: llmbench/echo}", True, "llmbench/echo"),
    ],
)
def test_the_suite_names_the_baseline_by_model_or_prompt(
    store: Store, tmp_path: Path, baseline: str, version: bool, model: str | None
) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.replace("BASELINE", baseline), encoding="utf-8")
    prepared = prepare_suite(store, path)
    config = PairwiseConfig.from_data(prepared.plan.pairwise)
    assert config.baseline_model == model
    assert config.baseline_version_id == (prepared.plan.version_ids[0] if version else None)
    assert config.criteria == "Which reply helps the customer more?"
    # Saved with the run, so a resume judges the same way.
    run_id = create_eval_run(store, prepared.plan)
    saved = store.read().execute("SELECT config FROM runs WHERE id = ?", [run_id]).fetchone()[0]
    assert json.loads(saved)["pairwise"] == prepared.plan.pairwise


@pytest.mark.parametrize(
    ("pairwise", "message"),
    [
        ("baseline: gpt-nothing", "'gpt-nothing' is neither one of the models"),
        ("baseline: {prompt: other}", "'other' is not one of the prompts"),
        ("criteria: x", "needs a baseline"),
        ("baseline: x\n    extra: 1", "extra"),
    ],
)
def test_a_bad_pairwise_baseline_is_refused_with_its_line(
    store: Store, tmp_path: Path, pairwise: str, message: str
) -> None:
    text = SUITE.replace(
        "baseline: BASELINE\n    criteria: Which reply helps the customer more?", pairwise
    )
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteError) as raised:
        prepare_suite(store, path)
    shown = "\n".join(str(problem) for problem in raised.value.problems)
    assert message in shown and f"{path}:" in shown
    assert store.read().execute("SELECT count(*) FROM prompts").fetchone()[0] == 0
