"""Image, audio and file parts through the gateway to the loopback OpenAI-compatible server:
the provider receives the bytes, the audit row keeps a reference in their place and a part
row per part (kind, media type, size, pixels, SHA-256; bytes only when kept), the chain
verifies over what is stored, and retention purges kept bytes with the call's body."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmbench.config import ModelOptions, RetentionSettings, Settings
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.litellm_setup import litellm_module
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.sdk import Bench
from llmbench.store.audit.log import database_id, plan_purge, purge, verify_chain
from llmbench.store.audit.media_parts import part_bytes, parts_of
from llmbench.store.db import Store, open_db
from tests.support.images import data_url, png
from tests.support.litellm_callbacks import only_these_callbacks
from tests.support.openai_server import OpenAICompatibleServer

IMAGE = png(1024, 768)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
PHOTO_URL = "https://example.com/photos/cat.jpg"


def _messages() -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": data_url("image/png", IMAGE)}},
                {"type": "image_url", "image_url": {"url": PHOTO_URL, "detail": "low"}},
                {"type": "input_audio",
                 "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"}},
            ],
        }
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def loopback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")


def _only_call(store: Store) -> dict[str, Any]:
    cursor = store.read().execute("SELECT * FROM calls ORDER BY id")
    names = [column[0] for column in cursor.description]
    (row,) = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return row


def _check_recorded(store: Store, call: dict[str, Any]) -> None:
    assert len(call["messages"]) < 1000  # a reference, not the image's base64
    assert base64.b64encode(IMAGE).decode()[:200] not in call["messages"]
    stored = json.loads(call["messages"])[0]["content"]
    sha = hashlib.sha256(IMAGE).hexdigest()
    assert stored[1]["image_url"]["url"] == f"llmbench-part:1:sha256:{sha}"
    assert stored[2]["image_url"]["url"] == PHOTO_URL
    image, linked, audio = parts_of(store.read(), call["id"])
    assert (image.part.kind, image.part.media_type, image.part.byte_size) == (
        "image", "image/png", len(IMAGE),
    )  # fmt: skip
    assert (image.part.width, image.part.height, image.part.sha256) == (1024, 768, sha)
    assert image.tokens == 170 * 4 + 85  # 1024×768 is 2×2 tiles once its short side is 768
    assert (linked.part.source, linked.part.detail, linked.tokens) == ("url", "low", 85)
    assert linked.part.sha256 == hashlib.sha256(PHOTO_URL.encode()).hexdigest()
    assert (audio.part.kind, audio.part.media_type, audio.part.byte_size) == (
        "audio", "audio/wav", len(WAV),
    )  # fmt: skip
    assert audio.tokens is None
    key = load_chain_key(database_id(store.read()))
    assert verify_chain(store.read(), key).ok


def test_the_gateway_records_parts_and_stores_the_request_without_the_bytes(
    tmp_path: Path, server: OpenAICompatibleServer
) -> None:
    model = "openai/" + server.scenario("media-sdk", reply="A cat.")
    settings = Settings(model={model: ModelOptions(api_base=server.base_url)})
    with Bench(db=tmp_path / "sdk.db", settings=settings) as bench:
        result = bench.complete(model, _messages())
        assert result.text == "A cat."
        # The provider was sent the bytes themselves.
        (sent,) = server.requests_for(model.removeprefix("openai/"))
        assert sent.body["messages"][0]["content"][1]["image_url"]["url"] == data_url(
            "image/png", IMAGE
        )
        call = _only_call(bench.store)
        _check_recorded(bench.store, call)
        assert not any(stored.kept_bytes for stored in parts_of(bench.store.read(), call["id"]))


def test_kept_bytes_are_purged_with_the_body(
    tmp_path: Path, server: OpenAICompatibleServer
) -> None:
    model = "openai/" + server.scenario("media-kept", reply="A cat.")
    settings = Settings(
        model={model: ModelOptions(api_base=server.base_url)},
        retention=RetentionSettings(keep_media_bytes=True),
    )
    with Bench(db=tmp_path / "kept.db", settings=settings) as bench:
        bench.complete(model, _messages())
        call = _only_call(bench.store)
        assert part_bytes(bench.store.read(), call["id"], 1) == IMAGE
        assert part_bytes(bench.store.read(), call["id"], 2) is None  # only a URL was sent
        key = load_chain_key(database_id(bench.store.read()))

        def purge_all(db: Any) -> None:
            purge(db, key, plan_purge(db, None, "9999-01-01"), "test")

        bench.store.write(purge_all)
        assert part_bytes(bench.store.read(), call["id"], 1) is None
        assert parts_of(bench.store.read(), call["id"])[0].part.width == 1024  # metadata stays
        assert verify_chain(bench.store.read(), key).ok

        def delete_all(db: Any) -> None:
            purge(db, key, plan_purge(db, "9999-01-01", None), "test")

        bench.store.write(delete_all)
        assert parts_of(bench.store.read(), call["id"]) == []


def test_the_litellm_callback_records_parts(tmp_path: Path, server: OpenAICompatibleServer) -> None:
    litellm: ModuleType = litellm_module()
    model = "openai/" + server.scenario("media-callback", reply="A cat.")
    with open_db(tmp_path / "app.db") as store:
        logger = LLMBenchLogger(store=store)
        try:
            with only_these_callbacks(litellm, logger):
                litellm.completion(
                    model=model, api_base=server.base_url, max_retries=0, messages=_messages()
                )
                logger.flush()
                _wait_for_call(store)
                _check_recorded(store, _only_call(store))
        finally:
            logger.close()


def _wait_for_call(store: Store) -> None:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if store.read().execute("SELECT count(*) FROM calls").fetchone()[0]:
            return
        time.sleep(0.02)
    raise AssertionError("the callback recorded no call")


def test_a_key_in_a_parts_file_name_is_masked(tmp_path: Path) -> None:
    key = "sk-test-loopback-0123456789"
    pdf = b"%PDF-1.4\n"
    sent = [{"role": "user", "content": [
        {"type": "file", "file": {"file_data": data_url("application/pdf", pdf),
                                  "filename": f"notes-{key}.pdf"}},
    ]}]  # fmt: skip
    with open_db(tmp_path / "masked.db") as store:
        recorder = AuditRecorder(store)
        row = {
            "ts": "2025-06-01T11:00:00.000Z", "request_id": "req-file", "model_requested": "m",
            "model": "m", "status": "ok", "messages": json.dumps(sent),
        }  # fmt: skip
        (call_id,) = recorder.record(row, recorder.redactor()).result()
        (stored,) = parts_of(store.read(), call_id)
        assert stored.part.name is not None and key not in stored.part.name
        assert stored.part.name.startswith("notes-") and stored.part.byte_size == len(pdf)


def test_an_estimated_prompt_counts_the_image_by_the_tile_rule(tmp_path: Path) -> None:
    """The built-in models count their prompt offline (core.tokens): the image by OpenAI's tile
    rule (a 1024×768 image is 765 tokens), the text by the tokenizer."""
    text_only = [
        {"role": "user", "content": [{"type": "text", "text": "What is in this picture?"}]}
    ]
    with Bench(db=tmp_path / "echo.db") as bench:
        bench.complete("llmbench/echo", text_only)
        bench.complete(
            "llmbench/echo", [{"role": "user", "content": _messages()[0]["content"][:2]}]
        )
        rows = bench.store.read().execute("SELECT prompt_tokens FROM calls ORDER BY id").fetchall()
    (text_tokens,), (with_image,) = rows
    assert with_image - text_tokens == 765
