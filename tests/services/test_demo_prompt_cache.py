"""The demo's prompt that marks sections cacheable (`answer-from-docs` v3, on Claude): its calls
are recorded as the gateway records a marked version, their usage shows the provider's cache
written after a quiet spell and read while calls keep coming (5 minutes), they are priced at the
demo's prices, and F5's savings view shows what caching realised against its potential."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Price, Usage
from llmbench.core.prompts.caching import CACHE_CONTROL
from llmbench.demo.build import build_demo
from llmbench.demo.catalog import SONNET
from llmbench.demo.docs_prompt import CACHEABLE, NAME
from llmbench.services.costs.cache_savings import cached_prompts
from llmbench.store.db import open_db

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
# Three busy days: enough calls for Claude's 5-minute cache to be read as well as written.
CALLS, DAYS = 6000, 3
TTL_S = 300
EVER = ("2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("demo-cache") / "demo.db"
    build_demo(path, calls=CALLS, days=DAYS, now=NOW)
    with open_db(path, create=False) as store:
        yield store


def _calls(db: Any) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT c.*, v.version FROM calls c JOIN prompt_versions v"
            " ON v.id = c.prompt_version_id JOIN prompts p ON p.id = v.prompt_id"
            " WHERE p.name = ? ORDER BY c.ts, c.id",
            [NAME],
        )
    )


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def test_the_version_marks_its_head_cacheable_and_serves_the_month(demo: Any) -> None:
    db = demo.read()
    versions = list(
        db.query(
            "SELECT v.version, v.model, v.cacheable, v.sections FROM prompt_versions v"
            " JOIN prompts p ON p.id = v.prompt_id WHERE p.name = ? ORDER BY v.version",
            [NAME],
        )
    )
    assert [(v["version"], json.loads(v["cacheable"])) for v in versions] == [
        (1, []),
        (2, []),
        (3, list(CACHEABLE)),
    ]
    assert versions[2]["model"] == SONNET
    # Every call carries the guide: it must not mention a refund, or the image call (the
    # newest that does) would no longer be the one F6's screenshot opens.
    assert "refund" not in versions[2]["sections"].lower()
    labels = dict(
        db.execute(
            "SELECT l.label, v.version FROM prompt_labels l JOIN prompt_versions v"
            " ON v.id = l.version_id JOIN prompts p ON p.id = l.prompt_id WHERE p.name = ?",
            [NAME],
        ).fetchall()
    )
    assert labels == {"production": 3, "staging": 3}
    calls = _calls(db)
    assert {c["feature"] for c in calls} == {"search-answer"}
    assert {c["version"] for c in calls} == {2, 3}  # v2 before v3's move, early on
    assert sum(c["version"] == 3 for c in calls) > 0.9 * len(calls)


def test_calls_are_recorded_as_the_gateway_records_a_marked_version(demo: Any) -> None:
    sections = json.loads(
        demo.read()
        .execute(
            "SELECT v.sections FROM prompt_versions v JOIN prompts p ON p.id = v.prompt_id"
            " WHERE p.name = ? AND v.version = 3",
            [NAME],
        )
        .fetchone()[0]
    )
    head = "\n\n".join(sections[name] for name in CACHEABLE)
    for call in _calls(demo.read()):
        system, user = json.loads(call["messages"])
        assert system["content"] == head and user["role"] == "user"
        assert user["content"].startswith("Articles:\n[1] ") and "\n\nQuestion: " in user["content"]
        if call["version"] == 3:
            assert system["cache_control"] == dict(CACHE_CONTROL)
        else:
            assert "cache_control" not in system


def test_claude_writes_the_cache_after_a_quiet_spell_and_reads_it_while_busy(demo: Any) -> None:
    answered = [c for c in _calls(demo.read()) if c["status"] == "ok"]
    claude = [c for c in answered if c["model"] == SONNET and c["version"] == 3]
    heads = {c["cached_tokens"] or c["cache_write_tokens"] for c in claude}
    (head,) = heads
    assert head >= 1024  # Claude caches nothing shorter
    last: float | None = None
    reads = writes = 0
    for call in claude:
        now = _seconds(call["ts"])
        if last is not None and now - last < TTL_S:
            assert (call["cached_tokens"], call["cache_write_tokens"]) == (head, None), call
            reads += 1
        else:
            assert (call["cached_tokens"], call["cache_write_tokens"]) == (0, head), call
            writes += 1
        last = now
    assert claude[0]["cache_write_tokens"] == head and reads > 0 and writes > 0
    # Before v3 marked the head, Claude cached nothing.
    for call in answered:
        if call["version"] == 2 and call["model"] == SONNET:
            assert (call["cached_tokens"], call["cache_write_tokens"]) == (0, None)
    for call in answered:
        assert call["prompt_tokens"] > head
        price = Price(call["input_price"], call["output_price"], call["cached_price"])
        usage = Usage(
            call["prompt_tokens"],
            call["completion_tokens"],
            call["cached_tokens"],
            cache_write_tokens=call["cache_write_tokens"],
        )
        assert call["cost"] == pytest.approx(cost_of(usage, price), abs=1e-8)


def test_f5_savings_show_realised_against_potential(demo: Any) -> None:
    found = {(item.prompt, item.version, item.model): item for item in cached_prompts(demo, *EVER)}
    item = found[(NAME, 3, SONNET)]
    assert item.cacheable == CACHEABLE
    assert item.cached_tokens > 0 and item.cache_write_tokens > 0
    # The demo's prices bill a cache write as input: nothing above it to pay.
    assert item.write_cost == 0.0
    assert item.realised == pytest.approx(item.read_saving)
    assert 0 < item.realised < item.potential
    share = item.realised_share
    assert share is not None and 0 < share < 1
    assert all(key[0] == NAME and key[1] == 3 for key in found)
