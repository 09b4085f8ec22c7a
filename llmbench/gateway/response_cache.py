"""The response cache: exact, near-duplicate and semantic hits, all opt-in per call.

- exact: the model, the rendered messages and every param that shapes the answer;
- normalised (near-duplicate): the same, over messages whose text is normalised (see
  `normalise_text`), so "What is   the refund policy?" and "what is the refund policy" meet;
- semantic: the last user message is embedded (through litellm, with `embedding_model`) and
  compared by cosine similarity with the most recent entries of the same scope — embedding
  model, model, params and every other message, exactly. An embedding failure never fails a
  call: the lookup then stops at the exact and normalised keys.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import operator
import threading
import time
import unicodedata
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from llmbench.config import Settings
from llmbench.core.models import ToolCall, Usage
from llmbench.gateway.attempt_policy import model_timeout
from llmbench.gateway.completion_result import CompletionResult
from llmbench.store.cache import (
    count_hit,
    get_cached,
    get_near_duplicate,
    put_cached,
    semantic_candidates,
)
from llmbench.store.db import Store

if TYPE_CHECKING:
    from llmbench.gateway.embeddings import Embedder

CacheMode = Literal["exact", "normalised", "semantic"]
CACHE_MODES: tuple[CacheMode, ...] = ("exact", "normalised", "semantic")
# Sentence-ending punctuation a near-duplicate may add or drop (after NFKC, which turns the
# full-width ？ and ！ into ? and !, and … into ...).
TRAILING_PUNCTUATION = ".,;:!?。、"
# After an embedding failure, semantic lookups rest this long instead of waiting for a
# failing model on every call.
SEMANTIC_RETRY_S = 60.0
_UNSHAPING_PARAMS = ("api_key", "api_base")


def cache_mode(cache: bool | str | None) -> CacheMode | None:
    """What a call's `cache=` asks for: False/None → no cache; True → exact and normalised;
    "exact", "normalised" or "semantic" (which also tries the first two)."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return "normalised"
    if cache in CACHE_MODES:
        return cache  # type: ignore[return-value]  # checked just above
    raise ValueError(f"cache must be True, False or one of {', '.join(CACHE_MODES)}")


