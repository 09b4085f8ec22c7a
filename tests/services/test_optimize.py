"""The cost optimizer's loop on a real SQLite file: candidates read from a month of calls, one
tested as an ordinary evaluation run through the gateway (the built-in echo model), shipped as
an audited label move, and its realised saving set against the projection recorded then."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.core.optimize.candidates import CANARY_WEIGHT, Candidate
from llmbench.core.optimize.compression import static_text
from llmbench.core.tokens import count_tokens
from llmbench.services.evaluation.engine import scoreboard
from llmbench.services.optimize.candidates import find_candidates
from llmbench.services.optimize.shipping import realised, ship
from llmbench.services.optimize.testing import test_candidate as run_candidate
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation.run_cells import run_plan
from llmbench.store.prompts.library import label_moves
from llmbench.store.prompts.versions import labels
from llmbench.store.routes import load_routes
from tests.support.optimize_traffic import (
    INPUT,
    MODEL,
    SECTIONS,
    SETTINGS,
    TICKETS,
    add_dataset,
    add_prompt,
    triage_calls,
)
from tests.support.traffic import write_calls

NOW = datetime(2025, 6, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "optimize.db") as opened:
        yield opened


def test_candidates_from_a_month_of_calls_with_replayed_savings(store: Store) -> None:
    version = add_prompt(store)
    write_calls(store, triage_calls(version, 40, repeats=8))
    found = find_candidates(store, "triage", now=NOW)
    kinds = {candidate.kind: candidate for candidate in found.candidates}
    assert list(kinds) == ["max_tokens", "concise", "compression", "caching", "exact_cache"]
    assert found.usage.calls == 40 and found.usage.cost == pytest.approx(0.04)
    # The version began serving on June 10th at 10:00: the month is its pace over those days.
    served = (NOW - datetime(2025, 6, 10, 10, tzinfo=UTC)).total_seconds() / 86400
    assert found.usage.window_days == pytest.approx(served)
    month = 30 / served
    # Compression: the static text's tokens before less after, every call, at the input price.
    compression = kinds["compression"]
    saved = count_tokens(static_text(SECTIONS), MODEL) - count_tokens(
        static_text(compression.sections), MODEL
    )
    assert saved > 0
    assert compression.projected_monthly == pytest.approx(saved * 40 * INPUT / 1e6 * month)
    # Exact cache: the 8 repeats of the first request, replayed, each at its cost.
    assert kinds["exact_cache"].hit_rate == 8 / 40
    assert kinds["exact_cache"].projected_monthly == pytest.approx(8 * 0.001 * month)
    # Caching: the two sections without template code, at the input less the cached price.
    assert kinds["caching"].cacheable == ("role", "format")
    assert kinds["max_tokens"].params == {"max_tokens": 10, "stop": ["\n"]}


def test_tested_as_a_run_then_shipped_as_a_label_move_and_tracked(store: Store) -> None:
    version = add_prompt(store)
    write_calls(store, triage_calls(version, 40))
    add_dataset(store, "triage")
    found = find_candidates(store, "triage", now=NOW)
    compression = next(c for c in found.candidates if c.kind == "compression")
    tested = run_candidate(store, SETTINGS, found, compression)

    plan = run_plan(store.read(), tested.run_id)
    assert plan is not None and plan.config["version_ids"] == [version, tested.version_id]
    groups = {group.name: group for group in scoreboard(store, tested.run_id)}
    assert set(groups) == {"triage@1 × llmbench/echo", "triage@2 × llmbench/echo"}
    assert all(group.cells == len(TICKETS) for group in groups.values())
    assert tested.report.paired_cases == len(TICKETS)
    assert tested.report.quality_delta == 0.0 and tested.holds
    assert tested.projected_monthly == compression.projected_monthly

    shipped = ship(store, found, tested)
    db = store.read()
    prompt_id = found.prompt.id
    assert labels(db, prompt_id)["production"] == tested.version_id
    move = label_moves(db, prompt_id)[0]
    assert (move.label, move.from_version, move.to_version) == ("production", 1, 2)
    assert move.moved_by == "llmbench optimize" and shipped.label_move_id is not None
    [tracked] = realised(store, now=NOW)
    assert tracked.shipped.projected_monthly == compression.projected_monthly
    assert tracked.realised_monthly is None  # no call on the new version yet

    # A day of the new version's calls, each 40% cheaper than the month before's 0.001.
    write_calls(store, triage_calls(tested.version_id, 10, day="2099-01-01", cost=0.0006))
    [tracked] = realised(store, now=datetime(2099, 1, 2, tzinfo=UTC))
    assert tracked.calls == 10
    saved = 10 * 0.0004
    assert tracked.realised_monthly is not None
    assert tracked.realised_monthly == pytest.approx(
        saved * 30 / _days(tracked.shipped.shipped_at, datetime(2099, 1, 2, tzinfo=UTC))
    )


def _days(ts: str, now: datetime) -> float:
    return (now - datetime.fromisoformat(ts.replace("Z", "+00:00"))).total_seconds() / 86400


def test_a_cut_answer_does_not_hold_and_is_not_shipped(store: Store) -> None:
    """A cap learnt from short answers cuts the echo's long ones: the run shows the loss."""
    version = add_prompt(store, "cut", {"task": "Ticket: {{ ticket }}"})
    write_calls(store, triage_calls(version, 30))
    add_dataset(store, "cut", [f"{'word ' * 40}{end}" for end in ("refund", "late", "invoice")])
    found = find_candidates(store, "cut", now=NOW)
    cap = next(c for c in found.candidates if c.kind == "max_tokens")
    tested = run_candidate(store, SETTINGS, found, cap)
    assert tested.report.baseline_pass_rate == 1.0
    assert tested.report.quality_delta is not None and tested.report.quality_delta < 0
    assert not tested.holds
    with pytest.raises(ValueError, match="did not hold"):
        ship(store, found, tested)


