"""Production inputs as a dataset (services/optimize/production_cases.py over
core/optimize/inputs.py), on the demo's optimizer prompt in a real SQLite file: a prompt with no
dataset of its own gets one from its recent calls (variables read back from the messages,
repeats once, secrets redacted, checks by the answers' shape), and a candidate tested on it
holds quality."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.core.optimize.inputs import input_matcher, sample_cases
from llmbench.core.prompts.templates import render_messages, template_of
from llmbench.demo.optimize_demo import NAME, add_optimize_demo
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.optimize.candidates import find_candidates
from llmbench.services.optimize.production_cases import dataset_name
from llmbench.services.optimize.testing import pick_dataset
from llmbench.services.optimize.testing import test_candidate as run_candidate
from llmbench.store.audit.chain_records import database_id
from llmbench.store.db import Store, open_db
from tests.support.optimize_traffic import SETTINGS

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8J9k0" * 2  # an OpenAI-shaped key the redactor knows


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "production.db") as opened:
        key = load_chain_key(database_id(opened.read()))
        opened.write(lambda db: add_optimize_demo(db, key, "2025-06-01T12:00:00.000Z", count=80))
        # The prompt's own dataset renamed away: the prompt has none that fits.
        opened.write(
            lambda db: db.execute("DELETE FROM cases") and db.execute("DELETE FROM datasets")
        )
        yield opened


def test_a_prompt_without_a_dataset_is_tested_on_its_production_inputs(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    dataset_id, cases = pick_dataset(store, found)
    rows = (
        store.read().execute("SELECT id, name FROM datasets WHERE id = ?", [dataset_id]).fetchall()
    )
    assert rows == [(dataset_id, dataset_name(found))] and dataset_name(found).endswith(
        "2025-06-01"
    )
    emails = [case.vars["email"] for case in cases]
    distinct = (
        store.read()
        .execute(
            "SELECT count(DISTINCT messages) FROM calls WHERE prompt_version_id = ?",
            [found.version.id],
        )
        .fetchone()[0]
    )
    assert len(emails) == len(set(emails)) == min(distinct, 50)  # deduplicated, newest 50
    assert all(email.startswith("Hello, my ") and "<user_input>" not in email for email in emails)
    first = cases[0]
    assert first.source == "promoted-from-call" and first.expected
    keys = json.loads(first.expected)
    assert first.checks[0] == {"type": "is-json"}
    assert [check["value"] for check in first.checks[1:]] == [f'"{key}"' for key in keys]
    assert pick_dataset(store, found)[0] == dataset_id  # reused, not sampled again that day
    compression = next(c for c in found.candidates if c.kind == "compression")
    tested = run_candidate(store, SETTINGS, found, compression)
    assert tested.holds and tested.report.paired_cases == len(cases)


def test_inputs_are_read_back_redacted_and_deduplicated(store: Store) -> None:
    found = find_candidates(store, NAME, now=NOW)
    template = template_of(found.version)
    said = f"My key is {KEY}, order 12345 is late"

    def call(n: int, email: str) -> tuple[int, str, str]:
        return n, json.dumps(render_messages(template, {"email": email})), '{"sentiment": "x"}'

    other = [{"role": "user", "content": "not this prompt"}]
    calls = [call(1, said), call(2, said), (3, json.dumps(other), "{}"), call(4, "second")]
    cases = sample_cases(calls, input_matcher(found.version), "json", 10)
    assert [case.call_id for case in cases] == [1, 4]
    assert KEY not in cases[0].vars["email"] and "order 12345 is late" in cases[0].vars["email"]
    assert cases[1].vars == {"email": "second"}
    assert cases[0].checks == ({"type": "is-json"}, {"type": "contains", "value": '"sentiment"'})
    assert len(sample_cases(calls, input_matcher(found.version), "json", 1)) == 1
