"""The demo's optimizer prompt (llmbench/demo/optimize_demo.py): every candidate kind it is
built for is found and holds quality when tested on the built-in models, the figure the README
quotes (their projected saving, compression and rewrite counted once, as a share of the
prompt's month of spend), and the prompt's calls merged into the demo build in time order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.demo.build import build_demo
from llmbench.demo.optimize_demo import CALLS, NAME, add_optimize_demo, calls_for
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.optimize.candidates import find_candidates
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
    assert result.saving == pytest.approx(
        sum(v.projected_monthly for k, v in by_kind.items() if k != "compression")
    )
    print(f"\n{NAME}: projected {result.share:.1%} of ${result.spend:.4f} a month")
    assert result.share >= 0.30  # the seed's 30–50% is the bar


def test_the_demo_build_merges_the_prompts_calls_in_time_order(tmp_path: Path) -> None:
    summary = build_demo(tmp_path / "demo.db", calls=2000, now=NOW)
    with open_db(summary.path, create=False) as store:
        found = find_candidates(store, NAME, now=NOW)
        stamps = [row[0] for row in store.read().execute("SELECT ts FROM calls ORDER BY id")]
    assert found.usage.calls == calls_for(2000) == 90 and summary.calls == 2090
    assert [candidate.kind for candidate in found.candidates] == KINDS
    assert stamps == sorted(stamps)  # sealed onto the chain in the order they happened
