from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench import Bench
from llmbench.config import Settings
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.gateway.outcomes import GatewayResult
from llmbench.store.audit.log import verify_chain
from llmbench.store.prompts import versions as prompts


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    opened = Bench(db=tmp_path / "app.db", settings=Settings(), tags={"feature": "faq"})

    def seed(db) -> None:
        prompt_id = prompts.create_prompt(db, "faq-answer")
        first = prompts.add_version(
            db,
            prompt_id,
            {"role": "You answer FAQs.", "task": "Question: {{ question }}"},
            variables=[Variable("question", "untrusted")],
            model="llmbench/echo",
            params={"max_tokens": 50},
        )
        second = prompts.add_version(
            db,
            prompt_id,
            {"role": "You answer FAQs briefly.", "task": "Q: {{ question }}"},
            variables=[Variable("question", "untrusted")],
            model="llmbench/mock",
            parent_id=first,
        )
        prompts.set_label(db, prompt_id, "production", first, moved_by="test")
        prompts.set_label(db, prompt_id, "staging", second, moved_by="test")

    opened.store.write(seed)
    yield opened
    opened.close()
    shutdown_sync()


def test_a_prompt_name_resolves_to_its_production_version(bench: Bench) -> None:
    answer = bench.complete("faq-answer", variables={"question": "Do you ship to Norway?"})
    assert "<user_input>\nDo you ship to Norway?\n</user_input>" in answer.text
    row = (
        bench.store.read()
        .execute(
            "SELECT model, feature, prompt_version_id, params FROM calls WHERE id = ?",
            [answer.call_id],
        )
        .fetchone()
    )
    assert row[0] == "llmbench/echo" and row[1] == "faq"
    assert row[2] is not None and json.loads(row[3])["max_tokens"] == 50


def test_a_label_or_number_picks_another_version(bench: Bench) -> None:
    staged = bench.complete("faq-answer", variables={"question": "hi"}, version="staging")
    assert staged.completion.model == "llmbench/mock"
    first = bench.complete("faq-answer", variables={"question": "hi"}, version=1)
    assert first.completion.model == "llmbench/echo"
    with pytest.raises(LookupError, match="no label 'canary'"):
        bench.complete("faq-answer", variables={"question": "hi"}, version="canary")


def test_a_model_with_messages_and_feedback(bench: Bench) -> None:
    answer = bench.complete("llmbench/mock", [{"role": "user", "content": "Say hello"}])
    bench.feedback(answer, "thumbs", 1)
    bench.feedback(answer.request_id, "time_spent", 12.5)
    bench.feedback(answer.call_id, "comment", comment="helpful")
    rows = (
        bench.store.read()
        .execute(
            "SELECT kind, value, comment FROM feedback WHERE call_id = ? ORDER BY id",
            [answer.call_id],
        )
        .fetchall()
    )
    assert rows == [("thumbs", 1.0, ""), ("time_spent", 12.5, ""), ("comment", None, "helpful")]
    with pytest.raises(ValueError, match="unknown feedback kind"):
        bench.feedback(answer, "stars", 5)
    with pytest.raises(ValueError, match="1 or -1"):
        bench.feedback(answer, "thumbs", 3)
    assert verify_chain(bench.store.read(), bench.gateway.recorder.key).ok


def test_a_model_without_messages_is_refused(bench: Bench) -> None:
    with pytest.raises(ValueError, match="pass messages="):
        bench.complete("llmbench/mock")


def test_a_canary_route_splits_users_between_versions_and_records_the_arm(tmp_path: Path) -> None:
    from llmbench.core.traffic.routing import Arm, Route

    canary = Route(
        "faq-canary",
        (Arm("stable", 50, version="production"), Arm("canary", 50, version="staging")),
        prompt="faq-answer",
    )
    tiers = Route("free-tier", (Arm("cheap", model="llmbench/echo"),), when={"tier": "free"})
    with Bench(db=tmp_path / "routes.db", settings=Settings(routes=(canary, tiers))) as routed:

        def seed(db) -> None:
            prompt_id = prompts.create_prompt(db, "faq-answer")
            first = prompts.add_version(
                db,
                prompt_id,
                {"task": "{{ q }}"},
                variables=[Variable("q", "untrusted")],
                model="llmbench/echo",
            )
            second = prompts.add_version(
                db,
                prompt_id,
                {"task": "Q: {{ q }}"},
                variables=[Variable("q", "untrusted")],
                model="llmbench/mock",
                parent_id=first,
            )
            prompts.set_label(db, prompt_id, "production", first)
            prompts.set_label(db, prompt_id, "staging", second)

        routed.store.write(seed)
        arms = {}
        for user in ("ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal"):
            answers = {
                routed.complete(
                    "faq-answer", variables={"q": "hi"}, tags={"user": user}
                ).completion.model
                for _ in range(3)
            }
            assert len(answers) == 1  # a user stays on one arm
            arms[user] = answers.pop()
        assert set(arms.values()) == {"llmbench/echo", "llmbench/mock"}
        free = routed.complete(
            "llmbench/mock", [{"role": "user", "content": "x"}], tags={"tier": "free"}
        )
        assert free.completion.model == "llmbench/echo"
        routed.gateway.recorder.flush()
        recorded = {row[0] for row in routed.store.read().execute("SELECT arm FROM calls")}
        assert recorded == {"faq-canary:stable", "faq-canary:canary", "free-tier:cheap"}
    shutdown_sync()


