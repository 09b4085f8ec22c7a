"""The demo's optimizer prompt (llmbench/demo/optimize_demo.py): every candidate kind it is
built for is found and holds quality when tested on the built-in models, the figure the README
quotes (their projected saving, compression and rewrite counted once and the held candidates
stacked, as a share of the prompt's month of spend), and the prompt's calls merged into the
demo build in time order; the recorded model bake-off (llmbench/demo/optimize_runs.py) is the
evidence `support-reply`'s cheaper model is judged by offline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.core.optimize.replay import monthly, replay_exact_cache
from llmbench.demo.build import DemoSummary, build_demo
from llmbench.demo.catalog import HAIKU, SONNET
from llmbench.demo.optimize_demo import CALLS, NAME, add_optimize_demo, calls_for
from llmbench.demo.optimize_runs import BAKE_OFF, call_count
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.optimize.candidates import find_candidates
from llmbench.services.optimize.evidence import recorded
from llmbench.services.optimize.overview import overview
from llmbench.store.audit.chain_records import database_id
from llmbench.store.db import Store, open_db
from tests.support.optimize_traffic import SETTINGS

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
KINDS = ["max_tokens", "concise", "compression", "caching", "exact_cache"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "demo-optimize.db") as opened:
        key = load_chain_key(database_id(opened.read()))
        assert opened.write(lambda db: add_optimize_demo(db, key, "2025-06-01T12:00:00.000Z"))
        yield opened


def test_every_kind_holds_and_the_saving_share(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    assert found.usage.calls == CALLS
    assert [candidate.kind for candidate in found.candidates] == KINDS
    result = overview(store, SETTINGS, now=NOW)
    kinds = [verdict.candidate.kind for verdict in result.verdicts]
    assert kinds == ["max_tokens", "concise", "compression", "rewrite", "caching", "exact_cache"]
    assert [verdict.status for verdict in result.verdicts] == ["holds"] * 6
    # The runs' and the rewrite's own calls are made now, outside the month: its spend is the
    # prompt's traffic alone.
    assert result.spend == pytest.approx(found.usage.cost)
    by_kind = {verdict.candidate.kind: verdict for verdict in result.verdicts}
    assert by_kind["rewrite"].projected_monthly > by_kind["compression"].projected_monthly
    assert by_kind["rewrite"] in result.counted and by_kind["compression"] not in result.counted
    # Held candidates act on the same calls: each saves its share of what the others leave.
    base = monthly(found.usage.cost, found.usage.window_days)
    left = 1.0
    for kind, verdict in by_kind.items():
        left *= 1.0 if kind == "compression" else 1 - verdict.projected_monthly / base
    assert result.saving == pytest.approx(base * (1 - left))
    assert result.saving < sum(
        v.projected_monthly for k, v in by_kind.items() if k != "compression"
    )
    # The exact cache is replayed as the gateway's would serve it: an answer kept a day.
    cache = by_kind["exact_cache"].candidate
    ttl = SETTINGS.gateway.cache_ttl_s
    assert cache.hit_rate == replay_exact_cache(found.usage.requests, ttl).hit_rate > 0
    print(f"\n{NAME}: projected {result.share:.1%} of ${result.spend:.4f} a month")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return build_demo(tmp_path_factory.mktemp("demo") / "demo.db", calls=2000, now=NOW)


def test_the_demo_build_merges_the_prompts_calls_in_time_order(demo: DemoSummary) -> None:
    summary = demo
    with open_db(summary.path, create=False) as store:
        found = find_candidates(store, NAME, now=NOW)
        stamps = [row[0] for row in store.read().execute("SELECT ts FROM calls ORDER BY id")]
    assert found.usage.calls == calls_for(2000) == 90
    assert summary.calls == 2090 + call_count() == 2138  # and the bake-off's cells
    assert [candidate.kind for candidate in found.candidates] == KINDS
    assert stamps == sorted(stamps)  # sealed onto the chain in the order they happened


def test_the_bake_off_is_the_evidence_for_support_replys_cheaper_model(demo: DemoSummary) -> None:
    with open_db(demo.path, create=False) as store:
        found = find_candidates(store, "support-reply", now=NOW)
        assert found.usage.model == SONNET
        cheaper = next(c for c in found.candidates if c.kind == "cheaper_model")
        assert cheaper.model == HAIKU  # the one model run beside Sonnet on v4
        tested = recorded(store, found, cheaper)
        assert tested is not None
        name = store.read().execute("SELECT name FROM runs WHERE id = ?", [tested.run_id])
        assert name.fetchone()[0] == BAKE_OFF.name
    report = tested.report
    assert report.paired_cases == 24 and tested.model == HAIKU
    assert tested.holds and report.quality_delta is not None and report.quality_delta >= 0
    assert report.cost_change is not None and report.cost_change < -0.5  # Haiku's prices
    assert tested.projected_monthly == cheaper.projected_monthly


def test_the_whole_demos_held_saving_is_within_the_seeds_bar(tmp_path: Path) -> None:
    # A build of its own: the test runs write to it, under this test's chain key.
    summary = build_demo(tmp_path / "demo.db", calls=2000, now=NOW)
    with open_db(summary.path, create=False) as store:
        result = overview(store, SETTINGS, now=NOW, offline=True)
    held = {(verdict.prompt, verdict.candidate.kind): verdict for verdict in result.counted}
    # The hosted prompts' cheaper models, judged by the runs the story recorded.
    assert held[("support-reply", "cheaper_model")].note.startswith("recorded run 3:")
    assert held[("extract-invoice", "cheaper_model")].note.startswith("recorded run 2:")
    assert all(v.projected_monthly == 0 for v in result.verdicts if v.status == "not tested")
    print(f"\nthe demo: projected {result.share:.1%} of ${result.spend:.2f} a month")
    assert 0.30 <= result.share <= 0.50  # the seed's "30-50% without sacrificing quality"
