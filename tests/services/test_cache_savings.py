"""Realised against potential savings of provider prompt caching, on a real SQLite file whose
calls carry cache-read and cache-write tokens at the prices they were charged; and the
cacheable marks of a version kept by the store (m017), by saving a draft and by prompt files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.core.models import Variable
from llmbench.core.tokens import count_tokens
from llmbench.importers.file_problems import PromptFileError
from llmbench.services.costs.cache_savings import cached_prompts
from llmbench.services.costs.savings import savings
from llmbench.services.prompts.files import export_prompts, import_prompts
from llmbench.services.prompts.library import Draft, PromptsError, save_version
from llmbench.store.db import Store, open_db
from llmbench.store.prompts.versions import add_version, create_prompt, get_version, list_versions
from tests.support.traffic import write_calls

SINCE, UNTIL = "2025-06-01T00:00:00.000Z", "2025-06-10T00:00:00.000Z"
ROLE = "You answer questions about Acme's parcel service, politely and in plain words. " * 60
SECTIONS = {"role": ROLE, "task": "Answer: {{ question }}"}
ASKED = (Variable("question", "untrusted"),)
MODEL = "claude-sonnet-4-5"
# USD per million: input, cache read, cache write (Anthropic's 1.25× input).
INPUT, READ, WRITE = 3.0, 0.3, 3.75


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "savings.db") as opened:
        yield opened


def _call(n: int, version: int, ts: str = "2025-06-05T10:00:00.000Z", **fields: Any) -> dict:
    return {
        "ts": ts,
        "request_id": f"r{n}",
        "model_requested": MODEL,
        "model": MODEL,
        "provider": "anthropic",
        "status": "ok",
        "prompt_version_id": version,
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        "prompt_tokens": 1200,
        "completion_tokens": 50,
        "input_price": INPUT,
        "cached_price": READ,
        "cache_write_price": WRITE,
        **fields,
    }


def _versions(store: Store) -> tuple[int, int]:
    def job(db: Any) -> tuple[int, int]:
        prompt = create_prompt(db, "support")
        return (
            add_version(db, prompt, SECTIONS, variables=ASKED, model=MODEL, cacheable=("role",)),
            add_version(
                db,
                prompt,
                {**SECTIONS, "task": "Reply: {{ question }}"},
                variables=ASKED,
                model=MODEL,
            ),
        )

    return store.write(job)


def test_realised_is_what_cache_reads_saved_less_the_writes_premium(store: Store) -> None:
    marked, plain = _versions(store)
    write_calls(
        store,
        [
            _call(1, marked, cache_write_tokens=800),  # the first call writes the cache
            *(_call(n, marked, cached_tokens=800) for n in (2, 3, 4)),  # the next ones read it
            _call(5, marked, cached_tokens=800, input_price=None, cached_price=None),  # unpriced
            _call(6, marked, status="error", error="boom", cached_tokens=800),  # not an answer
            _call(7, marked, ts="2025-05-31T23:00:00.000Z", cached_tokens=800),  # before
            _call(8, plain, cached_tokens=900),  # a version marking nothing is not listed
        ],
    )

    (item,) = cached_prompts(store, SINCE, UNTIL)
    assert (item.prompt, item.version, item.model, item.cacheable) == (
        "support",
        1,
        MODEL,
        ("role",),
    )
    assert (item.calls, item.cached_tokens, item.cache_write_tokens) == (5, 3200, 800)
    assert item.read_saving == pytest.approx(3 * 800 * (INPUT - READ) / 1e6)
    assert item.write_cost == pytest.approx(800 * (WRITE - INPUT) / 1e6)
    assert item.realised == pytest.approx((3 * 800 * (INPUT - READ) - 800 * (WRITE - INPUT)) / 1e6)
    # Potential: the static text (the sections without template code) of every call at the
    # cached price instead of the input price, at the mean prices the calls were charged.
    static = count_tokens(f"{ROLE}\nAnswer: ", MODEL)
    assert item.potential == pytest.approx(static * 5 * (INPUT - READ) / 1e6)
    assert item.realised_share == pytest.approx(item.realised / item.potential)
    assert 0 < item.realised_share < 1

    # F5's savings read carries the same.
    assert savings(store, SINCE, UNTIL).cached_prompts == [item]


def test_nothing_priced_means_no_share(store: Store) -> None:
    marked, _ = _versions(store)
    write_calls(store, [_call(1, marked, cached_tokens=500, input_price=None, cached_price=None)])
    (item,) = cached_prompts(store, SINCE, UNTIL)
    assert (item.realised, item.potential, item.realised_share) == (0.0, 0.0, None)


def test_marks_are_saved_with_a_version_and_count_as_a_change(store: Store) -> None:
    marked, _ = _versions(store)
    version = get_version(store.read(), marked)
    assert version is not None and version.cacheable == ("role",)
    draft = Draft.of(version)
    with pytest.raises(PromptsError, match="nothing changed"):
        save_version(store, version.prompt_id, draft, author="me", message="same", parent_id=marked)
    # Marking the task too is a new version; a mark on an empty section is not kept.
    marks = ("task", "format", "role")
    changed = Draft(draft.sections, draft.variables, draft.model, cacheable=marks)
    saved = save_version(
        store, version.prompt_id, changed, author="me", message="cache the task", parent_id=marked
    )
    assert saved.cacheable == ("role", "task")
    raw = store.read().execute("SELECT cacheable FROM prompt_versions WHERE id = ?", [saved.id])
    assert json.loads(raw.fetchone()[0]) == ["role", "task"]


def test_prompt_files_carry_the_marks_both_ways(store: Store, tmp_path: Path) -> None:
    _versions(store)
    (path,) = export_prompts(store, tmp_path / "out")
    text = path.read_text(encoding="utf-8")
    assert "    cacheable:\n      - role\n    sections:" in text
    with open_db(tmp_path / "other.db") as other:
        import_prompts(other, path, author="me")
        prompt_id = other.read().execute("SELECT id FROM prompts").fetchone()[0]
        marks = [version.cacheable for version in list_versions(other.read(), prompt_id)]
    assert marks == [("role",), ()]


def test_a_prompt_file_naming_a_section_it_lacks_is_refused(store: Store, tmp_path: Path) -> None:
    _versions(store)
    (path,) = export_prompts(store, tmp_path / "out")
    path.write_text(
        path.read_text(encoding="utf-8").replace("      - role\n", "      - safety\n"),
        encoding="utf-8",
    )
    with pytest.raises(PromptFileError, match="cacheable names 'safety', not one of its sections"):
        import_prompts(store, path, author="me")