async def test_astream_yields_chunks_then_the_result(tmp_path: Path) -> None:
    with Bench(db=tmp_path / "s.db", settings=Settings()) as streaming:
        pieces = [
            piece
            async for piece in streaming.astream(
                "llmbench/mock", [{"role": "user", "content": "Write two sentences about tea."}]
            )
        ]
        *chunks, final = pieces
        assert chunks and "".join(chunks) == final.text
        assert final.call_id > 0


TEA = [{"role": "user", "content": "Write two sentences about tea."}]
_OUTCOME = (
    "SELECT status, error_kind, attempt, model, response, finish_reason, prompt_tokens,"
    " completion_tokens, tokens_estimated, feature FROM calls WHERE user = ? ORDER BY id"
)


def _outcomes(bench: Bench, user: str) -> list[tuple]:
    bench.gateway.recorder.flush()
    return bench.store.read().execute(_OUTCOME, [user]).fetchall()


def test_stream_works_without_an_event_loop(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # a plain script: no loop anywhere in this thread
    with Bench(db=tmp_path / "s.db", settings=Settings(), tags={"feature": "chat"}) as bench:
        *chunks, final = bench.stream("llmbench/mock", TEA, tags={"user": "ann"})
        assert chunks and all(isinstance(chunk, str) for chunk in chunks)
        assert isinstance(final, GatewayResult) and "".join(chunks) == final.text
        [(status, _, attempt, _, response, *_)] = _outcomes(bench, "ann")
        assert (status, attempt, response) == ("ok", 1, final.text)
        row = bench.store.read().execute(
            "SELECT ttft_ms, latency_ms FROM calls WHERE id = ?", [final.call_id]
        )
        ttft_ms, latency_ms = row.fetchone()
        assert 0 < ttft_ms <= latency_ms
        with pytest.raises(ValueError, match="pass messages="):
            next(bench.stream("llmbench/mock"))
    shutdown_sync()


async def test_stream_records_exactly_as_astream(tmp_path: Path) -> None:
    with Bench(db=tmp_path / "s.db", settings=Settings(), tags={"feature": "chat"}) as bench:
        synced = list(bench.stream("llmbench/mock", TEA, tags={"user": "sync"}))
        awaited = [
            piece async for piece in bench.astream("llmbench/mock", TEA, tags={"user": "async"})
        ]
        assert synced[:-1] == awaited[:-1]
        assert _outcomes(bench, "sync") == _outcomes(bench, "async")
        assert _outcomes(bench, "sync")[0][0] == "ok"
    shutdown_sync()


async def test_closing_stream_early_ends_the_call_as_closing_astream_does(tmp_path: Path) -> None:
    # First chunk at once, the rest spread over at most 0.6 s: closed after the first chunk,
    # a stream that kept running would have recorded its answer by the time it is checked.
    slow = {"mock_latency_ms": 400, "mock_ttft_ms": 5}
    with Bench(db=tmp_path / "s.db", settings=Settings()) as bench:
        synced = bench.stream("llmbench/mock", TEA, params=slow, tags={"user": "sync"})
        first = next(synced)
        synced.close()
        awaited = bench.astream("llmbench/mock", TEA, params=slow, tags={"user": "async"})
        assert await anext(awaited) == first
        await awaited.aclose()
        await asyncio.sleep(0.8)
        assert _outcomes(bench, "sync") == _outcomes(bench, "async")
        assert "ok" not in [row[0] for row in _outcomes(bench, "sync")]
        # Each closed stream leaves its attempt in the audit log, cancelled, with the text so far.
        [(status, error_kind, attempt, _, response, *_)] = _outcomes(bench, "sync")
        assert (status, error_kind, attempt) == ("error", "cancelled", 1)
        assert response.startswith(first.strip())
    shutdown_sync()


def test_complete_takes_the_cache_option(bench: Bench) -> None:
    asked = [{"role": "user", "content": "What is the refund policy?"}]
    first = bench.complete("llmbench/mock", asked, cache=True)
    bench.gateway.recorder.flush()
    near = bench.complete(
        "llmbench/mock", [{"role": "user", "content": "what is  the refund policy"}], cache=True
    )
    assert (first.cache, near.cache, near.text) == (None, "normalised", first.text)
