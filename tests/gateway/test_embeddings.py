"""Embeddings through litellm's HTTP path to the loopback server, and dynamic few-shot with them."""

from __future__ import annotations

import pytest

from llmbench.core.models import Example
from llmbench.core.prompts.fewshot import select_examples
from llmbench.gateway.embeddings import Embedder, EmbeddingUnavailable, FallbackEmbedder
from tests.support.openai_server import OpenAICompatibleServer

SECRET = "sk-embedding-test-0123456789"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def _embedder(server: OpenAICompatibleServer, model: str = "text-embed") -> Embedder:
    return Embedder(f"openai/{model}", api_base=server.base_url, timeout_s=5)


def test_texts_are_embedded_once_and_in_order(server: OpenAICompatibleServer) -> None:
    embedder = _embedder(server, "embed-once")
    first = embedder(["refund my order", "reset my password"])
    again = embedder(["reset my password", "refund my order", "refund my order"])
    assert again == [first[1], first[0], first[0]]
    sent = [r.body["input"] for r in server.requests if r.body.get("model") == "embed-once"]
    assert sent == [["refund my order", "reset my password"]]  # the second call hit no server


def test_dynamic_few_shot_ranks_with_the_embeddings(server: OpenAICompatibleServer) -> None:
    pool = [
        Example("Cancel the subscription please", "Cancellation steps"),
        Example("Where is my parcel", "Tracking link"),
    ]
    chosen = select_examples(pool, "my parcel is late", 1, embed=_embedder(server, "embed-rank"))
    assert chosen == [pool[1]]
    (request,) = [r for r in server.requests if r.body.get("model") == "embed-rank"]
    assert request.body["input"] == ["my parcel is late", *(e.input for e in pool)]
    assert request.headers["Authorization"] == f"Bearer {SECRET}"


def test_a_failing_model_is_reported_without_the_key(server: OpenAICompatibleServer) -> None:
    model = server.scenario("embed-down", fault="status", status=500)
    embedder = _embedder(server, model)
    with pytest.raises(EmbeddingUnavailable) as raised:
        embedder(["anything"])
    assert model in str(raised.value) and SECRET not in str(raised.value)

    fallback = FallbackEmbedder(embedder)
    assert fallback(["a", "b"]) == [[0.0], [0.0]]
    assert fallback.problem is not None and SECRET not in fallback.problem
    pool = [Example("refund policy", "x"), Example("password reset", "y")]
    assert select_examples(pool, "refund", 1, embed=fallback) == [pool[0]]  # lexical still works
