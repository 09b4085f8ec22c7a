"""Image variables of vision prompts: a path becomes a data: URL of the right media type, a URL
stays, and each becomes an image part of the user message where the template names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmbench.core.media import decode_data_url, strip_parts
from llmbench.core.models import PromptVersion, Variable
from llmbench.core.prompts.templates import Template, TemplateError, render_messages, template_of
from tests.support.images import png

MEDIA = Path(__file__).parent.parent / "data" / "media"


def _template(task: str) -> Template:
    return Template(
        {"role": "You read receipts.", "task": task},
        (Variable("receipt", "image"), Variable("question", "untrusted")),
    )


def test_a_path_becomes_an_image_part_where_the_template_names_it(tmp_path: Path) -> None:
    image = png(640, 480)
    path = tmp_path / "receipt.png"
    path.write_bytes(image)
    messages = render_messages(
        _template("Here is the receipt:\n{{ receipt }}\nAnswer: {{ question }}"),
        {"receipt": str(path), "question": "What was the total?"},
    )
    assert messages[0] == {"role": "system", "content": "You read receipts."}
    before, picture, after = messages[1]["content"]
    assert before == {"type": "text", "text": "Here is the receipt:"}
    assert picture["type"] == "image_url"
    assert decode_data_url(picture["image_url"]["url"]) == ("image/png", image)
    assert after["type"] == "text" and after["text"].startswith("Answer: ")
    assert "What was the total?" in after["text"]
    _stored, (part,) = strip_parts(messages)
    assert (part.kind, part.width, part.height) == ("image", 640, 480)


def test_the_media_type_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"  # a JPEG under a PNG's name
    path.write_bytes((MEDIA / "python.jpg").read_bytes())
    messages = render_messages(_template("{{ question }}"), {"receipt": str(path), "question": "?"})
    # Not named in the text: appended after it.
    text, picture = messages[1]["content"]
    assert text["type"] == "text"
    assert picture["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_a_url_is_sent_as_it_is_and_a_version_keeps_the_kind() -> None:
    version = PromptVersion(
        id=1, prompt_id=1, version=1, sections={"task": "Describe {{ receipt }}"},
        variables=(Variable.from_json({"name": "receipt", "kind": "image"}),),
        created_at="2025-01-01", author="t", message="",
    )  # fmt: skip
    messages = render_messages(template_of(version), {"receipt": "https://example.com/r.jpg"})
    assert messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe"},
                {"type": "image_url", "image_url": {"url": "https://example.com/r.jpg"}},
            ],
        }
    ]


def test_a_value_that_is_no_image_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(TemplateError, match="not a PNG, JPEG, GIF or WebP"):
        render_messages(
            _template("{{ receipt }}"), {"receipt": str(tmp_path / "notes.txt"), "question": ""}
        )
    with pytest.raises(TemplateError, match="cannot read"):
        render_messages(
            _template("{{ receipt }}"), {"receipt": str(tmp_path / "gone.png"), "question": ""}
        )
