"""F2's reading of a prompt's history: its versions, labels, notes and label moves, and its newest
versions in full with their figures. Kept apart from the editor's services (templates, previews,
token counts: jinja2 and tiktoken, ~90 ms to import), which F2's first history read, made at
start-up and beside the next pane's opening, has no use for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.models import Prompt, PromptVersion
from llmbench.store.db import Store
from llmbench.store.prompts import library as prompt_library
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.prompts.library import LabelMove, NoteRow, VersionMetrics, VersionRow


@dataclass(frozen=True)
class VersionView:
    version: PromptVersion
    prompt_name: str
    labels: tuple[str, ...]
    parent: int | None
    metrics: VersionMetrics


@dataclass(frozen=True)
class PromptHistory:
    prompt: Prompt
    versions: list[VersionRow]
    notes: list[NoteRow]
    moves: list[LabelMove]
    views: dict[int, VersionView] = field(default_factory=dict)
    """The newest versions in full (id → view), read with the history so that moving through
    them needs no further read."""


PREFETCHED_VERSIONS = 30


def history(store: Store, prompt_id: int) -> PromptHistory | None:
    db = store.connection()  # plain sqlite3: these reads need nothing of sqlite_utils
    prompt = prompts_repo.get_prompt_by_id(db, prompt_id)
    if prompt is None:
        return None
    versions = prompt_library.version_rows(db, prompt_id)
    labels = prompts_repo.labels(db, prompt_id)
    numbers = {row.id: row.version for row in versions}
    views = {}
    for version in prompts_repo.list_versions(db, prompt_id)[-PREFETCHED_VERSIONS:]:
        views[version.id] = _view(db, prompt, version, labels, numbers)
    return PromptHistory(
        prompt=prompt,
        versions=versions,
        notes=prompt_library.notes(db, prompt_id),
        moves=prompt_library.label_moves(db, prompt_id),
        views=views,
    )


def _view(
    db: Any,
    prompt: Prompt,
    version: PromptVersion,
    labels: Mapping[str, int],
    numbers: Mapping[int, int],
) -> VersionView:
    return VersionView(
        version=version,
        prompt_name=prompt.name,
        labels=tuple(name for name, target in labels.items() if target == version.id),
        parent=numbers.get(version.parent_id) if version.parent_id is not None else None,
        metrics=prompt_library.version_metrics(db, version.id),
    )


def version_view(store: Store, version_id: int) -> VersionView | None:
    db = store.connection()
    version = prompts_repo.get_version(db, version_id)
    if version is None:
        return None
    prompt = prompts_repo.get_prompt_by_id(db, version.prompt_id)
    assert prompt is not None  # a version's prompt is a foreign key
    numbers = {row.id: row.version for row in prompt_library.version_rows(db, prompt.id)}
    return _view(db, prompt, version, prompts_repo.labels(db, prompt.id), numbers)
