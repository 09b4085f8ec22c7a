"""`llmbench optimize PROMPT` through the real CLI on a real database: every candidate tested
as a run, the best that holds shipped with --apply; exit 1 when none holds quality."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from llmbench import paths
from llmbench.cli import cli
from llmbench.demo.optimize_demo import add_optimize_demo
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.chain_records import database_id
from llmbench.store.db import open_db
from llmbench.store.optimizations import shipped
from llmbench.store.prompts.versions import labels
from tests.support.optimize_traffic import add_dataset, add_prompt, triage_calls
from tests.support.traffic import write_calls

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def test_apply_ships_the_best_candidate_that_holds(tmp_path: Path) -> None:
    path = tmp_path / "optimize.db"
    with open_db(path) as store:
        version = add_prompt(store)
        write_calls(store, triage_calls(version, 30, day=YESTERDAY))
        add_dataset(store, "triage")
    result = run("optimize", "triage", "--db", str(path), "--apply")
    assert result.exit_code == 0, result.output
    assert "compression" in result.output and "holds" in result.output
    assert "shipped as label move" in result.output
    with open_db(path) as store:
        [done] = shipped(store.read())
        assert labels(store.read(), done.prompt_id)["production"] == done.candidate_version_id
        assert done.candidate_version_id != version and done.run_id is not None


def test_exit_1_when_no_candidate_holds_quality(tmp_path: Path) -> None:
    path = tmp_path / "cut.db"
    prose = ("Your ticket has been read and a person will answer it within a day.",)
    with open_db(path) as store:
        version = add_prompt(store, "cut", {"task": "Ticket: {{ ticket }}"})
        write_calls(store, triage_calls(version, 30, day=YESTERDAY, answers=prose))
        add_dataset(store, "long", [f"{'word ' * 40}{end}" for end in ("refund", "late")])
    result = run("optimize", "cut", "--db", str(path), "--dataset", "long")
    assert result.exit_code == 1, result.output
    assert "max_tokens" in result.output and "does not hold" in result.output
    assert "no candidate held quality" in result.output
    with open_db(path) as store:
        assert shipped(store.read()) == []


def test_from_production_tests_on_the_prompts_recent_inputs(tmp_path: Path) -> None:
    path = tmp_path / "production.db"
    now = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with open_db(path) as store:
        key = load_chain_key(database_id(store.read()))
        store.write(lambda db: add_optimize_demo(db, key, now, count=60))
    result = run("optimize", "extract-order", "--db", str(path), "--from-production")
    assert result.exit_code == 0, result.output
    assert "compression" in result.output and "holds" in result.output
    with open_db(path) as store:
        names = [row[0] for row in store.read().execute("SELECT name FROM datasets")]
        sources = {
            row[0] for row in store.read().execute("SELECT DISTINCT source FROM cases WHERE"
            " dataset_id = (SELECT max(id) FROM datasets)")
        }  # fmt: skip
    assert names[0] == "extract-order" and names[1].startswith("extract-order production ")
    assert sources == {"promoted-from-call"}


def test_the_exact_cache_is_replayed_with_the_gateways_lifetime(
    isolated_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "repeats.db"
    with open_db(path) as store:
        version = add_prompt(store)
        # The last five repeat the first request exactly, 25-29 s after it, a second apart.
        write_calls(store, triage_calls(version, 30, day=YESTERDAY, repeats=5))
        add_dataset(store, "triage")
    kept_a_day = run("optimize", "triage", "--db", str(path))
    paths.config_path().write_text("[gateway]\ncache_ttl_s = 1\n")
    kept_a_second = run("optimize", "triage", "--db", str(path))
    assert kept_a_second.exit_code == 0, kept_a_second.output
    day, second = (
        int(re.search(r"exact cache \((\d+)% hits\)", result.output)[1])  # type: ignore[index]
        for result in (kept_a_day, kept_a_second)
    )
    assert day == 17  # all five repeats
    assert second < day  # only those within a second of the same request before them
