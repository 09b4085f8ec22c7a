"""The domain's value objects. Frozen: a saved thing is never edited in place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

CallStatus = Literal["ok", "error", "timeout", "rate_limited", "blocked", "cache_hit"]
NoteKind = Literal["pattern", "lesson", "failed-approach", "model-quirk"]
RunKind = Literal["compare", "eval", "migration"]
RunStatus = Literal["pending", "running", "done", "cancelled", "failed"]

SECTION_NAMES: tuple[str, ...] = ("role", "task", "format", "examples", "safety", "freeform")

# "image": a path or URL sent as an image part of the user message (core/prompts/image_values).
VariableKind = Literal["trusted", "untrusted", "retrieved", "history", "image"]
VARIABLE_KINDS: tuple[VariableKind, ...] = ("trusted", "untrusted", "retrieved", "history", "image")


@dataclass(frozen=True)
class Variable:
    """A value injected into a template. Trusted values (dates, settings) go in as they are;
    the other kinds come from outside the developer's control and are fenced and capped."""

    name: str
    kind: VariableKind = "trusted"
    max_tokens: int | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "kind": self.kind}
        if self.max_tokens is not None:
            data["max_tokens"] = self.max_tokens
        return data

    @classmethod
    def from_json(cls, data: object) -> Variable:
        # Versions saved before variables had kinds stored bare names: treat those as untrusted,
        # the safe reading of a value whose origin nobody recorded.
        if isinstance(data, str):
            return cls(data, "untrusted")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ValueError(f"not a variable: {data!r}")
        kind = data.get("kind", "trusted")
        if kind not in VARIABLE_KINDS:
            raise ValueError(f"variable {data['name']}: unknown kind {kind!r}")
        max_tokens = data.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"variable {data['name']}: max_tokens must be a positive integer")
        return cls(data["name"], kind, max_tokens)


@dataclass(frozen=True)
class Example:
    """One few-shot example of a version's pool: an input and the output wanted for it."""

    input: str
    output: str

    def to_json(self) -> dict[str, str]:
        return {"input": self.input, "output": self.output}

    @classmethod
    def from_json(cls, data: object) -> Example:
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("input"), str)
            or not isinstance(data.get("output"), str)
        ):
            raise ValueError(f"an example needs text 'input' and 'output': {data!r}")
        return cls(data["input"], data["output"])


@dataclass(frozen=True)
class Prompt:
    id: int
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptVersion:
    id: int
    prompt_id: int
    version: int
    sections: dict[str, str]
    variables: tuple[Variable, ...] = ()
    model: str = ""
    params: dict[str, object] = field(default_factory=dict)
    author: str = ""
    message: str = ""
    created_at: str = ""
    parent_id: int | None = None
    examples: tuple[Example, ...] = ()
    few_shot_k: int | None = None
    """With an example pool: how many of its examples, the most similar to the input, to show."""
    cacheable: tuple[str, ...] = ()
    """Sections sent first and marked for the provider's prompt cache (core/prompts/caching)."""


@dataclass(frozen=True)
class Case:
    id: int
    dataset_id: int
    vars: dict[str, str]
    expected: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    source: str = "manual"
    checks: tuple[Mapping[str, Any], ...] = ()  # the case's own, in core.checks' saved form
    params: Mapping[str, Any] = field(default_factory=dict)  # its own request params: tools


@dataclass(frozen=True)
class Run:
    id: int
    kind: RunKind
    name: str
    status: RunStatus
    created_at: str
    finished_at: str | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, read from the provider's cache
    estimated: bool = False
    # None when the provider did not say. Reasoning tokens (o-series, extended thinking, Gemini
    # thinking) are part of completion_tokens, as providers count them; cache-write tokens
    # (Anthropic's cache_creation_input_tokens) part of prompt_tokens.
    reasoning_tokens: int | None = None
    cache_write_tokens: int | None = None
    # Audio tokens (OpenAI's prompt/completion_tokens_details.audio_tokens) are part of the
    # prompt and completion, image tokens part of the prompt; `images`, the request's image
    # parts. Not stored on the row: they price a call whose table has rates for them.
    audio_prompt_tokens: int | None = None
    audio_completion_tokens: int | None = None
    image_prompt_tokens: int | None = None
    images: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ToolCall:
    """A tool the model asked to call: the id the tool's result is sent back under, the tool's
    name, and the arguments as the model wrote them (JSON text that may not parse)."""

    id: str
    name: str
    arguments: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


THREAD_ID_MAX = 200


@dataclass(frozen=True)
class CallThread:
    """Where a call sits: the conversation (a chat, a session) it is a turn of, the trace (one
    run of an application or agent) it is a step of, and the request_id of the step it was made
    under (None at the top of its trace). Each is None when the caller gave none."""

    conversation_id: str | None = None
    trace_id: str | None = None
    parent_request_id: str | None = None

    def __post_init__(self) -> None:
        for name, value in self.columns().items():
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
            if len(value) > THREAD_ID_MAX or not value.isprintable():
                raise ValueError(f"{name} must be printable and at most {THREAD_ID_MAX} characters")

    def columns(self) -> dict[str, str | None]:
        """The audit log's columns (calls.conversation_id, trace_id, parent_request_id)."""
        return {
            "conversation_id": self.conversation_id,
            "trace_id": self.trace_id,
            "parent_request_id": self.parent_request_id,
        }


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached: float = 0.0
    # None where the table has no rate of their own: cache writes are then billed as input,
    # reasoning tokens as output (as providers bill them).
    cache_write: float | None = None
    reasoning: float | None = None
    # litellm's audio token rates (else billed as input and output) and its price per input
    # image, USD per image (else the image's tokens are billed as input).
    audio_input: float | None = None
    audio_output: float | None = None
    per_image: float | None = None


@dataclass(frozen=True)
class Rubric:
    id: int
    name: str
    dimensions: tuple[RubricDimension, ...]
    description: str = ""


@dataclass(frozen=True)
class RubricDimension:
    name: str
    levels: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Grade:
    id: int
    rubric_id: int
    reviewer: str
    scores: dict[str, int]
    verdict: str | None = None
    note: str = ""
    seconds: float = 0.0
    call_id: int | None = None
    result_id: int | None = None
