"""Compression by a model's rewrite through the gateway (services/optimize/rewrite.py), on the
demo's optimizer prompt in a real SQLite file: the built-in mock's rewrite becomes a candidate
that is tested as an ordinary run and holds quality, like the rules' compression; the request
is an audited call, answered from the exact cache the second time; an unusable answer is
refused with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.config import ModelSettings
from llmbench.core.optimize.compression import static_text
from llmbench.core.tokens import count_tokens
from llmbench.demo.optimize_demo import MODEL, NAME, add_optimize_demo
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.optimize.candidates import find_candidates
from llmbench.services.optimize.rewrite import REWRITE_TAGS, rewrite, with_rewrite
from llmbench.services.optimize.testing import test_candidate as run_candidate
from llmbench.store.audit.chain_records import database_id
from llmbench.store.db import Store, open_db
from tests.support.optimize_traffic import SETTINGS

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "rewrite.db") as opened:
        key = load_chain_key(database_id(opened.read()))
        opened.write(lambda db: add_optimize_demo(db, key, "2025-06-01T12:00:00.000Z", count=120))
        yield opened


def _rewrite_calls(store: Store) -> list[tuple[str, str]]:
    return (
        store.read()
        .execute(
            "SELECT model, status FROM calls WHERE task_type = ? ORDER BY id",
            [REWRITE_TAGS["task_type"]],
        )
        .fetchall()
    )


def test_the_mocks_rewrite_is_a_candidate_that_holds_quality(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    made = rewrite(store, SETTINGS, found)
    assert made.problem == "" and made.model == "llmbench/mock"
    candidate = made.candidate
    assert candidate is not None and candidate.kind == "rewrite"
    before, after = found.version.sections, candidate.sections
    assert after["task"] == before["task"] == "E-mail: {{ email }}"  # the template code kept
    assert "In order to" not in after["role"] and "at all times" not in after["role"]
    assert after["role"].count("order desk") == 1  # the repeated sentence went too
    per_call = count_tokens(static_text(before), MODEL) - count_tokens(static_text(after), MODEL)
    assert candidate.title == f"rewritten (−{per_call} tokens/call)"
    month = 30 / found.usage.window_days  # at the pace of the days it served
    assert candidate.projected_monthly == pytest.approx(per_call * 120 * 0.15 / 1e6 * month)
    rules = next(c for c in found.candidates if c.kind == "compression")
    assert per_call > count_tokens(static_text(before), MODEL) - count_tokens(
        static_text(rules.sections), MODEL
    )  # the rewrite shortens more than the rules alone
    tested = run_candidate(store, SETTINGS, found, candidate)
    assert tested.holds and tested.report.regressions == ()
    assert tested.projected_monthly == candidate.projected_monthly


def test_the_request_is_audited_and_repeated_from_the_exact_cache(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    listed = with_rewrite(store, SETTINGS, found)
    again = with_rewrite(store, SETTINGS, found)
    kinds = [candidate.kind for candidate in listed.candidates]
    assert kinds == ["max_tokens", "concise", "compression", "rewrite", "caching", "exact_cache"]
    assert again.candidates == listed.candidates
    assert _rewrite_calls(store) == [(MODEL, "ok"), (MODEL, "cache_hit")]


def test_an_answer_that_is_no_rewrite_is_refused(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    # The echo model answers with the request itself: not the sections as a JSON object.
    echo = replace(SETTINGS, models=ModelSettings(judge_model="llmbench/echo"))
    made = rewrite(store, echo, found)
    assert made.candidate is None
    assert made.problem == "llmbench/echo's rewrite was refused: the answer is not a JSON object"
    assert with_rewrite(store, echo, found) == found
    unset = replace(SETTINGS, models=ModelSettings(judge_model=""))
    assert rewrite(store, unset, found).problem.startswith("no model is configured")
    assert _rewrite_calls(store) == [("llmbench/echo", "ok"), ("llmbench/echo", "cache_hit")]
