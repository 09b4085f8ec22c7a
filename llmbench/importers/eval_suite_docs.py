"""What an eval suite file holds once read (`SuiteDoc`): its prompts (saved ones by ref, or
inline), its cases (`TestDoc`) and settings; `SuiteError` when it cannot be run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmbench.importers.file_problems import PromptFileError


class SuiteError(PromptFileError):
    """The suite cannot be run; each problem names its file and line."""


@dataclass(frozen=True)
class PromptRef:
    name: str
    ref: str  # a label or a version number
    line: int

    def __str__(self) -> str:
        return f"{self.name}@{self.ref}"


@dataclass(frozen=True)
class InlinePrompt:
    name: str
    sections: dict[str, str]
    variables: tuple[Any, ...] = ()  # core.models.Variable
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class TestDoc:
    vars: dict[str, Any]
    expected: str | None = None
    checks: tuple[dict[str, Any], ...] = ()  # validated, in check_to_data's form
    tags: dict[str, str] = field(default_factory=dict)
    where: str = ""  # file:line, for messages
    grading: dict[str, Any] = field(default_factory=dict)  # its own {transform, threshold}
    params: dict[str, Any] = field(default_factory=dict)  # its own request params: tools


@dataclass(frozen=True)
class SuiteDoc:
    path: str
    name: str
    prompts: tuple[PromptRef | InlinePrompt, ...]
    models: tuple[str, ...] = ()
    dataset: str | None = None  # a dataset's name in the database
    dataset_line: int = 0
    dataset_file: str | None = None  # the file the tests below came from, if any
    tests: tuple[TestDoc, ...] = ()  # from the dataset file, then the inline tests
    checks: tuple[dict[str, Any], ...] = ()
    judge_model: str = ""
    judge_dimensions: tuple[dict[str, Any], ...] = ()
    judge_params: dict[str, Any] = field(default_factory=dict)
    # {"baseline": "<model or prompt>" or {"prompt": ..., "model": ...}, "criteria": "..."}
    pairwise: dict[str, Any] = field(default_factory=dict)
    pairwise_line: int = 0
    repeat: int = 1
    concurrency: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    grading: dict[str, Any] = field(default_factory=dict)  # every case's {transform, threshold}