def test_a_cheaper_model_runs_as_a_second_model_and_ships_as_a_canary_route(
    store: Store,
) -> None:
    """The rule's pick comes from past runs (tested in tests/core); here its candidate, on the
    built-in models, is run beside production's model and shipped as a weighted route."""
    version = add_prompt(store)
    write_calls(store, triage_calls(version, 30, model="llmbench/mock"))
    add_dataset(store, "triage")
    found = find_candidates(store, "triage", now=NOW)
    assert found.usage.model == "llmbench/mock"
    cheaper = Candidate(
        "cheaper_model", "canary to llmbench/echo", (), 0.01, 0.01,
        model=MODEL, canary_weight=CANARY_WEIGHT,
    )  # fmt: skip
    tested = run_candidate(store, SETTINGS, found, cheaper)
    plan = run_plan(store.read(), tested.run_id)
    assert plan is not None
    assert (plan.config["version_ids"], plan.config["models"]) == (
        [version],
        ["llmbench/mock", MODEL],
    )
    groups = {group.name for group in scoreboard(store, tested.run_id)}
    assert groups == {"triage@1 × llmbench/mock", "triage@1 × llmbench/echo"}
    # The echo repeats the ticket, so it passes every check: quality holds.
    assert tested.report.candidate_pass_rate == 1.0 and tested.holds

    shipped = ship(store, found, tested)
    assert shipped.label_move_id is None and shipped.route == "optimize-triage"
    [route] = [r for r in load_routes(store.read()) if r.name == "optimize-triage"]
    assert route.prompt == "triage"
    assert [(arm.model, arm.weight) for arm in route.arms] == [
        ("llmbench/mock", 100 - CANARY_WEIGHT),
        (MODEL, CANARY_WEIGHT),
    ]
    [tracked] = realised(store, now=NOW)
    assert (tracked.shipped.kind, tracked.shipped.route) == ("cheaper_model", "optimize-triage")
