"""The demo's optimizer prompt (llmbench/demo/optimize_demo.py): every candidate kind it is
built for is found and holds quality when tested on the built-in models, and the figure the
README quotes: their total projected saving as a share of the prompt's month of spend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.demo.optimize_demo import CALLS, NAME, add_optimize_demo
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.optimize.candidates import find_candidates
from llmbench.services.optimize.testing import test_candidate as run_candidate
from llmbench.store.audit.chain_records import database_id
from llmbench.store.db import Store, open_db
from tests.support.optimize_traffic import SETTINGS

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "demo-optimize.db") as opened:
        key = load_chain_key(database_id(opened.read()))
        assert opened.write(lambda db: add_optimize_demo(db, key, "2025-06-01T12:00:00.000Z"))
        yield opened


def test_every_kind_holds_and_the_saving_share(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    assert found.usage.calls == CALLS
    kinds = [candidate.kind for candidate in found.candidates]
    assert kinds == ["max_tokens", "concise", "compression", "caching", "exact_cache"]
    saving = 0.0
    for candidate in found.candidates:
        if not candidate.testable:  # the exact cache: replayed, answers already given
            saving += candidate.projected_monthly
            continue
        tested = run_candidate(store, SETTINGS, found, candidate)
        assert tested.holds, (candidate.kind, tested.report)
        assert tested.report.regressions == ()
        saving += tested.projected_monthly
    share = saving / found.usage.cost
    print(f"\n{NAME}: projected {share:.1%} of ${found.usage.cost:.4f} a month")
    assert share >= 0.30  # the seed's 30–50% is the bar
