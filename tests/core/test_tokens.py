"""Offline token counting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmbench.core.tokens import (
    CL100K_BASE,
    O200K_BASE,
    count_message_tokens,
    count_tokens,
    encoding_for,
    is_exact,
    measure,
    section_tokens,
    truncate_to_tokens,
)

# OpenAI cookbook, "How to count tokens with tiktoken": the API billed 129 prompt tokens for
# these messages on gpt-4-0613 and 124 on gpt-4o.
COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]


@pytest.mark.parametrize(
    ("model", "encoding", "exact"),
    [
        ("gpt-4o", O200K_BASE, True),
        ("gpt-4o-mini-2024-07-18", O200K_BASE, True),
        ("openai/gpt-4.1-nano", O200K_BASE, True),
        ("gpt-5", O200K_BASE, True),
        ("o1-mini", O200K_BASE, True),
        ("o3", O200K_BASE, True),
        ("azure/o4-mini", O200K_BASE, True),
        ("openrouter/openai/chatgpt-4o-latest", O200K_BASE, True),
        ("gpt-4", CL100K_BASE, True),
        ("gpt-4-turbo", CL100K_BASE, True),
        ("gpt-3.5-turbo", CL100K_BASE, True),
        ("azure/gpt-35-turbo", CL100K_BASE, True),
        ("text-embedding-3-small", CL100K_BASE, True),
        ("llmbench/mock", CL100K_BASE, True),
        ("anthropic/claude-sonnet-4-5", CL100K_BASE, False),
        ("gemini/gemini-2.5-flash", CL100K_BASE, False),
        ("ollama/llama3.2", CL100K_BASE, False),
        ("my-finetune", CL100K_BASE, False),
    ],
)
def test_models_map_to_encodings(model: str, encoding: str, exact: bool) -> None:
    assert encoding_for(model) == encoding
    assert is_exact(model) is exact
    counted = measure("Hello there", model)
    assert (counted.encoding, counted.exact) == (encoding, exact)


def test_counts_match_the_cookbook_for_both_encodings() -> None:
    assert count_tokens("tiktoken is great!", "gpt-4") == 6
    assert count_message_tokens(COOKBOOK_MESSAGES, "gpt-4") == 129
    assert count_message_tokens(COOKBOOK_MESSAGES, "gpt-4o") == 124


def test_the_encodings_differ_where_they_should() -> None:
    text = "Die Katze schläft auf dem Sofa, während draußen der Regen fällt. 東京は晴れです。"
    assert count_tokens(text, "gpt-4o") < count_tokens(text, "gpt-4")


def test_special_token_text_is_counted_not_rejected() -> None:
    assert count_tokens("<|endoftext|>", "gpt-4o") > 1


def test_message_overhead_and_multipart_content() -> None:
    text = "Describe this picture."
    as_string = [{"role": "user", "content": text}]
    as_parts = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        }
    ]
    expected = 3 + 3 + count_tokens("user", "gpt-4o") + count_tokens(text, "gpt-4o")
    assert count_message_tokens(as_string, "gpt-4o") == expected
    # The image is counted by OpenAI's tile rule (core.media): a size its bytes do not tell is
    # taken as 1024×1024, 765 tokens.
    assert count_message_tokens(as_parts, "gpt-4o") == expected + 765
    assert count_message_tokens([], "gpt-4o") == 3


def test_section_tokens_keep_order_and_count_each_section() -> None:
    sections = {"role": "You are terse.", "task": "Summarise {{ text }}.", "format": ""}
    counted = section_tokens(sections, "gpt-4o-mini")
    assert list(counted) == ["role", "task", "format"]
    assert counted == {name: count_tokens(text, "gpt-4o-mini") for name, text in sections.items()}
    assert counted["format"] == 0


@given(st.text(max_size=300), st.integers(min_value=0, max_value=40))
def test_truncation_gives_a_prefix_within_the_budget(text: str, budget: int) -> None:
    cut = truncate_to_tokens(text, budget, "gpt-4")
    if count_tokens(text, "gpt-4") <= budget:
        assert cut == text
    else:
        assert text.startswith(cut)
        assert count_tokens(cut, "gpt-4") <= budget


def test_counting_needs_no_network(tmp_path: os.PathLike[str]) -> None:
    """In a fresh process where every socket connection fails, both encodings still load."""
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled by the test")

        socket.socket.connect = refuse
        socket.create_connection = refuse

        from llmbench.core.tokens import count_tokens
        print(count_tokens("hello world", "gpt-4o"), count_tokens("hello world", "gpt-4"))
        """
    )
    # `import llmbench` must find the encodings itself: no inherited cache dir, and an empty
    # temp dir so tiktoken's default cache (under TMPDIR) cannot help either.
    env = {key: value for key, value in os.environ.items() if key != "TIKTOKEN_CACHE_DIR"}
    env["TMPDIR"] = str(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["2", "2"]
