"""Prompts to and from a folder of YAML files (one per prompt), for review and history in git.

Export writes every prompt with its versions, labels and notes. Import is all-or-nothing across
the whole folder: every file is read and checked first, then one writer job checks the files
against the database and writes them, so one bad file means nothing is written at all.
Saved versions are immutable: an identical version is skipped, a higher one appended, and a
different one under a saved number refused.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmbench.core.models import PromptVersion
from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.prompts.documents import (
    FILE_SUFFIXES,
    LabelDoc,
    NoteDoc,
    PromptDoc,
    VersionDoc,
)
from llmbench.importers.prompts.file_reading import (
    is_prompt_document,
    parse_prompt_document,
    prompt_file_problem,
)
from llmbench.importers.prompts.file_writing import dump_prompt, file_name_for, prompt_json
from llmbench.importers.prompts.llm_templates import parse_llm_template
from llmbench.importers.yaml_nodes import load_document
from llmbench.store.db import Store
from llmbench.store.prompts import library as prompt_library
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.prompts.library import LibraryRow

__all__ = [
    "ExportError",
    "FileOutcome",
    "FileProblem",
    "ImportReport",
    "PromptFileError",
    "export_prompts",
    "import_prompts",
    "list_prompts",
]


class ExportError(ValueError):
    """The prompts cannot be written as files; nothing was written."""


# -- export ----------------------------------------------------------------------------------


def prompt_document(db: Any, prompt_id: int) -> PromptDoc:
    """A saved prompt as its file's document."""
    prompt = prompts_repo.get_prompt_by_id(db, prompt_id)
    if prompt is None:
        raise LookupError(f"no prompt with id {prompt_id}")
    versions = prompts_repo.list_versions(db, prompt_id)
    number_of = {version.id: version.version for version in versions}
    labels = tuple(
        LabelDoc(label, number_of[version_id])
        for label, version_id in prompts_repo.labels(db, prompt_id).items()
    )
    # The library lists notes newest first; files keep them in the order they were written.
    notes = tuple(
        NoteDoc(
            kind=note.kind,
            text=note.text,
            version=note.version,
            author=note.author,
            created_at=note.created_at,
        )
        for note in reversed(prompt_library.notes(db, prompt_id))
    )
    return PromptDoc(
        name=prompt.name,
        description=prompt.description,
        tags=prompt.tags,
        labels=labels,
        notes=notes,
        versions=tuple(_version_doc(version, number_of) for version in versions),
    )


def _version_doc(version: PromptVersion, number_of: dict[int, int]) -> VersionDoc:
    return VersionDoc(
        number=version.version,
        sections=dict(version.sections),
        variables=version.variables,
        model=version.model,
        params=dict(version.params),
        parent=None if version.parent_id is None else number_of.get(version.parent_id),
        examples=version.examples,
        few_shot_k=version.few_shot_k,
        cacheable=version.cacheable,
        author=version.author,
        message=version.message,
        created_at=version.created_at,
    )


