"""The litellm callback prices and guards an app's own calls as the gateway does its own: audio
tokens at litellm's audio rates, input images per image where litellm's table prices them so,
and the answer's tool-call arguments through the output guard (flagged only: the call has
happened already).

Each call is the app's own `litellm.acompletion`, its events delivered to LLMBenchLogger by
litellm's real callback mechanism, over real sockets to loopback servers: Gemini's
generateContent (the reference bodies of tests/data/wire/gemini, sources in its README), OpenAI's
chat completions (the wire server with the chat completion object below), and the
OpenAI-compatible scenario server for tool calls. Every row is read back from the file."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmbench.config import GuardSettings
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.litellm_setup import litellm_module
from llmbench.gateway.model_table import bundled_model_table
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store, open_db
from tests.support.gemini_server import GeminiServer, body, running_gemini_server
from tests.support.images import png
from tests.support.litellm_callbacks import callback_lists_restored
from tests.support.openai_server import OpenAICompatibleServer
from tests.support.wire_parts import assert_image_recorded
from tests.support.wire_server import Reply, WireServer

GEMINI_KEY = "AIzaSy-callback-loopback-key-0123456789abc"
OPENAI_KEY = "sk-test-CallbackM3dia0Lq2Wn9Xr4Ty1"
PER_IMAGE_MODEL = "gemini/gemini-3-pro-image-preview"
AUDIO_MODEL = "gpt-4o-audio-preview-2024-12-17"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
# A chat completion object as OpenAI's API reference describes it
# (https://platform.openai.com/docs/api-reference/chat/object, and the audio guide,
# https://platform.openai.com/docs/guides/audio: `message.audio` with id, data, expires_at and
# transcript; `prompt_tokens_details` and `completion_tokens_details` each with `audio_tokens`).
# The counts are this test's: 120 of the 142 prompt tokens and 180 of the 195 completion tokens
# are audio.
AUDIO_ANSWER = {
    "id": "chatcmpl-callback-audio",
    "object": "chat.completion",
    "created": 1733216380,
    "model": AUDIO_MODEL,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "audio": {
                    "id": "audio_callback",
                    "data": base64.b64encode(WAV).decode(),
                    "expires_at": 1733219980,
                    "transcript": "Your parcel left the depot this morning.",
                },
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 142,
        "completion_tokens": 195,
        "total_tokens": 337,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 120},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 180,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "system_fingerprint": "fp_callback",
}
ASK = {"role": "user", "content": "Where is my order 4521?"}
EMAIL_CALL = {
    "id": "call_mail",
    "name": "send_mail",
    "arguments": '{"to": "jane.doe@example.com", "body": "Your order shipped."}',
}
LEAKED_KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUv0123"
KEY_CALL = {"id": "call_key", "name": "configure", "arguments": json.dumps({"key": LEAKED_KEY})}


@pytest.fixture
def litellm() -> Iterator[ModuleType]:
    module = litellm_module()
    with callback_lists_restored(module):
        yield module


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "callback-media.db") as opened:
        yield opened


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    yield from running_gemini_server()


@pytest.fixture
def chat_server() -> Iterator[WireServer]:
    """OpenAI's chat completions route, answering scripted bodies."""
    served = WireServer(
        ["/v1/chat/completions"], lambda event: f"data: {json.dumps(event)}\n\n".encode()
    ).start()
    try:
        yield served
    finally:
        served.stop()


def _logger(litellm: ModuleType, store: Store, **guard: Any) -> LLMBenchLogger:
    logger = LLMBenchLogger(store=store, guard=GuardSettings(**guard))
    litellm.callbacks = [logger]
    return logger


async def _rows(logger: LLMBenchLogger, count: int = 1) -> list[dict[str, Any]]:
    """litellm delivers async events on its logging worker: drain it, then read the file."""
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), 5)
    rows: list[dict[str, Any]] = []
    for _ in range(250):
        logger.flush()
        rows = list(logger.store.read().query("SELECT * FROM calls ORDER BY id"))
        if len(rows) >= count:
            break
        await asyncio.sleep(0.02)
    return rows


# -- images and audio, priced at their own rates ---------------------------------------------------


async def test_an_image_priced_per_image_is_billed_per_image(
    litellm: ModuleType, store: Store, gemini_server: GeminiServer
) -> None:
    logger = _logger(litellm, store)
    image = png(1, 1, (255, 0, 0))
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    gemini_server.answer(body("image.json"))
    try:
        await litellm.acompletion(
            model=PER_IMAGE_MODEL,
            messages=[message],
            api_base=gemini_server.api_base,
            api_key=GEMINI_KEY,
        )
        (row,) = await _rows(logger)
        key = logger.recorder.key
    finally:
        logger.close()
    entry = bundled_model_table()[PER_IMAGE_MODEL]
    assert (row["status"], row["prompt_tokens"], row["completion_tokens"]) == ("ok", 266, 13)
    # promptTokensDetails: TEXT 8, IMAGE 258. The image is billed at the table's price per
    # image instead of its 258 tokens, as the gateway bills the same call.
    assert row["cost"] == pytest.approx(
        8 * entry["input_cost_per_token"]
        + entry["input_cost_per_image"]
        + 13 * entry["output_cost_per_token"]
    )
    assert row["cost"] == pytest.approx(0.001272)
    assert row["cost"] != pytest.approx(
        266 * entry["input_cost_per_token"] + 13 * entry["output_cost_per_token"]
    )
    assert_image_recorded(store, row, image, width=1, height=1)
    assert GEMINI_KEY not in json.dumps(row)
    assert verify_chain(store.read(), key).ok


