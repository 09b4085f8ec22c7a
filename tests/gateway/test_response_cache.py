"""Exact, near-duplicate and semantic cache hits through the gateway, on real SQLite files and
the loopback server's /v1/embeddings (bag-of-words vectors: texts sharing words point alike)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmbench.config import GatewaySettings, ModelOptions, ModelSettings, Settings
from llmbench.gateway.engine import Gateway
from llmbench.gateway.recorder import AuditRecorder
from llmbench.gateway.response_cache import cache_key, normalise_text, normalised_key
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store, open_db
from tests.support.openai_server import OpenAICompatibleServer

MODEL = "llmbench/mock"
SYSTEM = {"role": "system", "content": "You answer customer questions."}
REFUND = "How do I get a refund for my order?"
REFUND_AGAIN = "How can I get a refund for my order?"
PASSWORD = "Please reset the password of my account"


def _ask(question: str, system: dict[str, str] = SYSTEM) -> list[dict[str, str]]:
    return [system, {"role": "user", "content": question}]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "cache.db") as opened:
        yield opened


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-embedding-test-0123456789")


def _gateway(
    store: Store,
    server: OpenAICompatibleServer | None = None,
    embedding: str = "",
    **gateway: float,
) -> Gateway:
    models = {embedding: ModelOptions(api_base=server.base_url)} if embedding and server else {}
    settings = Settings(
        models=ModelSettings(embedding_model=embedding),
        gateway=replace(GatewaySettings(), **gateway),
        model=models,
    )
    return Gateway(AuditRecorder(store), settings)


def _rows(store: Store, gateway: Gateway) -> list[dict]:
    gateway.recorder.flush()
    return list(store.read().query("SELECT * FROM calls ORDER BY id"))


def test_normalising_ignores_case_spacing_width_and_trailing_punctuation() -> None:
    assert normalise_text("  What is   the\trefund\npolicy?! ") == "what is the refund policy"
    assert normalise_text("ＷＨＡＴ is the refund policy？") == "what is the refund policy"
    assert normalise_text("Straße…") == "strasse"
    # Inner punctuation and words stay: only near-duplicates meet.
    assert normalise_text("refund, policy") != normalise_text("refund policy")
    messages = [{"role": "user", "content": "What is   the refund policy?"}]
    again = [{"role": "user", "content": "what is the refund policy"}]
    assert cache_key(MODEL, messages, {}) != cache_key(MODEL, again, {})
    assert normalised_key(MODEL, messages, {}) == normalised_key(MODEL, again, {})
    assert normalised_key(MODEL, messages, {}) != normalised_key(MODEL, again, {"seed": 1})


async def test_a_near_duplicate_is_a_normalised_hit_and_exact_mode_refuses_it(
    store: Store,
) -> None:
    gateway = _gateway(store)
    first = await gateway.complete(MODEL, _ask("What is   the refund policy?"), cache=True)
    gateway.recorder.flush()
    near = await gateway.complete(MODEL, _ask("what is the refund policy"), cache=True)
    same = await gateway.complete(MODEL, _ask("What is   the refund policy?"), cache=True)
    strict = await gateway.complete(MODEL, _ask("what is the refund policy"), cache="exact")
    gateway.recorder.flush()
    # What an exact-only call stored is found by a later near-duplicate.
    after_strict = await gateway.complete(MODEL, _ask("Tell me a JOKE."), cache="exact")
    gateway.recorder.flush()
    near_joke = await gateway.complete(MODEL, _ask("tell me a joke"), cache=True)
    assert (after_strict.cache, near_joke.cache) == (None, "normalised")
    assert (first.cache, near.cache, same.cache, strict.cache) == (
        None,
        "normalised",
        "exact",
        None,
    )
    assert near.text == first.text and near.completion.cost == 0.0
    rows = _rows(store, gateway)[:4]
    assert [r["status"] for r in rows] == ["ok", "cache_hit", "cache_hit", "ok"]
    assert [json.loads(r["tags"]).get("cache") for r in rows] == [
        None,
        "normalised",
        "exact",
        None,
    ]
    assert rows[1]["saving"] == pytest.approx(first.completion.cost)
    hits = store.read().execute("SELECT sum(hits) FROM cache").fetchone()[0]
    assert hits == 3
    assert verify_chain(store.read(), gateway.recorder.key).ok


async def test_an_unknown_cache_mode_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="cache must be"):
        await _gateway(store).complete(MODEL, _ask("hi"), cache="fuzzy")


async def test_a_similar_question_is_a_semantic_hit(store: Store, server) -> None:
    embedding = "openai/embed-semantic"
    gateway = _gateway(store, server, embedding, semantic_threshold=0.8)
    first = await gateway.complete(MODEL, _ask(REFUND), cache="semantic")
    gateway.recorder.flush()
    similar = await gateway.complete(MODEL, _ask(REFUND_AGAIN), cache="semantic")
    unrelated = await gateway.complete(MODEL, _ask(PASSWORD), cache="semantic")
    # Another system prompt is another scope: the answer could differ, so it is not reused.
    other_context = await gateway.complete(
        MODEL, _ask(REFUND_AGAIN, {"role": "system", "content": "Be terse."}), cache="semantic"
    )
    # A call that did not ask for semantic hits gets none.
    plain = await gateway.complete(MODEL, _ask(REFUND_AGAIN), cache=True)
    assert [r.cache for r in (first, similar, unrelated, other_context, plain)] == [
        None,
        "semantic",
        None,
        None,
        None,
    ]
    assert similar.text == first.text
    rows = _rows(store, gateway)
    tags = json.loads(rows[1]["tags"])
    assert rows[1]["status"] == "cache_hit" and tags["cache"] == "semantic"
    assert 0.8 <= tags["cache_similarity"] < 1.0
    vectors = store.read().execute("SELECT count(*) FROM cache WHERE embedding IS NOT NULL")
    assert vectors.fetchone()[0] == 3  # first, unrelated, other_context; plain stored none
    embedded = [r.body["input"] for r in server.requests if r.body.get("model") == "embed-semantic"]
    assert embedded[0] == ["how do i get a refund for my order"]


async def test_the_semantic_lookup_reads_only_the_newest_entries(store: Store, server) -> None:
    embedding = "openai/embed-bounded"
    gateway = _gateway(store, server, embedding, semantic_threshold=0.8, semantic_candidates=1)
    await gateway.complete(MODEL, _ask(REFUND), cache="semantic")
    gateway.recorder.flush()
    await gateway.complete(MODEL, _ask(PASSWORD), cache="semantic")
    gateway.recorder.flush()
    bounded = await gateway.complete(MODEL, _ask(REFUND_AGAIN), cache="semantic")
    assert bounded.cache is None  # the refund entry is no longer among the newest one


async def test_an_expired_entry_is_no_semantic_hit(store: Store, server) -> None:
    embedding = "openai/embed-expired"
    gateway = _gateway(store, server, embedding, semantic_threshold=0.8, cache_ttl_s=0)
    await gateway.complete(MODEL, _ask(REFUND), cache="semantic")
    gateway.recorder.flush()
    assert (await gateway.complete(MODEL, _ask(REFUND_AGAIN), cache="semantic")).cache is None


async def test_a_failing_embedding_model_never_fails_the_call(store: Store, server) -> None:
    embedding = "openai/" + server.scenario("embed-broken", fault="status", status=500)
    gateway = _gateway(store, server, embedding, semantic_threshold=0.5)
    first = await gateway.complete(MODEL, _ask(REFUND), cache="semantic")
    other = await gateway.complete(MODEL, _ask(PASSWORD), cache="semantic")
    gateway.recorder.flush()
    again = await gateway.complete(MODEL, _ask(REFUND.lower()), cache="semantic")
    assert (first.cache, other.cache) == (None, None)
    assert again.cache == "normalised"  # exact and normalised hits still work
    assert gateway.cache.problem is not None and "embed-broken" in gateway.cache.problem
    assert [r["status"] for r in _rows(store, gateway)] == ["ok", "ok", "cache_hit"]
    # After the failure, semantic lookups rest instead of asking the failing model each call.
    # (litellm lets the OpenAI SDK retry an embedding twice whatever max_retries says.)
    asked = [r for r in server.requests if r.body.get("model") == "scenario/embed-broken"]
    assert {json.dumps(r.body["input"]) for r in asked} == {
        '["how do i get a refund for my order"]'
    }


async def test_without_an_embedding_model_semantic_means_normalised(store: Store) -> None:
    gateway = _gateway(store)
    await gateway.complete(MODEL, _ask(REFUND), cache="semantic")
    gateway.recorder.flush()
    assert (await gateway.complete(MODEL, _ask(REFUND_AGAIN), cache="semantic")).cache is None
    assert (await gateway.complete(MODEL, _ask(REFUND.upper()), cache="semantic")).cache == (
        "normalised"
    )
