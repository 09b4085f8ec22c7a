"""Embeddings for similarity (dynamic few-shot), through litellm, remembered per text.

An editor previews on every keystroke and the few-shot pool rarely changes, so each distinct
text is embedded once per process. A failing embedding model must never break rendering: the
embedder then answers with no vectors and the caller falls back to lexical similarity.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from llmbench.gateway.call_arguments import keyring_api_key, load_litellm

MAX_REMEMBERED = 20_000


class EmbeddingUnavailable(RuntimeError):
    """The embedding model did not answer; the message says why (never with a key in it)."""


class Embedder:
    """A callable `texts -> vectors` for core.fewshot's `embed=`."""

    def __init__(self, model: str, *, api_base: str | None = None, timeout_s: float = 10.0) -> None:
        self.model = model
        self.api_base = api_base
        self.timeout_s = timeout_s
        self._vectors: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        if missing:
            fetched = self._fetch(missing)
            with self._lock:
                if len(self._vectors) + len(fetched) > MAX_REMEMBERED:
                    self._vectors.clear()
                self._vectors.update(zip(missing, fetched, strict=True))
                return [self._vectors.get(text) or fetched[missing.index(text)] for text in texts]
        with self._lock:
            return [self._vectors[text] for text in texts]

    def _fetch(self, texts: list[str]) -> list[list[float]]:
        litellm = load_litellm()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "input": texts,
            "timeout": self.timeout_s,
            "num_retries": 0,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        api_key = keyring_api_key(self.model)
        if api_key is not None:
            kwargs["api_key"] = api_key
        try:
            response = litellm.embedding(**kwargs)
        except Exception as error:  # any provider failure: say which model, not the request
            raise EmbeddingUnavailable(
                f"embedding model {self.model} failed: {type(error).__name__}"
            ) from None
        data = sorted(response.data, key=lambda item: _field(item, "index"))
        vectors = [list(map(float, _field(item, "embedding"))) for item in data]
        if len(vectors) != len(texts):
            raise EmbeddingUnavailable(
                f"embedding model {self.model} returned {len(vectors)} vectors for {len(texts)}"
            )
        return vectors


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


class FallbackEmbedder:
    """Wraps an Embedder so that a failure turns embeddings off for the rest of the process
    instead of failing every render: similarity is then lexical, and `problem` says why."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.problem: str | None = None

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        if self.problem is None:
            try:
                return self.embedder(texts)
            except EmbeddingUnavailable as error:
                self.problem = str(error)
        # All-zero vectors score 0 against everything: the ranking is the lexical one.
        return [[0.0] for _ in texts]