async def test_audio_tokens_are_billed_at_the_audio_rates(
    litellm: ModuleType, store: Store, chat_server: WireServer
) -> None:
    logger = _logger(litellm, store)
    audio = {"data": base64.b64encode(WAV).decode(), "format": "wav"}
    message = {"role": "user", "content": [{"type": "input_audio", "input_audio": audio}]}
    chat_server.answer(Reply(body=AUDIO_ANSWER))
    try:
        response = await litellm.acompletion(
            model=f"openai/{AUDIO_MODEL}",
            messages=[message],
            api_base=f"{chat_server.origin}/v1",
            api_key=OPENAI_KEY,
            max_retries=0,
        )
        (row,) = await _rows(logger)
    finally:
        logger.close()
    (sent,) = chat_server.requests
    assert sent.body["messages"][0]["content"][0]["input_audio"]["data"] == audio["data"]
    assert response.usage.prompt_tokens == 142
    entry = bundled_model_table()[AUDIO_MODEL]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (142, 195)
    expected = (
        (142 - 120) * entry["input_cost_per_token"]
        + 120 * entry["input_cost_per_audio_token"]
        + (195 - 180) * entry["output_cost_per_token"]
        + 180 * entry["output_cost_per_audio_token"]
    )
    assert row["cost"] == pytest.approx(expected)
    # Audio costs more than text here: billed as text, the call would look cheaper.
    as_text = 142 * entry["input_cost_per_token"] + 195 * entry["output_cost_per_token"]
    assert row["cost"] > as_text
    assert OPENAI_KEY not in json.dumps(row)


# -- tool-call arguments through the output guard ----------------------------------------------


async def _tool_call_row(
    litellm: ModuleType,
    store: Store,
    server: OpenAICompatibleServer,
    name: str,
    call: dict[str, str],
    *,
    streamed: bool = False,
    **guard: Any,
) -> dict[str, Any]:
    logger = _logger(litellm, store, **guard)
    model = "openai/" + server.scenario(name, tool_calls=(call,))
    arguments: dict[str, Any] = {"api_base": server.base_url, "api_key": OPENAI_KEY}
    try:
        if streamed:
            stream = await litellm.acompletion(
                model=model,
                messages=[ASK],
                stream=True,
                stream_options={"include_usage": True},
                max_retries=0,
                **arguments,
            )
            async for _ in stream:
                pass
        else:
            response = await litellm.acompletion(
                model=model, messages=[ASK], max_retries=0, **arguments
            )
            # The app got its call as the model made it: the callback never changes it.
            assert response.choices[0].message.tool_calls[0].function.arguments == call["arguments"]
        (row,) = await _rows(logger)
        assert verify_chain(store.read(), logger.recorder.key).ok
    finally:
        logger.close()
    return row


async def test_personal_data_in_arguments_is_flagged_with_what_the_policy_says(
    litellm: ModuleType, store: Store, server: OpenAICompatibleServer
) -> None:
    row = await _tool_call_row(
        litellm, store, server, "callback-args-pii", EMAIL_CALL, actions={"pii": "redact"}
    )
    assert (row["status"], row["flagged"]) == ("ok", 1)
    (flag,) = json.loads(row["guard_flags"])
    assert (flag["rule"], flag["stage"], flag["where"]) == (
        "pii.email",
        "output",
        "tool_calls[0].arguments",
    )
    # Too late to redact: flagged, naming what the policy says.
    assert flag["action"] == "flag" and "policy says redact" in flag["note"]
    assert EMAIL_CALL["arguments"][flag["start"] : flag["end"]] == "jane.doe@example.com"
    assert "jane.doe" not in flag["excerpt"]
    # What the model asked is recorded as it was.
    assert json.loads(row["tool_calls"]) == [EMAIL_CALL]


async def test_a_policy_that_flags_adds_no_note(
    litellm: ModuleType, store: Store, server: OpenAICompatibleServer
) -> None:
    row = await _tool_call_row(litellm, store, server, "callback-args-flag", EMAIL_CALL)
    (flag,) = json.loads(row["guard_flags"])
    assert (flag["rule"], flag["action"], flag["where"]) == (
        "pii.email",
        "flag",
        "tool_calls[0].arguments",
    )
    assert "note" not in flag


async def test_a_secret_in_streamed_arguments_is_flagged_and_never_stored(
    litellm: ModuleType, store: Store, server: OpenAICompatibleServer
) -> None:
    row = await _tool_call_row(
        litellm, store, server, "callback-args-secret", KEY_CALL, streamed=True
    )
    assert json.loads(row["tool_calls"])[0]["name"] == "configure"
    flags = json.loads(row["guard_flags"])
    assert [(f["kind"], f["where"], f["action"]) for f in flags] == [
        ("secret", "tool_calls[0].arguments", "flag")
    ]
    assert "policy says redact" in flags[0]["note"]  # secrets are redacted by default
    assert LEAKED_KEY not in json.dumps(row) and OPENAI_KEY not in json.dumps(row)


async def test_a_disabled_guard_checks_no_arguments(
    litellm: ModuleType, store: Store, server: OpenAICompatibleServer
) -> None:
    row = await _tool_call_row(
        litellm, store, server, "callback-args-off", EMAIL_CALL, enabled=False
    )
    assert (row["flagged"], json.loads(row["guard_flags"])) == (0, [])
    assert json.loads(row["tool_calls"]) == [EMAIL_CALL]
