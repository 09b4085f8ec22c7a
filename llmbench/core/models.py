"""The domain's value objects. Frozen: a saved thing is never edited in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CallStatus = Literal["ok", "error", "timeout", "rate_limited", "blocked", "cache_hit"]
NoteKind = Literal["pattern", "lesson", "failed-approach", "model-quirk"]
RunKind = Literal["compare", "eval", "migration"]
RunStatus = Literal["pending", "running", "done", "cancelled", "failed"]

SECTION_NAMES: tuple[str, ...] = ("role", "task", "format", "examples", "safety", "freeform")


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
    variables: tuple[str, ...] = ()
    model: str = ""
    params: dict[str, object] = field(default_factory=dict)
    author: str = ""
    message: str = ""
    created_at: str = ""
    parent_id: int | None = None


@dataclass(frozen=True)
class Case:
    id: int
    dataset_id: int
    vars: dict[str, str]
    expected: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    source: str = "manual"


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
    cached_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached: float = 0.0


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
