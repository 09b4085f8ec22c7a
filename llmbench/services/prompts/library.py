"""The Prompts pane's use cases: the library, a prompt's history, saving a new version,
moving labels (rollback is moving production back) and keeping notes.

Reads take the caller's thread connection; writes go through the store's single writer, so a
label move is visible to every gateway call that resolves the label right after it returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.models import Example, PromptVersion, Variable, VariableKind
from llmbench.core.prompts.caching import cacheable_of
from llmbench.core.prompts.fewshot import Embed
from llmbench.core.prompts.preview import Preview, preview
from llmbench.core.prompts.templates import Template, TemplateError, detect_variables
from llmbench.services.prompts.history import PREFETCHED_VERSIONS as PREFETCHED_VERSIONS
from llmbench.services.prompts.history import PromptHistory as PromptHistory
from llmbench.services.prompts.history import VersionView as VersionView
from llmbench.services.prompts.history import history as history
from llmbench.services.prompts.history import version_view as version_view
from llmbench.store.costs.prices import load_price_table
from llmbench.store.db import Store
from llmbench.store.prompts import library as prompt_library
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.prompts.library import (
    CaseChoice,
    LabelMove,
    LibraryRow,
    search,
)
from llmbench.store.prompts.names import prompt_name_problem
from llmbench.store.schema.vocabulary import NOTE_KINDS

__all__ = [
    "NOTE_KINDS",
    "Draft",
    "LibraryRow",
    "PromptHistory",
    "PromptsError",
    "VersionView",
    "search",
]

PROMPT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
LABEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")


class PromptsError(ValueError):
    """A prompt action the user asked for cannot be done; the message says why."""


@dataclass(frozen=True)
class Draft:
    """What the editor holds before it is saved as a version."""

    sections: Mapping[str, str]
    variables: tuple[Variable, ...] = ()
    model: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    few_shot_k: int | None = None
    cacheable: tuple[str, ...] = ()
    """Sections marked for the provider's prompt cache."""

    @classmethod
    def of(cls, version: PromptVersion) -> Draft:
        return cls(
            sections=dict(version.sections),
            variables=version.variables,
            model=version.model,
            params=dict(version.params),
            examples=version.examples,
            few_shot_k=version.few_shot_k,
            cacheable=version.cacheable,
        )

    def same_content_as(self, version: PromptVersion) -> bool:
        return (
            _non_empty(self.sections) == _non_empty(version.sections)
            and self.variables == version.variables
            and self.model == version.model
            and dict(self.params) == dict(version.params)
            and self.examples == version.examples
            and self.few_shot_k == version.few_shot_k
            and self.marks() == version.cacheable
        )

    def marks(self) -> tuple[str, ...]:
        """The cacheable marks a saved version keeps: those of non-empty sections."""
        return cacheable_of(set(self.cacheable) & set(_non_empty(self.sections)))


def _non_empty(sections: Mapping[str, str]) -> dict[str, str]:
    return {name: text for name, text in sections.items() if text.strip()}


def reconcile_variables(
    sections: Mapping[str, str], declared: Sequence[Variable], default_kind: VariableKind
) -> tuple[Variable, ...]:
    """The variables the sections use, in order: kinds and caps as declared, and a
    `default_kind` for a variable nobody declared yet. Raises TemplateError on bad syntax."""
    by_name = {variable.name: variable for variable in declared}
    return tuple(
        by_name.get(name, Variable(name, default_kind)) for name in detect_variables(sections)
    )


# -- reading ---------------------------------------------------------------------------------


def library(store: Store, query: str = "") -> list[LibraryRow]:
    """The library, filtered by `query` (see `search`)."""
    return search(prompt_library.library(store.read()), query)


def get_version(store: Store, version_id: int) -> PromptVersion | None:
    return prompts_repo.get_version(store.read(), version_id)


def labelled_version(store: Store, prompt_id: int, label: str) -> PromptVersion | None:
    db = store.read()
    version_id = prompts_repo.labels(db, prompt_id).get(label)
    return None if version_id is None else prompts_repo.get_version(db, version_id)


def cases_for(store: Store, variables: Sequence[str]) -> list[CaseChoice]:
    """Test cases that fill every variable the draft uses, to preview it with (none for a
    prompt without variables: any case would do, so none says anything)."""
    if not variables:
        return []
    return prompt_library.cases_with(store.read(), variables)


