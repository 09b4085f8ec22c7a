"""Media parts: image headers read from real files, parts found in each client's shape, the
stored request without its bytes, descriptions and token estimates by the providers' rules."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from llmbench.core.media import (
    anthropic_image_tokens,
    content_media_tokens,
    decode_data_url,
    describe,
    gemini_image_tokens,
    human_size,
    image_tokens,
    openai_image_tokens,
    part_positions,
    referenced_sha256,
    strip_parts,
    strip_stored_text,
)
from llmbench.core.media_headers import ImageSize, image_size, sniff_media_type
from tests.support.images import data_url, gif, png, webp_lossless_header, webp_lossy_header

MEDIA = Path(__file__).parent.parent / "data" / "media"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("python.jpg", ImageSize("jpeg", 16, 16)),
        ("python.webp", ImageSize("webp", 16, 16)),
        ("python.gif", ImageSize("gif", 16, 16)),
    ],
)
def test_real_files_made_by_real_encoders(name: str, expected: ImageSize) -> None:
    data = (MEDIA / name).read_bytes()
    assert image_size(data) == expected
    assert sniff_media_type(data) == f"image/{expected.format}"


def test_generated_images_of_other_sizes() -> None:
    assert image_size(png(1024, 768)) == ImageSize("png", 1024, 768)
    assert image_size(gif(5, 3)) == ImageSize("gif", 5, 3)
    assert image_size(webp_lossy_header(640, 480)) == ImageSize("webp", 640, 480)
    assert image_size(webp_lossless_header(300, 7)) == ImageSize("webp", 300, 7)


def test_a_jpeg_frame_after_other_segments_and_fill_bytes() -> None:
    real = (MEDIA / "python.jpg").read_bytes()
    # An APP1 segment and fill bytes before the rest: the reader skips segments by length.
    app1 = b"\xff\xe1" + (2 + 10).to_bytes(2, "big") + b"Exif\x00\x00abcd"
    assert image_size(real[:2] + app1 + b"\xff" + real[2:]) == ImageSize("jpeg", 16, 16)


def test_what_is_not_an_image_header() -> None:
    assert image_size(b"") is None
    assert image_size(b"%PDF-1.7 ...") is None
    assert image_size(png(4, 4)[:20]) is None  # cut inside IHDR
    assert image_size(b"\xff\xd8\xff\xda\x00\x08") is None  # a scan before any frame
    assert sniff_media_type(b"%PDF-1.4\n") == "application/pdf"
    assert sniff_media_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff_media_type(b"plain text") is None


def test_human_sizes() -> None:
    assert [human_size(n) for n in (999, 182_000, 1_250_000)] == ["999 B", "182 KB", "1.2 MB"]


def test_decode_data_url() -> None:
    assert decode_data_url(data_url("image/png", b"\x89PNG")) == ("image/png", b"\x89PNG")
    assert decode_data_url("data:,hello%20there") == (None, b"hello there")
    assert decode_data_url("https://example.com/a.png") is None


def test_openai_image_url_data_is_replaced_by_its_reference() -> None:
    image = png(1024, 768)
    messages = [
        {"role": "system", "content": "Describe images."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": data_url("image/png", image)}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg",
                                                    "detail": "low"}},
            ],
        },
    ]  # fmt: skip
    stored, parts = strip_parts(messages)
    assert stored[0] is messages[0]  # a message without parts is left as it was
    first, second = parts
    sha = hashlib.sha256(image).hexdigest()
    assert (first.position, first.message_index, first.kind, first.source) == (
        1,
        1,
        "image",
        "data",
    )
    assert (first.media_type, first.byte_size, first.width, first.height) == (
        "image/png", len(image), 1024, 768,
    )  # fmt: skip
    assert first.sha256 == sha and first.data is None
    assert stored[1]["content"][1]["image_url"]["url"] == f"llmbench-part:1:sha256:{sha}"
    url = "https://example.com/cat.jpg"
    assert (second.source, second.sha256, second.detail) == (
        "url", hashlib.sha256(url.encode()).hexdigest(), "low",
    )  # fmt: skip
    assert stored[1]["content"][2]["image_url"]["url"] == url
    assert messages[1]["content"][1]["image_url"]["url"].startswith("data:")  # not mutated
    assert describe(first) == f"[image 1024×768 png {human_size(len(image))}]"
    assert describe(second) == "[image url]"


def test_bytes_are_kept_only_when_asked() -> None:
    image = png(8, 8)
    message = {
        "role": "user",
        "content": [{"type": "image_url", "image_url": data_url("image/png", image)}],
    }
    _stored, (part,) = strip_parts([message], keep_bytes=True)
    assert part.data == image


def test_audio_files_and_anthropic_blocks() -> None:
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
    pdf = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"
    jpeg = (MEDIA / "python.jpg").read_bytes()
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "input_audio",
                 "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}},
                {"type": "file",
                 "file": {"file_data": data_url("application/pdf", pdf), "filename": "r.pdf"}},
                {"type": "file", "file": {"file_id": "file-abc123"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                             "data": base64.b64encode(jpeg).decode()}},
                {"type": "document", "source": {"type": "url",
                                                "url": "https://example.com/a.pdf"}},
            ],
        }
    ]  # fmt: skip
    stored, parts = strip_parts(messages)
    assert [(p.kind, p.source, p.media_type) for p in parts] == [
        ("audio", "data", "audio/wav"),
        ("file", "data", "application/pdf"),
        ("file", "file_id", None),
        ("image", "data", "image/jpeg"),
        ("file", "url", None),
    ]
    assert parts[1].name == "r.pdf" and parts[1].byte_size == len(pdf)
    assert (parts[3].width, parts[3].height) == (16, 16)
    text = json.dumps(stored)
    assert base64.b64encode(jpeg).decode() not in text
    assert sorted(referenced_sha256(text)) == [1, 2, 4]
    assert describe(parts[0]) == f"[audio wav {len(wav)} B]"
    assert describe(parts[1]) == f"[file r.pdf pdf {len(pdf)} B]"
    assert describe(parts[2]) == "[file file id]"


def test_stored_text_round_trip_and_positions() -> None:
    image = png(640, 480)
    text = json.dumps(
        [{"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": data_url("image/png", image)}},
        ]}]
    )  # fmt: skip
    stored_text, parts = strip_stored_text(text)
    assert len(stored_text) < 300 and len(parts) == 1
    # Stripping what is stored again changes nothing and finds the same part by its reference.
    again, parts_again = strip_stored_text(stored_text)
    assert again == stored_text
    assert [p.sha256 for p in parts_again] == [parts[0].sha256]
    positions = part_positions(json.loads(stored_text))
    assert list(positions) == [(0, 1)]
    assert positions[0, 1].position == 1
    assert strip_stored_text('[{"role": "user", "content": "plain"}]') == (
        '[{"role": "user", "content": "plain"}]', (),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("width", "height", "detail", "tokens"),
    [
        # OpenAI's worked examples (images-vision guide, "Calculating costs").
        (1024, 1024, "high", 765),
        (2048, 4096, "high", 1105),
        (4096, 8192, "low", 85),
        (512, 512, None, 255),
    ],
)
def test_openai_tile_rule(width: int, height: int, detail: str | None, tokens: int) -> None:
    assert openai_image_tokens(width, height, detail) == tokens


def test_anthropic_and_gemini_rules() -> None:
    # Anthropic's table: 1092×1092 is about 1590 tokens, 200×200 about 54.
    assert anthropic_image_tokens(1092, 1092) == 1590
    assert anthropic_image_tokens(200, 200) == 54
    assert anthropic_image_tokens(3136, 3136) == anthropic_image_tokens(1568, 1568)
    assert gemini_image_tokens(384, 384) == 258
    assert gemini_image_tokens(1024, 768) == 258 * 2
    assert image_tokens("anthropic/claude-3-5-sonnet", 200, 200, None) == 54
    assert image_tokens("gpt-4o", None, None, None) == 765  # size unknown: 1024×1024


def test_content_media_tokens_counts_images_only() -> None:
    content = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": data_url("image/png", png(1024, 1024))}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    ]
    assert content_media_tokens(content, "gpt-4o") == 765
    assert content_media_tokens(content, "claude-3-haiku") == 1399
