"""The licence table: open-weight families by their published licence, API-only models as
proprietary, and "unknown" for anything it cannot name, whatever route the name takes."""

from __future__ import annotations

import pytest

from llmbench.core.licences import licence_of, own_name


@pytest.mark.parametrize(
    ("model", "licence", "open_weight"),
    [
        ("ollama/llama3.1:8b", "Llama 3.1 Community License", True),
        (
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "Llama 3.3 Community License",
            True,
        ),
        ("groq/llama3-70b-8192", "Meta Llama 3 Community License", True),
        ("bedrock/us-east-1/meta.llama3-8b-instruct-v1:0", "Meta Llama 3 Community License", True),
        ("anyscale/meta-llama/Llama-2-7b-chat-hf", "Llama 2 Community License", True),
        ("ollama/codellama", "Llama 2 Community License", True),
        ("ollama/mistral", "Apache-2.0", True),
        ("mistral/open-mixtral-8x7b", "Apache-2.0", True),
        ("ollama/qwen2.5:7b", "Apache-2.0", True),
        ("ollama/qwen2.5:72b", "Qwen License", True),
        ("ollama/qwen2.5:3b", "Qwen Research License", True),
        ("ollama/qwen3:8b", "Apache-2.0", True),
        ("deepseek/deepseek-chat", "MIT", True),
        ("ollama/deepseek-r1:14b", "MIT", True),
        ("ollama/phi4", "MIT", True),
        ("ollama/gemma2:9b", "Gemma Terms of Use", True),
        ("openrouter/openai/gpt-oss-120b", "Apache-2.0", True),
        ("gpt-4o", "proprietary", False),
        ("o3-mini", "proprietary", False),
        ("claude-3-5-sonnet-20241022", "proprietary", False),
        ("bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0", "proprietary", False),
        ("gemini/gemini-1.5-flash", "proprietary", False),
        ("dashscope/qwen-plus", "proprietary", False),
        # Names the table cannot settle are unknown, never guessed from a look-alike.
        ("my-finetune", "unknown", None),
        ("mistral/mistral-large-latest", "unknown", None),
        ("ollama/deepseek-v3", "unknown", None),
        ("ollama/llama-guard3", "unknown", None),
    ],
)
def test_licence_of(model: str, licence: str, open_weight: bool | None) -> None:
    found = licence_of(model)
    assert (found.name, found.open_weight) == (licence, open_weight)
    assert bool(found.source) == (licence != "unknown")


def test_own_name_drops_routes_and_vendor_prefixes() -> None:
    assert own_name("bedrock/eu.anthropic.claude-3-5-sonnet-20240620-v1:0") == (
        "claude-3-5-sonnet-20240620-v1:0"
    )
    assert own_name("together_ai/meta-llama/Llama-3.3-70B") == "llama-3.3-70b"
