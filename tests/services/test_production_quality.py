"""Production quality on a real SQLite file, calls appended through the audit log's insert
path: the judge (llmbench/mock through the gateway) scores sampled production calls on the
production rubrics and its verdicts reach F7's report and drift detection; a judge that cannot
be reached is recorded and the sample goes on; answer consistency is measured per day, stored,
and a rise of diverging answers is caught as drift."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.config import GatewaySettings, GuardSettings, ModelOptions, ModelSettings, Settings
from llmbench.demo.build import build_demo
from llmbench.gateway.client import shutdown_sync
from llmbench.services.monitoring.consistency import (
    ConsistencyError,
    measure_consistency,
    query_text,
)
from llmbench.services.monitoring.health import check_drift, drift_series, monitor_report
from llmbench.services.monitoring.production_judge import request_text
from llmbench.services.monitoring.quality_sample import sample_production
from llmbench.store.db import Store, open_db
from llmbench.store.views import to_iso
from tests.support.support_questions import PROMPT, SUITE, seed_support_traffic

NOW = datetime(2026, 11, 20, tzinfo=UTC)  # midnight: each day of traffic is one UTC day
SETTINGS = Settings(
    gateway=GatewaySettings(max_retries=0),
    guard=GuardSettings(enabled=False),
    models=ModelSettings(judge_model="llmbench/mock"),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "quality.db") as opened:
        yield opened
    shutdown_sync()


def _rows(store: Store, query: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def test_the_judge_scores_sampled_production_calls_on_the_production_rubrics(
    store: Store, tmp_path: Path
) -> None:
    seed_support_traffic(store, NOW, days=3, per_day=10)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    outcome = sample_production(store, PROMPT, suite, rate=1.0, days=3, now=NOW, settings=SETTINGS)
    assert outcome.sampled == outcome.candidates == 30 and outcome.graded == 30
    assert outcome.judge_model == "llmbench/mock" and outcome.judged == 30
    assert outcome.judge_failures == 0 and 0.0 <= (outcome.judge_score or -1) <= 1.0
    judged = _rows(
        store,
        "SELECT k.call_id, k.passed, k.score, k.detail FROM checks k"
        " WHERE k.kind = 'judge' AND k.result_id IS NULL ORDER BY k.call_id",
    )
    assert len(judged) == 30 and len({row[0] for row in judged}) == 30
    for _call, passed, score, detail in judged:
        assert passed in (0, 1) and 0.0 <= score <= 1.0
        for rubric in ("instruction_following", "relevance", "format", "safety"):
            assert f"{rubric} " in detail
    # The judge's own calls are in the audit log, tagged, with the judged answer fenced in.
    asked = _rows(
        store, "SELECT model, tags, messages FROM calls WHERE tags LIKE '%monitor-judge%'"
    )
    assert len(asked) == 30 and all(row[0] == "llmbench/mock" for row in asked)
    assert json.loads(asked[0][1]) == {"run": "monitor-judge"}
    assert "<judged_output>" in asked[0][2]

    report = monitor_report(store, "30d", now=NOW)
    assert sum(day.judged for day in report.production.judge) == 30
    assert report.production.latest_judge is not None
    series = dict(
        (spec.key, points) for spec, points in drift_series(store, now=NOW, sample_limit=1000)
    )
    assert len(series["judge_score"]) == 3  # ten verdicts a day, each day kept


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_judge_that_cannot_be_reached_is_recorded_and_the_sample_goes_on(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-closed-port-0123456789")
    judge = "openai/judge-nowhere"
    settings = Settings(
        gateway=GatewaySettings(max_retries=0),
        guard=GuardSettings(enabled=False),
        models=ModelSettings(judge_model=judge),
        model={judge: ModelOptions(api_base=f"http://127.0.0.1:{_closed_port()}/v1", timeout_s=5)},  # type: ignore[arg-type]
    )
    seed_support_traffic(store, NOW, days=1, per_day=6)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    outcome = sample_production(store, PROMPT, suite, rate=1.0, days=1, now=NOW, settings=settings)
    assert outcome.sampled == 6 and outcome.judged == 0 and outcome.judge_failures == 6
    assert outcome.pass_rate == 1.0  # the deterministic check still ran on every call
    failed = _rows(store, "SELECT passed, score, detail FROM checks WHERE kind = 'judge'")
    assert len(failed) == 6
    assert all(row[:2] == (None, None) for row in failed)
    assert all(
        row[2].startswith(f"monitor sample: error: the judge {judge} failed") for row in failed
    )
    # not-contains is stored as a negated contains.
    assert _rows(store, "SELECT count(*) FROM checks WHERE kind = 'contains'") == [(6,)]


def test_the_judge_can_be_turned_off(store: Store, tmp_path: Path) -> None:
    seed_support_traffic(store, NOW, days=1, per_day=5)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE + "  - {type: llm-rubric, value: Answers the question asked}\n")
    outcome = sample_production(
        store, PROMPT, suite, rate=1.0, days=1, now=NOW, settings=SETTINGS, judge=False
    )
    assert outcome.judge_model == "" and outcome.judged == 0
    assert outcome.skipped == ("judge (the judge is turned off)",)
    assert _rows(store, "SELECT count(*) FROM checks WHERE kind = 'judge'") == [(0,)]


def test_a_suite_rubric_is_judged_as_written(store: Store, tmp_path: Path) -> None:
    seed_support_traffic(store, NOW, days=1, per_day=4)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE + "  - {type: llm-rubric, value: Answers the question asked}\n")
    outcome = sample_production(store, PROMPT, suite, rate=1.0, days=1, now=NOW, settings=SETTINGS)
    assert outcome.judged == 4
    details = [row[0] for row in _rows(store, "SELECT detail FROM checks WHERE kind = 'judge'")]
    assert all(detail.startswith("monitor sample: rubric ") for detail in details)


def test_consistency_is_measured_per_day_stored_and_its_rise_is_drift(store: Store) -> None:
    seed_support_traffic(store, NOW, days=14, per_day=40, diverge_after=10, seed=9)
    measured = measure_consistency(store, days=15, now=NOW)
    (support,) = measured
    assert support.prompt == PROMPT and len(support.days) == 14
    assert all(day.calls == 40 and day.pairs >= 20 for day in support.days)
    early = [day.share or 0 for day in support.days[:10]]
    late = [day.share or 0 for day in support.days[11:]]
    # A diverging answer disagrees with every neighbour: 3% of answers is ~6% of pairs, 40%
    # is ~48%.
    assert max(early) < 0.2 < 0.35 < min(late), (early, late)
    worst = support.days[-1].examples[0]
    answers = dict(_rows(store, "SELECT id, response FROM calls WHERE id IN (?, ?)", *worst))
    assert len(set(answers.values())) == 2  # an example pair's answers really differ

    stored = _rows(store, "SELECT count(*), sum(pairs), sum(divergent) FROM consistency_daily")
    assert stored == [(14, support.pairs, support.divergent)]
    again = measure_consistency(store, prompt=PROMPT, days=15, now=NOW)  # replaces, not adds
    assert again[0].pairs == support.pairs
    assert _rows(store, "SELECT count(*) FROM consistency_daily") == [(14,)]

    report = monitor_report(store, "24h", now=NOW)
    (series,) = report.production.consistency
    assert series.prompt == PROMPT and len(series.points()) == 14
    found = check_drift(store, now=NOW, sample_limit=1000)
    drifts = {drift.spec.key: drift for drift in found.found}
    drift = drifts[f"consistency:{PROMPT}"]
    assert drift.harmful and drift.current > drift.baseline
    message = _rows(store, "SELECT message FROM alerts WHERE kind = 'drift'")
    assert any(f"{PROMPT} diverging answers up" in row[0] for row in message)


def test_an_unknown_prompt_is_refused(store: Store) -> None:
    with pytest.raises(ConsistencyError, match="no prompt named 'nope'"):
        measure_consistency(store, prompt="nope", now=NOW)


def test_the_demo_has_a_consistency_series_with_its_outage(tmp_path: Path) -> None:
    demo = build_demo(tmp_path / "demo.db", calls=6000, now=NOW).path
    conn = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT d.day, d.pairs, d.divergent, d.computed_at FROM consistency_daily d"
            " JOIN prompts p ON p.id = d.prompt_id WHERE p.name = 'support-reply' ORDER BY d.day"
        ).fetchall()
        deflected = conn.execute(
            "SELECT min(ts), max(ts) FROM calls WHERE response LIKE 'I''m sorry, I can''t look%'"
        ).fetchone()
    finally:
        conn.close()
    assert len(rows) >= 28 and all(row[3] == to_iso(NOW) for row in rows)
    # Days with enough pairs to be a level (as drift detection keeps them).
    shares = {day: divergent / pairs for day, pairs, divergent, _at in rows if pairs >= 20}
    outage = [share for day, share in shares.items() if "2026-11-12" <= day < "2026-11-18"]
    before = [share for day, share in shares.items() if day < "2026-11-11"]
    assert len(outage) >= 3 and len(before) >= 10
    assert min(outage) > 0.1 > max(before)
    # The deflected answers are the outage's, sealed as they are (8 to 2 days before now).
    assert deflected[0][:10] >= "2026-11-12" and deflected[1][:10] < "2026-11-18"


def test_the_suite_names_the_judge_and_its_dimensions(store: Store, tmp_path: Path) -> None:
    seed_support_traffic(store, NOW, days=1, per_day=3)
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        SUITE
        + "  - {type: judge}\n"
        + "judge:\n  model: llmbench/mock\n  dimensions:\n"
        + '    - {name: politeness, description: "Is it courteous?", scale: [1, 3]}\n'
    )
    settings = Settings(
        gateway=GatewaySettings(max_retries=0),
        guard=GuardSettings(enabled=False),
        models=ModelSettings(judge_model="openai/never-asked"),
    )
    outcome = sample_production(store, PROMPT, suite, rate=1.0, days=1, now=NOW, settings=settings)
    assert outcome.judge_model == "llmbench/mock" and outcome.judged == 3
    details = [row[0] for row in _rows(store, "SELECT detail FROM checks WHERE kind = 'judge'")]
    assert all(re.match(r"monitor sample: politeness [123]/3: ", detail) for detail in details)


def test_what_the_judge_and_consistency_read_of_a_request() -> None:
    messages = json.dumps(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is on this receipt?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
        ]
    )
    assert query_text(messages) == "What is on this receipt?"
    assert request_text(messages).splitlines()[-1] == "user: What is on this receipt? [image_url]"
    assert query_text(None) == "" and query_text("not json") == ""
    assert request_text(None) == "(the request's messages were not kept)"
