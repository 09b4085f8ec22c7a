from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.core.costs.pricing import SIMULATOR_PRICES, cost_of
from llmbench.core.models import Price, Usage
from llmbench.demo.build import DemoExists, DemoSummary, build_demo
from llmbench.demo.call_stream import SLICE_CALLS
from llmbench.demo.optimize_demo import NAME as OPTIMIZE
from llmbench.demo.optimize_demo import calls_for
from llmbench.demo.optimize_runs import call_count
from llmbench.store.audit.search_index import has_pending
from llmbench.store.db import StoreError, open_db
from llmbench.store.maintenance import check_integrity

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
CALLS = 2000
REAL_MODELS = {
    "gpt-4o",
    "gpt-4o-mini",
    "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022",
    "gemini-1.5-flash",
}
# Tables whose rows are the demo's content (meta holds a random file id, by design).
CONTENT_TABLES = (
    "prompts",
    "prompt_versions",
    "prompt_labels",
    "label_moves",
    "prompt_notes",
    "datasets",
    "cases",
    "runs",
    "results",
    "checks",
    "rubrics",
    "grades",
    "calls",
    "prices",
)


# One slice (as every demo up to 25,000 calls is drawn), and slices of 400 calls, as a large
# demo is drawn and written: the story holds either way.
@pytest.fixture(scope="module", params=[SLICE_CALLS, 400], ids=["whole", "sliced"])
def demo(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[DemoSummary, object]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    summary = build_demo(path, calls=CALLS, now=NOW, slices=request.param)
    with open_db(path, create=False) as store:
        yield summary, store.read()


def _rows(db, sql: str, params: tuple = ()) -> list[tuple]:
    return db.execute(sql, params).fetchall()


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open_db(path, create=False) as store:
        db = store.read()
        for table in CONTENT_TABLES:
            # The chain's hashes are keyed per file, so two equal files differ only there.
            columns = [c.name for c in db[table].columns if c.name not in ("hash", "prev_hash")]
            listed = ", ".join(f"[{c}]" for c in columns)
            for row in db.execute(f"SELECT {listed} FROM [{table}] ORDER BY rowid"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_summary_counts_match_the_file(demo) -> None:
    summary, db = demo
    # The story's calls, and the optimizer's demo prompt's and its recorded bake-off's on top
    # (llmbench/demo/optimize_demo.py, optimize_runs.py).
    assert summary.calls == db["calls"].count == CALLS + calls_for(CALLS) + call_count() == 2138
    assert summary.prompts == db["prompts"].count >= 3
    assert summary.versions == db["prompt_versions"].count
    assert summary.cases == db["cases"].count
    assert summary.results == db["results"].count
    assert summary.grades == db["grades"].count
    assert summary.total_cost == pytest.approx(
        db.execute("SELECT sum(cost) FROM calls").fetchone()[0], abs=1e-3
    )
    assert "2,138 calls" in summary.describe()


def test_the_file_is_sound(demo) -> None:
    _, db = demo
    report = check_integrity(db)
    assert report.integrity == ["ok"]
    assert report.foreign_key_problems == []
    # The search index matches the calls it indexes (raises if it does not).
    db.execute("INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')")
    assert not has_pending(db.conn)  # every call is in it


def test_prompts_have_versions_with_metadata_labels_and_notes(demo) -> None:
    _, db = demo
    # The story's prompts; the optimizer's demo prompt is one version with traffic of its own.
    for prompt_id, name in _rows(db, "SELECT id, name FROM prompts WHERE name != ?", (OPTIMIZE,)):
        versions = _rows(
            db,
            "SELECT id, version, author, message, model, params, parent_id FROM prompt_versions"
            " WHERE prompt_id = ? ORDER BY version",
            (prompt_id,),
        )
        assert len(versions) >= 3, name
        ids = {row[0] for row in versions}
        for _id, number, author, message, model, params, parent in versions:
            assert author and message and model and json.loads(params), (name, number)
            assert (parent is None) == (number == 1) and (parent is None or parent in ids)
        labels = dict(
            _rows(
                db, "SELECT label, version_id FROM prompt_labels WHERE prompt_id = ?", (prompt_id,)
            )
        )
        assert set(labels) == {"production", "staging"} and set(labels.values()) <= ids
        for label, version_id in labels.items():
            last_move = _rows(
                db,
                "SELECT to_version_id FROM label_moves WHERE prompt_id = ? AND label = ?"
                " ORDER BY moved_at DESC, id DESC LIMIT 1",
                (prompt_id, label),
            )
            assert last_move == [(version_id,)]
    kinds = {row[0] for row in _rows(db, "SELECT kind FROM prompt_notes")}
    assert kinds == {"pattern", "lesson", "failed-approach", "model-quirk"}
    rollbacks = _rows(
        db,
        "SELECT count(*) FROM label_moves m JOIN prompt_versions f ON f.id = m.from_version_id"
        " JOIN prompt_versions t ON t.id = m.to_version_id WHERE t.version < f.version",
    )
    assert rollbacks[0][0] >= 1  # a rollback is part of the story


def test_datasets_have_tagged_cases_with_golden_answers(demo) -> None:
    _, db = demo
    # The story's datasets; the optimizer's demo dataset's cases carry checks instead.
    story = "SELECT id FROM datasets WHERE name != ?"
    sizes = _rows(
        db,
        f"SELECT dataset_id, count(*) FROM cases WHERE dataset_id IN ({story}) GROUP BY dataset_id",
        (OPTIMIZE,),
    )
    assert len(sizes) >= 2 and all(size >= 20 for _, size in sizes)
    for tags, expected in _rows(
        db, f"SELECT tags, expected FROM cases WHERE dataset_id IN ({story})", (OPTIMIZE,)
    ):
        assert set(json.loads(tags)) >= {"task_type", "difficulty", "failure_mode"}
        assert expected


def test_comparison_runs_are_finished_with_every_cell_and_real_checks(demo) -> None:
    _, db = demo
    runs = _rows(db, "SELECT id, kind, status, config, finished_at FROM runs")
    assert len(runs) >= 2
    check_kinds: set[str] = set()
    for run_id, kind, status, config_text, finished_at in runs:
        config = json.loads(config_text)
        assert kind == "compare" and status == "done" and finished_at
        assert len(config["models"]) * len(config["versions"]) >= 2  # groups to compare
        cases = db.execute(
            "SELECT count(*) FROM cases WHERE dataset_id = ?", [config["dataset_id"]]
        ).fetchone()[0]
        cells = _rows(
            db,
            "SELECT r.version_id, r.model, r.case_id, c.run_id, c.response = r.output"
            " FROM results r JOIN calls c ON c.id = r.call_id WHERE r.run_id = ?",
            (run_id,),
        )
        assert len(cells) == len(config["versions"]) * len(config["models"]) * cases
        assert {cell[0] for cell in cells} == set(config["version_ids"])
        assert {cell[1] for cell in cells} == set(config["models"])
        assert all(cell[3] == run_id and cell[4] == 1 for cell in cells)
        checked = _rows(
            db,
            "SELECT count(DISTINCT k.result_id), min(k.passed), max(k.passed)"
            " FROM checks k JOIN results r ON r.id = k.result_id WHERE r.run_id = ?",
            (run_id,),
        )
        assert checked == [(len(cells), 0, 1)]  # every result checked; some pass, some fail
        check_kinds |= {
            row[0]
            for row in _rows(
                db,
                "SELECT DISTINCT kind FROM checks JOIN results r ON r.id = result_id"
                " WHERE r.run_id = ?",
                (run_id,),
            )
        }
    assert check_kinds >= {"contains", "is-json", "max-length", "regex"}


def test_checks_agree_with_the_outputs_they_judge(demo) -> None:
    _, db = demo
    for output, passed, detail in _rows(
        db,
        "SELECT r.output, k.passed, k.detail FROM checks k JOIN results r ON r.id = k.result_id"
        " WHERE k.kind = 'is-json'",
    ):
        try:
            parsed_ok = isinstance(json.loads(output), dict)
        except ValueError:
            parsed_ok = False
        assert parsed_ok == bool(passed), detail


def test_two_reviewers_grade_overlapping_items_on_the_rubric(demo) -> None:
    _, db = demo
    [(dimensions_text,)] = _rows(db, "SELECT dimensions FROM rubrics WHERE name = 'helpfulness'")
    dimensions = json.loads(dimensions_text)
    assert [d["name"] for d in dimensions] == ["relevance", "correctness", "tone"]
    assert all(len(d["levels"]) == 5 for d in dimensions)
    by_item: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for result_id, reviewer, scores in _rows(db, "SELECT result_id, reviewer, scores FROM grades"):
        by_item[result_id][reviewer] = json.loads(scores)
        assert all(1 <= value <= 5 for value in json.loads(scores).values())
    reviewers = {reviewer for item in by_item.values() for reviewer in item}
    assert len(reviewers) == 2
    shared = [item for item in by_item.values() if len(item) == 2]
    assert len(shared) >= 20
    disagreements = sum(1 for item in shared if len({json.dumps(s) for s in item.values()}) > 1)
    assert 0 < disagreements < len(shared)


def test_calls_cover_thirty_days_of_features_teams_and_customers(demo) -> None:
    _, db = demo
    first, last = db.execute("SELECT min(ts), max(ts) FROM calls").fetchone()
    assert first >= "2026-10-28T18:30" and last < "2026-11-27T18:30"
    assert db.execute("SELECT count(DISTINCT substr(ts, 1, 10)) FROM calls").fetchone()[0] >= 30
    timestamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    assert all(timestamp.match(row[0]) for row in _rows(db, "SELECT ts FROM calls"))
    features = {row[0] for row in _rows(db, "SELECT DISTINCT feature FROM calls")}
    assert features >= {"support-chat", "summarize", "extract", "classify", "search-answer"}
    assert db.execute("SELECT count(DISTINCT team) FROM calls").fetchone()[0] >= 4
    per_customer = [
        row[0]
        for row in _rows(
            db,
            "SELECT count(*) FROM calls WHERE customer IS NOT NULL GROUP BY customer"
            " ORDER BY 1 DESC",
        )
    ]
    assert len(per_customer) >= 15
    # Power law: the top three customers make more calls than all the others together.
    assert sum(per_customer[:3]) > sum(per_customer[3:])
    assert per_customer[0] > 10 * statistics.median(per_customer)


def test_traffic_has_daily_and_weekly_seasonality(demo) -> None:
    _, db = demo
    # Production traffic: the comparison runs' calls (a seventh of this demo) keep their own days.
    production = "FROM calls WHERE run_id IS NULL GROUP BY 1"
    by_hour = dict(_rows(db, f"SELECT strftime('%H', ts), count(*) {production}"))
    assert by_hour["15"] > 3 * by_hour["03"]
    by_weekday = dict(_rows(db, f"SELECT strftime('%w', ts), count(*) {production}"))
    weekdays = statistics.mean(by_weekday[d] for d in "12345")
    assert weekdays > 1.8 * statistics.mean(by_weekday[d] for d in "06")


def test_tokens_latency_and_models_look_real(demo) -> None:
    _, db = demo
    models = {row[0] for row in _rows(db, "SELECT DISTINCT model FROM calls")}
    assert models >= REAL_MODELS | {"llmbench/mock"}
    prompt_tokens: dict[str, list[int]] = defaultdict(list)
    for feature, tokens in _rows(
        db, "SELECT feature, prompt_tokens FROM calls WHERE status = 'ok' AND feature IS NOT NULL"
    ):
        prompt_tokens[feature].append(tokens)
    medians = {feature: statistics.median(values) for feature, values in prompt_tokens.items()}
    assert medians["summarize"] > 4 * medians["classify"]  # each feature has its own shape
    spread = statistics.quantiles(prompt_tokens["support-chat"], n=10)
    assert spread[-1] > 2 * spread[0]  # a long right tail, not a constant
    for model in ("gpt-4o", "claude-3-5-sonnet-20241022"):
        rows = _rows(
            db,
            "SELECT completion_tokens, latency_ms, ttft_ms FROM calls WHERE model = ?"
            " AND status = 'ok' AND run_id IS NULL",
            (model,),
        )
        completions, latencies, ttfts = zip(*rows, strict=True)
        assert statistics.correlation(completions, latencies) > 0.5
        assert all(0 < t < lat for t, lat in zip(ttfts, latencies, strict=True))
    assert db.execute("SELECT count(*) FROM calls WHERE cached_tokens > 0").fetchone()[0] > 0


def test_failures_retries_and_cache_hits(demo) -> None:
    _, db = demo
    statuses = dict(_rows(db, "SELECT status, count(*) FROM calls GROUP BY status"))
    assert {"ok", "error", "timeout", "rate_limited", "cache_hit", "blocked"} <= set(statuses)
    assert statuses["ok"] > 0.85 * CALLS
    assert _rows(
        db,
        "SELECT count(*) FROM calls WHERE status IN ('error', 'timeout', 'rate_limited')"
        " AND (error_kind IS NULL OR error IS NULL OR error = '')",
    ) == [(0,)]
    retried = _rows(
        db,
        "SELECT a.ts < b.ts, b.status FROM calls a JOIN calls b ON b.request_id = a.request_id"
        " AND b.attempt = 2 WHERE a.status = 'rate_limited' AND a.attempt = 1",
    )
    assert len(retried) == statuses["rate_limited"]
    assert all(earlier and status == "ok" for earlier, status in retried)
    fallbacks = _rows(
        db,
        "SELECT count(*) FROM calls a JOIN calls b ON b.request_id = a.request_id"
        " AND b.attempt = 2 WHERE a.status = 'timeout' AND b.model != b.model_requested",
    )
    assert fallbacks[0][0] >= 1
    assert _rows(
        db,
        "SELECT count(*), min(saving) > 0, max(cost) FROM calls WHERE status = 'cache_hit'",
    ) == [(statuses["cache_hit"], 1, 0.0)]


def test_costs_follow_the_stored_prices(demo) -> None:
    _, db = demo
    priced = {row[0] for row in _rows(db, "SELECT model FROM prices")}
    used = {row[0] for row in _rows(db, "SELECT DISTINCT model FROM calls")}
    assert used <= priced and REAL_MODELS | set(SIMULATOR_PRICES) <= priced
    sources = dict(_rows(db, "SELECT model, source FROM prices"))
    assert all(sources[model] == "demo" for model in REAL_MODELS)
    for model, price in SIMULATOR_PRICES.items():
        stored = _rows(db, "SELECT input, output, cached FROM prices WHERE model = ?", (model,))
        assert stored == [(price.input, price.output, price.cached)]
    rows = _rows(
        db,
        "SELECT c.prompt_tokens, c.completion_tokens, c.cached_tokens, c.cost, c.input_price,"
        " c.output_price, c.cached_price, p.input, p.output, p.cached FROM calls c"
        " JOIN prices p ON p.model = c.model AND p.from_date = (SELECT max(from_date)"
        " FROM prices q WHERE q.model = c.model AND q.from_date <= substr(c.ts, 1, 10))"
        " WHERE c.status = 'ok'",
    )
    assert len(rows) > 0.85 * CALLS
    for prompt, completion, cached, cost, input_, output, cached_price, *table in rows:
        assert (input_, output, cached_price) == tuple(table)
        expected = cost_of(Usage(prompt, completion, cached), Price(input_, output, cached_price))
        assert cost == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_one_cost_spike_stands_out(demo) -> None:
    _, db = demo
    hours = _rows(
        db,
        "SELECT substr(ts, 1, 13), sum(cost) FROM calls WHERE run_id IS NULL GROUP BY 1"
        " ORDER BY 2 DESC",
    )
    spends = [spend for _, spend in hours]
    median = statistics.median(spends)
    spiking = [hour for hour, spend in hours if spend >= 4 * median]
    assert spiking and spends[0] >= 4 * median
    # The spike is one afternoon, and one customer's feature is behind it.
    assert len({hour[:10] for hour in spiking[:3]}) == 1
    day = spiking[0][:10]
    top = _rows(
        db,
        "SELECT customer, feature, sum(cost) FROM calls WHERE substr(ts, 1, 10) = ?"
        " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 2",
        (day,),
    )
    assert top[0][2] > 3 * top[1][2]


def test_injection_attempts_are_flagged_with_rules_and_spans(demo) -> None:
    _, db = demo
    flagged = _rows(db, "SELECT messages, guard_flags, status FROM calls WHERE flagged = 1")
    assert 3 <= len(flagged) <= 20
    for messages_text, flags_text, status in flagged:
        user = json.loads(messages_text)[-1]["content"]
        flags = json.loads(flags_text)
        assert flags and status in ("ok", "blocked")
        for flag in flags:
            assert flag["rule"] and user[flag["start"] : flag["end"]] == flag["span"]
    rules = {flag["rule"] for _, text, _ in flagged for flag in json.loads(text)}
    assert "instruction-override" in rules


def test_calls_reference_versions_of_the_feature_prompt(demo) -> None:
    _, db = demo
    pairs = _rows(
        db,
        "SELECT c.feature, p.name, count(*) FROM calls c JOIN prompt_versions v"
        " ON v.id = c.prompt_version_id JOIN prompts p ON p.id = v.prompt_id"
        " WHERE c.run_id IS NULL GROUP BY 1, 2",
    )
    mapping = {feature: name for feature, name, _ in pairs}
    assert len(mapping) == len(pairs) >= 4
    assert mapping["support-chat"] == "support-reply"
    # A version only serves calls after it was written.
    assert _rows(
        db,
        "SELECT count(*) FROM calls c JOIN prompt_versions v ON v.id = c.prompt_version_id"
        " WHERE c.ts < v.created_at",
    ) == [(0,)]


def test_messages_are_chat_json_and_searchable(demo) -> None:
    _, db = demo
    for (text,) in _rows(db, "SELECT messages FROM calls LIMIT 200"):
        roles = [message["role"] for message in json.loads(text)]
        assert roles == ["system", "user"]
    distinct = db.execute("SELECT count(DISTINCT messages) FROM calls").fetchone()[0]
    assert distinct > 0.7 * CALLS  # retries and cache hits repeat a request's messages
    hits = db.execute("SELECT count(*) FROM calls_fts WHERE calls_fts MATCH 'refund'").fetchone()[0]
    assert hits > 50


def test_history_never_precedes_what_it_points_at(demo) -> None:
    _, db = demo
    assert _rows(
        db,
        "SELECT count(*) FROM label_moves m JOIN prompt_versions v ON v.id = m.to_version_id"
        " WHERE m.moved_at < v.created_at",
    ) == [(0,)]
    assert _rows(
        db,
        "SELECT count(*) FROM prompt_notes n JOIN prompt_versions v ON v.id = n.version_id"
        " WHERE n.created_at < v.created_at",
    ) == [(0,)]
    assert _rows(
        db,
        "SELECT count(*) FROM grades g JOIN results r ON r.id = g.result_id"
        " JOIN runs u ON u.id = r.run_id WHERE g.created_at < u.finished_at",
    ) == [(0,)]


def test_small_and_empty_demos_still_hold_the_story(tmp_path: Path) -> None:
    summary = build_demo(tmp_path / "tiny.db", calls=0, days=3, now=NOW)
    assert summary.runs == 3 and summary.prompts == 6 and summary.grades > 0
    assert summary.calls == summary.results  # only the runs' own calls
    with open_db(tmp_path / "tiny.db", create=False) as store:
        assert check_integrity(store.read()).ok


def test_same_seed_and_now_give_the_same_file(tmp_path: Path) -> None:
    build_demo(tmp_path / "a.db", seed=3, calls=600, now=NOW)
    build_demo(tmp_path / "b.db", seed=3, calls=600, now=NOW)
    build_demo(tmp_path / "c.db", seed=4, calls=600, now=NOW)
    assert _digest(tmp_path / "a.db") == _digest(tmp_path / "b.db")
    assert _digest(tmp_path / "a.db") != _digest(tmp_path / "c.db")


def test_an_existing_file_is_kept_unless_replace(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    build_demo(path, calls=300, now=NOW)
    before = _digest(path)
    with pytest.raises(DemoExists, match="already exists"):
        build_demo(path, calls=400, now=NOW)
    assert _digest(path) == before
    Path(f"{path}-wal").write_bytes(b"stale")
    summary = build_demo(path, calls=400, now=NOW, replace=True)
    assert summary.calls == 400 + calls_for(400) + call_count()
    assert not Path(f"{path}-wal").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]


def test_replace_refuses_a_database_that_is_not_a_demo(tmp_path: Path) -> None:
    path = tmp_path / "work.db"
    with open_db(path) as store:
        store.write(
            lambda db: db.execute("INSERT INTO datasets (name, created_at) VALUES ('x', 'y')")
        )
    with pytest.raises(DemoExists, match="not a demo"):
        build_demo(path, calls=300, now=NOW, replace=True)
    with open_db(path) as store:
        assert store.read()["datasets"].count == 1
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(DemoExists, match="not a demo"):
        build_demo(tmp_path / "notes.txt", calls=300, now=NOW, replace=True)
    with pytest.raises(StoreError, match="folder"):
        build_demo(tmp_path, calls=300, now=NOW)


def test_a_failure_midway_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    seen: list[tuple[int, int]] = []

    def failing(done: int, total: int) -> None:
        seen.append((done, total))
        if done > 0.75 * total:  # well into writing the calls
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_demo(path, calls=3000, now=NOW, progress=failing)
    assert seen and list(tmp_path.iterdir()) == []


def test_a_failed_rebuild_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    build_demo(path, calls=300, now=NOW)
    before = _digest(path)

    def failing(done: int, total: int) -> None:
        if done == total:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        build_demo(path, calls=500, now=NOW, progress=failing, replace=True)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]


def test_progress_rises_to_its_total(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    build_demo(tmp_path / "demo.db", calls=2500, now=NOW, progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(seen) > 4
    assert seen[-1] == (2500, 2500) and {t for _, t in seen} == {2500}


def test_the_default_size_is_mostly_successful_calls(tmp_path: Path) -> None:
    # How fast it builds is tests/benchmarks/bench_demo.py's figure, not a timed test's.
    summary = build_demo(tmp_path / "demo.db")
    assert summary.calls == 20_000 + calls_for(20_000) + call_count() == 20_948
    with open_db(tmp_path / "demo.db", create=False) as store:
        counts = Counter(row[0] for row in store.read().execute("SELECT status FROM calls"))
    assert counts["ok"] > 17_000


def test_the_demo_audit_log_is_sealed_and_verifies(tmp_path: Path) -> None:
    from llmbench.gateway.chain_key import load_chain_key
    from llmbench.store.audit.log import database_id, verify_chain

    summary = build_demo(tmp_path / "sealed.db", calls=500, now=NOW)
    with open_db(summary.path, create=False) as store:
        db = store.read()
        key = load_chain_key(database_id(db), create=False)
        report = verify_chain(db, key)
    assert report.ok, report.problem
    assert report.checked == summary.calls