def normalise_text(text: str) -> str:
    """NFKC, case-folded, every run of whitespace one space, no leading or trailing space, and
    no trailing sentence punctuation (TRAILING_PUNCTUATION)."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return folded.rstrip(TRAILING_PUNCTUATION + " ")


def _normalised_content(content: Any) -> Any:
    if isinstance(content, str):
        return normalise_text(content)
    if isinstance(content, list):  # content parts: only the text parts are normalised
        return [
            {**part, "text": normalise_text(part["text"])}
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    return content


def _shaping(params: Mapping[str, Any]) -> dict[str, Any]:
    # Never the api_key, so rotating a key does not empty the cache.
    return {k: v for k, v in params.items() if k not in _UNSHAPING_PARAMS}


def _digest(*parts: Any) -> str:
    text = json.dumps(list(parts), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> str:
    """Exact-match key: the model, the rendered messages and every param that shapes the answer."""
    text = json.dumps([model, list(messages), _shaping(params)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def normalised_key(
    model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]
) -> str:
    normalised = [
        {**message, "content": _normalised_content(message.get("content"))} for message in messages
    ]
    return _digest("normalised", model, normalised, _shaping(params))


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> tuple[int, str] | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(
                str(part.get("text", ""))
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            )
        return (index, content) if isinstance(content, str) and content.strip() else None
    return None


def semantic_scope(
    embedding_model: str,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    last_user: int,
) -> str:
    """Entries compared by similarity share this: everything but the last user message."""
    context = [
        {"role": "user", "content": None} if index == last_user else message
        for index, message in enumerate(messages)
    ]
    return _digest("semantic", embedding_model, model, context, _shaping(params))


def pack_vector(vector: Sequence[float]) -> bytes | None:
    """Unit length, float32: the dot product of two packed vectors is their cosine."""
    norm = math.sqrt(sum(value * value for value in vector))
    if not norm or not math.isfinite(norm):
        return None
    return array("f", (value / norm for value in vector)).tobytes()


def similarity(left: bytes, right: bytes) -> float | None:
    if len(left) != len(right):
        return None  # another embedding model's vector
    return sum(map(operator.mul, array("f", left), array("f", right)))


@dataclass(frozen=True)
class CacheRequest:
    mode: CacheMode
    key: str
    normalised_key: str | None = None  # set once the exact key missed (unused on a hit)
    scope: str | None = None  # set once a semantic lookup embedded the last user message
    vector: bytes | None = None


@dataclass(frozen=True)
class CacheHit:
    kind: CacheMode
    key: str  # the entry that answered
    answer: dict[str, Any]
    similarity: float | None = None

    def result(self, latency_ms: float) -> CompletionResult:
        """The stored answer as this call's result: free, and as fast as the lookup."""
        found = self.answer
        return CompletionResult(
            text=found["text"],
            finish_reason=found["finish_reason"],
            model=found["model"],
            usage=Usage(**found["usage"]),
            cost=0.0,
            latency_ms=latency_ms,
            ttft_ms=None,
            # Kept since m011; an entry from before holds none.
            tool_calls=tuple(ToolCall(**call) for call in found.get("tool_calls", ())),
        )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ResponseCache:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.problem: str | None = None  # why semantic lookups are resting, if they are
        self._resting_until = 0.0
        self._embedder: Embedder | None = None  # made on the first semantic lookup
        self._lock = threading.Lock()

    def request(
        self,
        mode: CacheMode,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any],
    ) -> CacheRequest:
        return CacheRequest(mode, cache_key(model, messages, params))

    async def lookup(
        self,
        request: CacheRequest,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any],
        now: str,
    ) -> tuple[CacheHit | None, CacheRequest]:
        """The entry that answers this request, if any, and the request completed with what
        a semantic lookup learnt (so a miss stores its vector)."""
        db = self.store.read()
        answer = get_cached(db, request.key, now)
        if answer is not None:
            return CacheHit("exact", request.key, answer), request
        # Computed on a miss even in exact mode: the answer is stored under it for later
        # near-duplicate lookups.
        request = replace(request, normalised_key=normalised_key(model, messages, params))
        if request.mode == "exact":
            return None, request
        near = get_near_duplicate(db, request.normalised_key, now)
        if near is not None:
            return CacheHit("normalised", near[0], near[1]), request
        if request.mode != "semantic" or not self._semantic_available():
            return None, request
        return await asyncio.to_thread(self._semantic, request, model, messages, params, now)

    def _semantic_available(self) -> bool:
        return bool(self.settings.models.embedding_model) and (
            time.monotonic() >= self._resting_until
        )

    def _embed(self, text: str) -> list[float]:
        from llmbench.gateway.embeddings import Embedder

        with self._lock:
            if self._embedder is None:
                name = self.settings.models.embedding_model
                options = self.settings.model.get(name)
                self._embedder = Embedder(
                    name,
                    api_base=(options.api_base or None) if options else None,
                    timeout_s=model_timeout(self.settings, name),
                )
            embedder = self._embedder
        return embedder([text])[0]

    def _semantic(
        self,
        request: CacheRequest,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any],
        now: str,
    ) -> tuple[CacheHit | None, CacheRequest]:
        last = _last_user_text(messages)
        if last is None:
            return None, request
        index, text = last
        try:
            vector = pack_vector(self._embed(normalise_text(text)))
        except Exception as error:  # whatever the embedding model does, the call goes on
            self.problem = str(error) or type(error).__name__
            self._resting_until = time.monotonic() + SEMANTIC_RETRY_S
            return None, request
        if vector is None:
            return None, request
        self.problem = None
        scope = semantic_scope(self.settings.models.embedding_model, model, messages, params, index)
        request = replace(request, scope=scope, vector=vector)
        gateway = self.settings.gateway
        best: tuple[float, str, str] | None = None
        for key, answer, stored in semantic_candidates(
            self.store.read(), scope, now, gateway.semantic_candidates
        ):
            score = similarity(vector, stored)
            if (
                score is not None
                and score >= gateway.semantic_threshold
                and (best is None or score > best[0])
            ):
                best = (score, key, answer)
        if best is None:
            return None, request
        score, key, answer = best
        return CacheHit("semantic", key, json.loads(answer), round(score, 4)), request

    def put(
        self,
        request: CacheRequest,
        model: str,
        answer: dict[str, Any],
        now: str,
        expires_at: str,
    ) -> None:
        self.store.submit(
            lambda db: put_cached(
                db,
                request.key,
                model,
                answer,
                now,
                expires_at,
                normalised_key=request.normalised_key,
                scope=request.scope,
                embedding=request.vector,
            )
        )

    def put_result(self, request: CacheRequest, model: str, result: CompletionResult) -> None:
        """Keep an answer for cache_ttl_s, under the request's keys."""
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.settings.gateway.cache_ttl_s)
        answer = {
            "text": result.text,
            "finish_reason": result.finish_reason,
            "model": result.model,
            "usage": asdict(result.usage),
            "cost": result.cost,
            "tool_calls": [call.as_dict() for call in result.tool_calls],
        }
        self.put(request, model, answer, _iso(now), _iso(expires))

    def count_hit(self, key: str) -> None:
        self.store.submit(lambda db: count_hit(db, key))