def export_prompts(store: Store, folder: Path, names: Sequence[str] = ()) -> list[Path]:
    """Write `<name>.yaml` for every prompt (or those named) into `folder`; the paths written.
    Every file is prepared before the first is written, so a bad name writes nothing."""
    db = store.read()
    rows = sorted(prompt_library.library(db), key=lambda row: row.name)
    if names:
        known = {row.name for row in rows}
        missing = [name for name in names if name not in known]
        if missing:
            raise ExportError(f"no prompt named {', '.join(repr(name) for name in missing)}")
        rows = [row for row in rows if row.name in set(names)]
    planned: dict[str, tuple[str, str]] = {}
    for row in rows:
        try:
            file_name = file_name_for(row.name)
        except ValueError as error:  # saved before names were checked (store.prompts.names)
            raise ExportError(f"{error}; export the other prompts by naming them") from None
        # Case-insensitive file systems (macOS, Windows) would merge these two files.
        clash = planned.get(file_name.casefold())
        if clash is not None:
            raise ExportError(
                f"prompts {clash[0]!r} and {row.name!r} would both be written to {file_name}"
            )
        planned[file_name.casefold()] = (row.name, file_name)
    texts = [
        (file_name, dump_prompt(prompt_document(db, row.id)))
        for row, (_, file_name) in zip(rows, planned.values(), strict=True)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in texts:
        target = folder / file_name
        if target.resolve().parent != folder.resolve():
            raise ExportError(f"{file_name} would be written outside {folder}")
        _write_atomically(target, text)
        written.append(target)
    return written


def _write_atomically(target: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(text.encode("utf-8"))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- import ----------------------------------------------------------------------------------


@dataclass
class FileOutcome:
    """What importing one file did."""

    path: str
    name: str
    created: bool = False
    appended: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    label_moves: list[tuple[str, int | None, int]] = field(default_factory=list)
    notes_added: int = 0
    warnings: list[FileProblem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.appended or self.label_moves or self.notes_added)


@dataclass
class ImportReport:
    files: list[FileOutcome]

    @property
    def warnings(self) -> list[FileProblem]:
        return [warning for outcome in self.files for warning in outcome.warnings]


def prompt_files_in(source: Path) -> list[Path]:
    """The YAML files of a folder (not its subfolders or hidden files), or the one file given;
    PromptFileError if one of them is not a prompt file (prompt_file_problem)."""
    found = _candidate_files(source)
    problems = [problem for path in found if (problem := prompt_file_problem(path, str(path)))]
    if problems:
        raise PromptFileError(problems)
    return found


def _candidate_files(source: Path) -> list[Path]:
    """The YAML files of a folder, or the one file given, before any is checked; a folder
    with none, or a source that is not there, raises PromptFileError."""
    if source.is_dir():
        found = sorted(
            path
            for path in source.iterdir()
            if path.suffix in FILE_SUFFIXES and path.is_file() and not path.name.startswith(".")
        )
        if not found:
            raise PromptFileError(
                [FileProblem(str(source), 1, f"no {' or '.join(FILE_SUFFIXES)} files here")]
            )
    elif source.exists():
        found = [source]
    else:
        raise PromptFileError([FileProblem(str(source), 1, "no such file or folder")])
    return found


def read_prompt_files(source: Path) -> list[PromptDoc]:
    """Every file read and checked on its own; PromptFileError lists all problems in all files."""
    documents, problems = _read_every_file(source)
    if problems:
        raise PromptFileError(problems)
    return documents


def _read_every_file(source: Path) -> tuple[list[PromptDoc], list[FileProblem]]:
    """The documents of every file that reads, and the problems of every file that does not:
    one bad file never hides another's problem."""
    problems: list[FileProblem] = []
    documents: list[PromptDoc] = []
    first_file: dict[str, str] = {}
    for path in _candidate_files(source):
        shown = str(path)
        kind_problem = prompt_file_problem(path, shown)
        if kind_problem is not None:
            problems.append(kind_problem)
            continue
        try:
            node = load_document(path, shown)
            if is_prompt_document(node):
                document = parse_prompt_document(node, shown)
            else:
                document = parse_llm_template(node, shown, path.stem)
        except PromptFileError as error:
            problems += error.problems
            continue
        if document.name in first_file:
            problems.append(
                FileProblem(
                    shown,
                    document.line,
                    f"prompt {document.name!r} is also in {first_file[document.name]}",
                )
            )
            continue
        first_file[document.name] = shown
        documents.append(document)
    return documents, problems


def import_prompts(store: Store, source: Path, *, author: str) -> ImportReport:
    """Import a folder of prompt files (or one file) in one transaction. `author` is recorded
    on label moves, and on versions and notes whose file does not name one.
    Raises PromptFileError, and writes nothing, if any file is invalid or contradicts the
    database. Files that read are checked against the database even when others do not, so
    the refusal lists every problem of every file."""
    documents, unread = _read_every_file(source)

    def job(db: Any) -> ImportReport:
        plans = [_plan(db, document) for document in documents]
        problems = unread + [problem for plan in plans for problem in plan.problems]
        if problems:
            raise PromptFileError(problems)
        return ImportReport([_apply(db, plan, author) for plan in plans])

    return store.write(job)


@dataclass
class _Plan:
    document: PromptDoc
    prompt_id: int | None
    saved: dict[int, PromptVersion]
    new_versions: list[tuple[int, VersionDoc]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)


def _plan(db: Any, document: PromptDoc) -> _Plan:
    """Check a file against the database without writing: which versions are new, which are
    already saved, and whether anything contradicts what is saved."""
    prompt = prompts_repo.get_prompt(db, document.name)
    saved = (
        {version.version: version for version in prompts_repo.list_versions(db, prompt.id)}
        if prompt
        else {}
    )
    plan = _Plan(document, prompt.id if prompt else None, saved, warnings=list(document.warnings))

    def problem(line: int, message: str) -> None:
        plan.problems.append(FileProblem(document.path, line, message))

    if prompt is not None:
        if prompt.description != document.description:
            plan.warnings.append(
                FileProblem(
                    document.path,
                    document.line,
                    f"{document.name}: the description differs from the saved one;"
                    " kept the saved one",
                )
            )
        if prompt.tags != document.tags:
            plan.warnings.append(
                FileProblem(
                    document.path,
                    document.line,
                    f"{document.name}: the tags differ from the saved ones; kept the saved ones",
                )
            )
    number_of_id = {version.id: number for number, version in saved.items()}
    latest = max(saved, default=0)
    known = set(saved)
    for version in document.versions:
        if version.number is None:
            # A file without numbers (an llm template): skip it when it matches the latest
            # saved version, otherwise it becomes the next one.
            if latest and not _differences(version, saved[latest], number_of_id, content=True):
                plan.skipped.append(latest)
                continue
            numbered = replace(version, number=latest + 1, parent=latest or None)
            plan.new_versions.append((latest + 1, numbered))
            latest += 1
            known.add(latest)
            continue
        number = version.number
        if number in saved:
            differing = _differences(version, saved[number], number_of_id, content=False)
            if differing:
                problem(
                    version.line,
                    f"version {number} differs from the saved version {number}"
                    f" ({', '.join(differing)}); versions are immutable — give it a new number",
                )
            else:
                plan.skipped.append(number)
            continue
        if number != latest + 1:
            after = f"after version {latest}" if latest else "as the first version"
            problem(
                version.line,
                f"version {number} cannot be saved {after}: versions are numbered"
                f" without gaps, so this one must be version {latest + 1}",
            )
            latest = max(latest, number)
            known.add(number)
            continue
        if version.parent is not None and version.parent not in known:
            problem(
                version.parent_line,
                f"version {number}: parent {version.parent} is neither in this file nor saved",
            )
        plan.new_versions.append((number, version))
        latest = number
        known.add(number)
    for label in document.labels:
        if label.version not in known:
            problem(
                label.line,
                f"label {label.label!r} points at version {label.version},"
                " which is neither in this file nor saved",
            )
    for note in document.notes:
        if note.version is not None and note.version not in known:
            problem(
                note.line,
                f"a {note.kind} note is about version {note.version},"
                " which is neither in this file nor saved",
            )
    return plan


def _differences(
    version: VersionDoc, saved: PromptVersion, number_of_id: dict[int, int], *, content: bool
) -> list[str]:
    """The fields where the file's version and the saved one differ. With `content`, only
    what the model sees counts (for files that carry no version metadata)."""
    differing = []
    if version.sections != saved.sections:
        differing.append("sections")
    if version.variables != saved.variables:
        differing.append("variables")
    if version.model != saved.model:
        differing.append("model")
    if prompt_json(version.params) != prompt_json(saved.params):
        differing.append("params")
    if version.examples != saved.examples:
        differing.append("examples")
    if version.few_shot_k != saved.few_shot_k:
        differing.append("few_shot_k")
    if version.cacheable != saved.cacheable:
        differing.append("cacheable")
    if content:
        return differing
    saved_parent = None if saved.parent_id is None else number_of_id.get(saved.parent_id)
    if version.parent != saved_parent:
        differing.append("parent")
    if version.message != saved.message:
        differing.append("message")
    if version.author is not None and version.author != saved.author:
        differing.append("author")
    if version.created_at is not None and version.created_at != saved.created_at:
        differing.append("created_at")
    return differing


def _apply(db: Any, plan: _Plan, author: str) -> FileOutcome:
    document = plan.document
    outcome = FileOutcome(
        document.path, document.name, skipped=list(plan.skipped), warnings=plan.warnings
    )
    prompt_id = plan.prompt_id
    if prompt_id is None:
        prompt_id = prompts_repo.create_prompt(
            db, document.name, description=document.description, tags=document.tags
        )
        outcome.created = True
    id_of = {number: version.id for number, version in plan.saved.items()}
    for number, version in plan.new_versions:
        id_of[number] = prompts_repo.add_version(
            db,
            prompt_id,
            version.sections,
            variables=version.variables,
            model=version.model,
            params=version.params,
            author=author if version.author is None else version.author,
            message=version.message,
            parent_id=None if version.parent is None else id_of[version.parent],
            created_at=version.created_at,
            examples=version.examples,
            few_shot_k=version.few_shot_k,
            cacheable=version.cacheable,
        )
        outcome.appended.append(number)
    number_of_id = {version_id: number for number, version_id in id_of.items()}
    current = prompts_repo.labels(db, prompt_id)
    for label in document.labels:
        target = id_of[label.version]
        if current.get(label.label) == target:
            continue
        before = current.get(label.label)
        prompts_repo.set_label(db, prompt_id, label.label, target, moved_by=author)
        outcome.label_moves.append(
            (label.label, None if before is None else number_of_id.get(before), label.version)
        )
    present = Counter(
        (note.kind, note.version, note.text) for note in prompt_library.notes(db, prompt_id)
    )
    for note in document.notes:
        key = (note.kind, note.version, note.text)
        if present[key] > 0:
            present[key] -= 1
            continue
        prompts_repo.add_note(
            db,
            prompt_id,
            note.kind,
            note.text,
            version_id=None if note.version is None else id_of[note.version],
            author=author if note.author is None else note.author,
            created_at=note.created_at,
        )
        outcome.notes_added += 1
    return outcome


def list_prompts(store: Store) -> list[LibraryRow]:
    """Every prompt by name, with its version count and production/staging versions."""
    return sorted(prompt_library.library(store.read()), key=lambda row: row.name)
