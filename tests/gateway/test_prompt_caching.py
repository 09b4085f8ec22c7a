"""A prompt version's cacheable sections as each provider gets them: Anthropic's raw request
carries them as a `system` block with `cache_control` (through litellm to the loopback server
speaking Anthropic's Messages API, tests/support/anthropic_server.py), OpenAI's carries them as
the plain leading text of the system message (its automatic prefix cache), on both transports;
Gemini's unmarked system text moves to the user message. The cache tokens the provider reports
then show as realised savings of the version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.prompts.caching import CACHE_CONTROL
from llmbench.core.prompts.templates import render_messages, template_of
from llmbench.gateway.engine import Gateway
from llmbench.gateway.model_table import bundled_model_table
from llmbench.gateway.prompt_caching import provider_messages
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.costs.cache_savings import cached_prompts
from llmbench.services.sdk import Bench
from llmbench.store.db import open_db
from llmbench.store.prompts.versions import add_version, create_prompt, get_version, set_label
from tests.support.anthropic_server import (
    AnthropicServer,
    reference,
    running_anthropic_server,
)
from tests.support.openai_server import OpenAICompatibleServer

CLAUDE = "anthropic/claude-sonnet-4-5-20250929"
PRICES = bundled_model_table()["claude-sonnet-4-5-20250929"]
SECTIONS = {
    "role": "You are the support agent of Acme Parcels. " * 20,
    "format": "Reply in at most three sentences.",
    "safety": "Never reveal internal notes or another customer's data.",
    "task": "Answer the customer's question.\n{{ question }}",
}
HEAD = f"{SECTIONS['role'].strip()}\n\n{SECTIONS['safety']}"
QUESTIONS = ("Where is my parcel?", "Can I change the delivery address?")
EVER = ("2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z")


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[AnthropicServer]:
    yield from running_anthropic_server()


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file with the prompt `support`, whose production version marks role and safety."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-loopback-test-key-0123456789abcdef")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")
    path = tmp_path / "caching.db"
    with open_db(path) as store:

        def job(db: Any) -> None:
            prompt = create_prompt(db, "support")
            version = add_version(db, prompt, SECTIONS, model=CLAUDE, cacheable=("safety", "role"))
            set_label(db, prompt, "production", version)

        store.write(job)
    return path


def _text_blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def test_anthropic_gets_the_marked_sections_as_a_cache_control_block_and_savings_show(
    anthropic_server: AnthropicServer, db_path: Path
) -> None:
    caching = reference("usage_prompt_caching")
    base = anthropic_server.scenario(
        "cacheable", usage=(caching["cache_write"], caching["cache_read"])
    )
    with Bench(db=db_path, settings=Settings()) as bench:
        for question in QUESTIONS:
            bench.complete("support", variables={"question": question}, params={"api_base": base})
        bench.gateway.recorder.flush()
        found = cached_prompts(bench.store, *EVER)

    bodies = [request.body for request in anthropic_server.requests_for("cacheable")]
    assert len(bodies) == 2
    for body, question in zip(bodies, QUESTIONS, strict=True):
        # The raw body: the marked sections first, in one block marked for the cache, then
        # the system section not marked, unmarked; the question only in the user turn.
        assert body["system"] == [
            {"type": "text", "text": HEAD, "cache_control": dict(CACHE_CONTROL)},
            {"type": "text", "text": SECTIONS["format"]},
        ]
        (user,) = body["messages"]
        blocks = _text_blocks(user["content"])
        assert user["role"] == "user" and question in blocks[0]["text"]
        assert "cache_control" not in json.dumps(body["messages"])

    # The first call wrote the cache, the second read it: what that saved, at the prices the
    # calls were charged (the model table's), is the version's realised saving.
    tokens = caching["cache_read"]["cache_read_input_tokens"]
    (item,) = found
    assert (item.prompt, item.version, item.model, item.calls) == ("support", 1, CLAUDE, 2)
    assert item.cacheable == ("role", "safety")
    assert (item.cached_tokens, item.cache_write_tokens) == (tokens, tokens)
    read = tokens * (PRICES["input_cost_per_token"] - PRICES["cache_read_input_token_cost"])
    written = tokens * (PRICES["cache_creation_input_token_cost"] - PRICES["input_cost_per_token"])
    assert item.read_saving == pytest.approx(read)
    assert item.write_cost == pytest.approx(written)
    assert item.realised == pytest.approx(read - written)
    assert item.potential > 0


@pytest.mark.parametrize("transport", ["direct", "litellm"])
async def test_openai_gets_the_marked_sections_as_the_plain_leading_text(
    server: OpenAICompatibleServer, db_path: Path, transport: str
) -> None:
    name = server.scenario(f"prefix-{transport}", reply="On its way.")
    model = f"openai/{name}"
    settings = Settings(
        gateway=replace(GatewaySettings(), openai_transport=transport),
        model={model: ModelOptions(api_base=server.base_url)},
    )
    with open_db(db_path) as store:
        version = get_version(store.read(), 1)
        assert version is not None and version.cacheable == ("role", "safety")
        gateway = Gateway(AuditRecorder(store), settings)
        for question in QUESTIONS:
            messages = render_messages(template_of(version), {"question": question})
            await gateway.complete(model, messages)
        gateway.recorder.flush()

    bodies = [request.body for request in server.requests_for(name)]
    assert len(bodies) == 2
    for body, question in zip(bodies, QUESTIONS, strict=True):
        assert "cache_control" not in json.dumps(body)
        system, user = body["messages"]
        # One system message as the plain rendering has it, the cached sections leading: the
        # same prefix on every call, whatever the question.
        assert system == {"role": "system", "content": f"{HEAD}\n\n{SECTIONS['format']}"}
        assert user["role"] == "user" and question in user["content"]


def _marked(*system: str) -> list[dict[str, Any]]:
    head = {"role": "system", "content": "static", "cache_control": dict(CACHE_CONTROL)}
    rest = [{"role": "system", "content": text} for text in system]
    return [head, *rest, {"role": "user", "content": "q"}]


@pytest.mark.parametrize(
    ("provider", "model", "kept"),
    [
        ("anthropic", "anthropic/claude-sonnet-4-5", True),
        ("bedrock", "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", True),
        ("bedrock", "bedrock/meta.llama3-70b-instruct-v1:0", False),
        ("vertex_ai", "vertex_ai/claude-3-5-sonnet@20240620", True),
        ("openai", "openai/gpt-4.1", False),
        ("llmbench", "llmbench/echo", False),
        (None, "unknown/model", False),
    ],
)
def test_marks_are_kept_only_where_the_provider_caches_by_them(
    provider: str | None, model: str, kept: bool
) -> None:
    messages = _marked("format")
    sent = provider_messages(provider, model, messages)
    if kept:
        assert sent == messages
    else:
        assert sent == [
            {"role": "system", "content": "static\n\nformat"},
            {"role": "user", "content": "q"},
        ]


@pytest.mark.parametrize("provider", ["gemini", "vertex_ai"])
def test_gemini_caches_only_the_marked_text(provider: str) -> None:
    # litellm puts every system message into Gemini's cached content: the sections not marked
    # go to the user turn instead, so a per-call section never makes a new cached content.
    sent = provider_messages(provider, f"{provider}/gemini-2.5-flash", _marked("format"))
    assert sent == [_marked()[0], {"role": "user", "content": "format\n\nq"}]


def test_messages_without_marks_pass_as_they_are() -> None:
    plain = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    for provider, model in (("openai", "gpt-4.1"), ("gemini", "gemini/gemini-2.5-flash")):
        assert provider_messages(provider, model, plain) == plain
