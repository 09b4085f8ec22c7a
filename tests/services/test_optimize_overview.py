"""The optimizer over a whole database (services/optimize/overview.py), offline: candidates
whose run needs a hosted model are listed as not tested and count for nothing, the exact
cache's replay needs no run and counts, and the share is of every call's spend in the window."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.services.optimize.overview import describe, overview
from llmbench.store.db import open_db
from tests.support.optimize_traffic import SETTINGS, add_prompt, triage_calls
from tests.support.traffic import write_calls

NOW = datetime(2025, 6, 30, tzinfo=UTC)


def test_offline_counts_only_what_could_be_judged_without_a_key(tmp_path: Path) -> None:
    with open_db(tmp_path / "hosted.db") as store:
        version = add_prompt(store)
        hosted = triage_calls(version, 40, repeats=10, model="gpt-4o", cost=0.002)
        unprompted = triage_calls(version, 10, day="2025-06-11", cost=0.01)
        for row in unprompted:
            row["prompt_version_id"] = None  # spend that belongs to no prompt still counts
        write_calls(store, hosted + unprompted)
        result = overview(store, SETTINGS, now=NOW, offline=True)
        runs = store.read().execute("SELECT count(*) FROM runs").fetchone()[0]
    statuses = {v.candidate.kind: (v.status, v.note) for v in result.verdicts}
    assert statuses["exact_cache"] == ("holds", "replayed")
    assert statuses["compression"] == ("not tested", "needs gpt-4o: not run offline")
    assert {status for kind, (status, _) in statuses.items() if kind != "exact_cache"} == {
        "not tested"
    }
    assert runs == 0  # nothing was sent to a hosted model
    assert result.spend == pytest.approx(40 * 0.002 + 10 * 0.01)
    cache = next(v for v in result.verdicts if v.candidate.kind == "exact_cache")
    assert result.saving == pytest.approx(cache.projected_monthly)
    assert result.share == pytest.approx(cache.projected_monthly / result.spend)
    assert describe(result).endswith(f"({result.share:.1%})")
