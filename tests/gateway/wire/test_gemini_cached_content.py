"""A prompt version marking sections cacheable, sent to `gemini/gemini-2.5-flash` through the
gateway's litellm path, against a loopback server speaking Gemini's API with context caching
(tests/support/gemini_server.py). What litellm 1.110.2 sends
(`llms/vertex_ai/context_caching/`): on the first call it lists `cachedContents` looking for
one made before for the same text (by displayName, a key hashed from the cached messages),
creates one holding only the marked text as its system instruction, then posts generateContent
with `cachedContent` naming it and only the rest of the request; later calls in the process
reuse the name it remembers (until just before the cache's expireTime) without listing or
creating again, and a process that does not know it finds it by listing. Each row is read back:
the cache's tokens as cache reads (`cachedContentTokenCount`), the creation's as cache writes
on the call that made it, each priced at litellm's table rates; the savings view counts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.core.models import Variable
from llmbench.core.prompts.templates import render_messages, template_of
from llmbench.gateway.engine import Gateway
from llmbench.gateway.model_table import bundled_model_table
from llmbench.services.costs.cache_savings import cached_prompts
from llmbench.store.db import Store, open_db
from llmbench.store.prompts.versions import add_version, create_prompt, get_version
from tests.support.gemini_server import (
    CACHES,
    GeminiServer,
    body,
    reference,
    running_gemini_server,
)
from tests.support.wire_calls import Sleeps, chain_verifies, rows, wire_gateway

MODEL = "gemini/gemini-2.5-flash"
ENTRY = bundled_model_table()["gemini/gemini-2.5-flash"]
GEMINI_TEST_KEY = "AIzaSy-loopback-test-key-0123456789abcdef"
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
# Long enough to cache: litellm skips caching below the model's minimum (1,024 tokens for
# gemini-2.5-flash in its table, `prompt_cache_min_tokens`).
HANDBOOK = " ".join(
    f"Rule {n}: parcels of class {n} travel by road within two working days, are insured up to "
    f"{n * 50} euros and are returned to the sender after {n + 6} days in a depot."
    for n in range(1, 61)
)
SECTIONS = {
    "role": f"You answer questions about Acme Parcels' shipping rules.\n{HANDBOOK}",
    "format": "Two sentences at most.",
    "task": "Question: {{ question }}",
}
QUESTIONS = ("How do I send a 40 kg parcel?", "Can I insure a parcel for 500 euros?")
EVER = ("2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z")


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    yield from running_gemini_server()


@pytest.fixture
def known_caches() -> Iterator[Any]:
    """litellm's process-wide record of the caches it made or found, empty before and after
    each test (a cache name is only valid on the server that made it)."""
    from litellm.llms.vertex_ai.context_caching.known_cached_contents import (
        known_cached_contents,
    )

    known_cached_contents.clear()
    yield known_cached_contents
    known_cached_contents.clear()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_TEST_KEY)
    with open_db(tmp_path / "gemini-cache.db") as opened:
        yield opened


def _version(store: Store) -> int:
    def job(db: Any) -> int:
        prompt = create_prompt(db, "parcel-rules")
        variables = (Variable("question", "untrusted"),)
        return add_version(
            db, prompt, SECTIONS, variables=variables, model=MODEL, cacheable=("role",)
        )

    return int(store.write(job))


async def _ask(gateway: Gateway, store: Store, version_id: int, question: str) -> None:
    version = get_version(store.read(), version_id)
    assert version is not None and version.cacheable == ("role",)
    messages = render_messages(template_of(version), {"question": question})
    await gateway.complete(MODEL, messages, prompt_version_id=version_id)


def _cost(*, prompt: int, completion: int, cached: int, written: int) -> float:
    """USD at litellm's table entry: reads at the cache-read rate; the entry has no
    cache-creation rate, so writes are billed as input."""
    assert "cache_creation_input_token_cost" not in ENTRY
    return (
        (prompt - cached - written) * ENTRY["input_cost_per_token"]
        + cached * ENTRY["cache_read_input_token_cost"]
        + written * ENTRY["input_cost_per_token"]
        + completion * ENTRY["output_cost_per_token"]
    )


async def test_marked_sections_become_cached_content_created_once_then_reused(
    store: Store, gemini_server: GeminiServer, known_caches: Any
) -> None:
    version_id = _version(store)
    gateway = wire_gateway(store, MODEL, gemini_server.api_base, Sleeps())
    gemini_server.answer(body("text_cached.json"), body("text_cached.json"))
    for question in QUESTIONS:
        await _ask(gateway, store, version_id, question)

    # First call: a list that finds nothing, one create, then generateContent naming it.
    listed = gemini_server.requests_to("GET", CACHES)
    (created,) = gemini_server.requests_to("POST", CACHES)
    assert len(listed) == 1
    assert [r.path for r in gemini_server.requests] == [CACHES, CACHES, GENERATE, GENERATE]
    (name,) = gemini_server.caches
    # The cached content is the marked text alone, as its system instruction, beside the
    # placeholder user turn "." litellm adds when only a system message is left
    # (`transformation._default_user_message_when_system_message_passed`).
    assert created.body["model"] == "models/gemini-2.5-flash"
    assert created.body["system_instruction"] == {"parts": [{"text": SECTIONS["role"]}]}
    assert created.body["contents"] == [{"role": "user", "parts": [{"text": "."}]}]
    assert created.body["displayName"] and "ttl" not in created.body  # Google's default hour
    assert gemini_server.caches[name]["displayName"] == created.body["displayName"]
    generated = [r.body for r in gemini_server.requests_to("POST", GENERATE)]
    for sent, question in zip(generated, QUESTIONS, strict=True):
        assert sent["cachedContent"] == name  # the second call reuses it: no list, no create
        assert "system_instruction" not in sent and "tools" not in sent
        # The section not marked went to the user turn, so the cached text stays the same.
        (turn,) = sent["contents"]
        assert turn["role"] == "user"
        text = "".join(part["text"] for part in turn["parts"])
        assert SECTIONS["format"] in text and question in text
        assert HANDBOOK not in json.dumps(sent)

    # A process that does not remember the cache finds it by listing, and creates none.
    known_caches.clear()
    gemini_server.answer(body("text_cached.json"))
    await _ask(gateway, store, version_id, QUESTIONS[0])
    assert len(gemini_server.requests_to("GET", CACHES)) == 2
    assert len(gemini_server.requests_to("POST", CACHES)) == 1
    assert gemini_server.requests[-1].body["cachedContent"] == name
    assert gemini_server.unanswered == 0

    usage = reference("gemini", "text_cached.json")["usageMetadata"]
    cache_tokens = reference("gemini", "cached_content.json")["usageMetadata"]["totalTokenCount"]
    cached, completion = usage["cachedContentTokenCount"], usage["candidatesTokenCount"]
    creating, reusing, finding = rows(store, gateway)
    for row in (creating, reusing, finding):
        assert row["status"] == "ok" and row["prompt_version_id"] == version_id
        assert row["cached_tokens"] == cached == 2048  # cachedContentTokenCount: cache reads
        assert row["completion_tokens"] == completion
        assert row["cached_price"] == pytest.approx(ENTRY["cache_read_input_token_cost"] * 1e6)
        assert row["response"].startswith("Parcels over 30 kg")
    # litellm adds the creation's tokens to the prompt of the call that made the cache, as
    # cache writes (`cache_creation_input_tokens`); the others only read it.
    assert creating["cache_write_tokens"] == cache_tokens
    assert creating["prompt_tokens"] == usage["promptTokenCount"] + cache_tokens
    assert (reusing["cache_write_tokens"], finding["cache_write_tokens"]) == (None, None)
    assert reusing["prompt_tokens"] == finding["prompt_tokens"] == usage["promptTokenCount"]
    prompt = usage["promptTokenCount"]
    assert creating["cost"] == pytest.approx(
        _cost(prompt=prompt + cache_tokens, completion=completion, cached=cached, written=2048)
    )
    for row in (reusing, finding):
        assert row["cost"] == pytest.approx(
            _cost(prompt=prompt, completion=completion, cached=cached, written=0)
        )
    assert chain_verifies(store, gateway)
    dump = json.dumps(list(store.read().query("SELECT * FROM calls")), default=str)
    assert GEMINI_TEST_KEY not in dump

    # F5's savings view: three calls of the marked version, each read saving at the table's
    # discount; writes billed as input cost nothing above it.
    (item,) = cached_prompts(store, *EVER)
    assert (item.prompt, item.version, item.model, item.calls) == ("parcel-rules", 1, MODEL, 3)
    assert (item.cached_tokens, item.cache_write_tokens) == (3 * cached, cache_tokens)
    discount = ENTRY["input_cost_per_token"] - ENTRY["cache_read_input_token_cost"]
    assert item.read_saving == pytest.approx(3 * cached * discount)
    assert item.write_cost == pytest.approx(0.0)
