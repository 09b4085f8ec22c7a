"""A prompt as its YAML file holds it (`PromptDoc`: description, tags, labels, notes and every
version with its metadata), between reading a file and saving it to the library, or back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmbench.core.models import Example, Variable
from llmbench.importers.file_problems import FileProblem

FILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class VersionDoc:
    """One version as a file holds it. `number` None means "the next version, unless it is
    the same as the latest" (files without numbers, such as llm templates). `author` and
    `created_at` None mean the importer chooses (its user, now) and they are not compared."""

    number: int | None
    sections: dict[str, str]
    variables: tuple[Variable, ...] = ()
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None
    examples: tuple[Example, ...] = ()
    few_shot_k: int | None = None
    cacheable: tuple[str, ...] = ()
    """Sections marked for the provider's prompt cache, in section order."""
    author: str | None = None
    message: str = ""
    created_at: str | None = None
    line: int = 0
    parent_line: int = 0


@dataclass(frozen=True)
class LabelDoc:
    label: str
    version: int
    line: int = 0


@dataclass(frozen=True)
class NoteDoc:
    kind: str
    text: str
    version: int | None = None
    author: str | None = None
    created_at: str | None = None
    line: int = 0


@dataclass(frozen=True)
class PromptDoc:
    name: str
    versions: tuple[VersionDoc, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    labels: tuple[LabelDoc, ...] = ()
    notes: tuple[NoteDoc, ...] = ()
    path: str = ""
    line: int = 1
    warnings: tuple[FileProblem, ...] = ()
