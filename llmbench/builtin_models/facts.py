"""What the built-in offline models are, for the models view: the facts litellm's table gives
for a hosted model, answered for the simulators themselves."""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.builtin_models.simulator import ECHO_MODEL, MOCK_MODEL


@dataclass(frozen=True)
class BuiltinModelFacts:
    summary: str
    context_window: int | None = None
    """None: no limit. The simulators read a prompt of any length."""
    max_output: int | None = None
    """None: no limit but the request's own max_tokens."""
    tools: bool = False
    """They never answer with a tool call: a request's `tools` are not part of what they do."""
    vision: bool = False
    """Only the text parts of a message are read; images are skipped."""


BUILTIN_MODEL_FACTS: dict[str, BuiltinModelFacts] = {
    ECHO_MODEL: BuiltinModelFacts("offline simulator: answers with the prompt"),
    MOCK_MODEL: BuiltinModelFacts("offline simulator: prose about the prompt, or JSON if asked"),
}