def preview_draft(
    store: Store,
    draft: Draft,
    values: Mapping[str, object],
    *,
    default_model: str,
    embed: Embed | None = None,
) -> Preview:
    """What the draft would send, token counts and the estimated cost for its model."""
    try:
        variables = reconcile_variables(draft.sections, draft.variables, "untrusted")
    except TemplateError:
        variables = draft.variables  # the preview reports the syntax error itself
    template = Template(
        dict(draft.sections), variables, examples=draft.examples, few_shot_k=draft.few_shot_k,
        cacheable=cacheable_of(draft.cacheable),
    )  # fmt: skip
    max_tokens = draft.params.get("max_tokens")
    expected = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else None
    return preview(
        template,
        values,
        draft.model or default_model,
        price=load_price_table(store.read()),
        completion_tokens=expected,
        embed=embed,
    )


# -- writing ---------------------------------------------------------------------------------


def new_prompt_name_problem(name: str) -> str | None:
    """Why a name typed for a new prompt cannot be used (None: it can): the store's rule for
    every prompt name, then the convention for names typed here (PROMPT_NAME)."""
    name = name.strip()
    if problem := prompt_name_problem(name):
        return problem
    if not PROMPT_NAME.match(name):
        return (
            "a prompt name is 1–80 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit (e.g. support-reply)"
        )
    return None


def create_prompt(
    store: Store, name: str, *, description: str = "", tags: Sequence[str] = ()
) -> int:
    name = name.strip()
    if problem := new_prompt_name_problem(name):
        raise PromptsError(problem)

    def job(db: Any) -> int:
        if prompts_repo.get_prompt(db, name) is not None:
            raise PromptsError(f"a prompt named {name!r} already exists")
        return prompts_repo.create_prompt(
            db, name, description=description.strip(), tags=[t for t in tags if t]
        )

    return store.write(job)


def save_version(
    store: Store,
    prompt_id: int,
    draft: Draft,
    *,
    author: str,
    message: str,
    parent_id: int | None,
) -> PromptVersion:
    """Save the draft as the prompt's next version. Refuses a draft that does not render
    (template syntax) or that changes nothing since its parent."""
    if not message.strip():
        raise PromptsError("say what this version changes (the message is its purpose)")
    if not _non_empty(draft.sections):
        raise PromptsError("every section is empty: write at least the task")
    try:
        variables = reconcile_variables(draft.sections, draft.variables, "untrusted")
    except TemplateError as error:
        raise PromptsError(f"the template does not parse: {error}") from None
    if draft.few_shot_k is not None and draft.few_shot_k < 1:
        raise PromptsError("few-shot k must be at least 1")

    def job(db: Any) -> PromptVersion:
        if parent_id is not None:
            parent = prompts_repo.get_version(db, parent_id)
            if parent is not None and Draft(
                draft.sections,
                variables,
                draft.model,
                draft.params,
                draft.examples,
                draft.few_shot_k,
                draft.cacheable,
            ).same_content_as(parent):
                raise PromptsError(f"nothing changed since v{parent.version}: not saved")
        version_id = prompts_repo.add_version(
            db,
            prompt_id,
            _non_empty(draft.sections),
            variables=variables,
            model=draft.model.strip(),
            params=dict(draft.params),
            author=author,
            message=message.strip(),
            parent_id=parent_id,
            examples=draft.examples,
            few_shot_k=draft.few_shot_k,
            cacheable=draft.marks(),
        )
        saved = prompts_repo.get_version(db, version_id)
        assert saved is not None
        return saved

    return store.write(job)


def move_label(
    store: Store, prompt_id: int, label: str, version_id: int, *, moved_by: str
) -> LabelMove | None:
    """Point `label` at a version (recorded with who and when); None when it already does."""
    label = label.strip()
    if not LABEL_NAME.match(label):
        raise PromptsError(
            "a label is 1–40 lowercase letters, digits, '.', '_' or '-' (e.g. production)"
        )

    def job(db: Any) -> LabelMove | None:
        current = prompts_repo.labels(db, prompt_id).get(label)
        if current == version_id:
            return None
        try:
            prompts_repo.set_label(db, prompt_id, label, version_id, moved_by=moved_by)
        except prompts_repo.PromptError as error:
            raise PromptsError(str(error)) from None
        return prompt_library.label_moves(db, prompt_id, limit=1)[0]

    return store.write(job)


def add_note(
    store: Store,
    prompt_id: int,
    kind: str,
    text: str,
    *,
    version_id: int | None,
    author: str,
) -> int:
    if not text.strip():
        raise PromptsError("a note needs some text")

    def job(db: Any) -> int:
        try:
            return prompts_repo.add_note(
                db, prompt_id, kind, text.strip(), version_id=version_id, author=author
            )
        except prompts_repo.PromptError as error:
            raise PromptsError(str(error)) from None

    return store.write(job)
