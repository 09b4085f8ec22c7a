"""Datasets of test cases, as the TUI and the CLI use them: list and show, add, edit and delete
cases, import and export CSV or JSONL files (all or nothing), and grow a dataset from results.

Blocking functions: call them from a thread worker (TUI) or the CLI. Every change is one writer
job, so a refused change writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError, check_to_data
from llmbench.core.models import Case
from llmbench.importers.bounds import load_json
from llmbench.importers.dataset_files import (
    DatasetFileError,
    ExportRefused,
    format_of,
    read_dataset_file,
    write_csv,
    write_jsonl,
)
from llmbench.importers.promptfoo.assertion_strings import FormError, check_from_form, form_of
from llmbench.services.audit.browser import PROMOTED, Promoted
from llmbench.services.export_files import open_export
from llmbench.store import datasets as repo
from llmbench.store.datasets import DatasetError, DatasetRow
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import canonical_json

__all__ = [
    "DatasetError",
    "DatasetFileError",
    "DatasetRow",
    "ExportRefused",
    "Promoted",
]

TAG_FIELDS = ("task_type", "difficulty", "failure_mode")
"""The tags the case form asks for; a case may carry any others."""
PROMOTED_DESCRIPTION = "Cases promoted from evaluation results"


# -- reading ---------------------------------------------------------------------------------


def list_datasets(store: Store) -> list[DatasetRow]:
    return repo.list_datasets(store.read())


def find_dataset(store: Store, name: str) -> DatasetRow:
    db = store.read()
    found = repo.dataset_id(db, name)
    row = None if found is None else repo.get_dataset(db, found)
    if row is None:
        known = ", ".join(item.name for item in repo.list_datasets(db)) or "none yet"
        raise DatasetError(f"no dataset named {name!r} (datasets: {known})")
    return row


def dataset_cases(store: Store, dataset_id: int) -> list[Case]:
    return repo.list_cases(store.read(), dataset_id)


def get_case(store: Store, case_id: int) -> Case:
    case = repo.get_case(store.read(), case_id)
    if case is None:
        raise DatasetError(f"no case with id {case_id}")
    return case


# -- datasets --------------------------------------------------------------------------------


def create_dataset(store: Store, name: str, description: str = "") -> int:
    name = name.strip()
    if not name:
        raise DatasetError("a dataset needs a name")
    return store.write(lambda db: repo.create_dataset(db, name, description=description.strip()))


def rename_dataset(store: Store, dataset_id: int, name: str) -> None:
    store.write(lambda db: repo.rename_dataset(db, dataset_id, name))


def describe_dataset(store: Store, dataset_id: int, description: str) -> None:
    store.write(lambda db: repo.describe_dataset(db, dataset_id, description.strip()))


def delete_dataset(store: Store, dataset_id: int) -> None:
    store.write(lambda db: repo.delete_dataset(db, dataset_id))


# -- cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseValues:
    """What a case holds, checked: text tags without empty ones, checks in their saved form,
    and no empty golden answer (an empty one is none)."""

    vars: dict[str, Any]
    expected: str | None
    tags: dict[str, str]
    checks: tuple[dict[str, Any], ...]


def case_values(
    vars: Mapping[str, Any],
    expected: str | None = None,
    tags: Mapping[str, str] | None = None,
    checks: Sequence[Mapping[str, Any]] = (),
) -> CaseValues:
    if not all(isinstance(name, str) and name.strip() for name in vars):
        raise DatasetError("every variable needs a name")
    clean_tags = {}
    for name, value in (tags or {}).items():
        if not isinstance(value, str):
            raise DatasetError(f"tag {name!r} must be text")
        if name.strip() and value.strip():
            clean_tags[name.strip()] = value.strip()
    try:
        clean_checks = tuple(
            check_to_data(parse_check(check, where=f"check {index}"))
            for index, check in enumerate(checks, start=1)
        )
    except CheckError as error:
        raise DatasetError(str(error)) from None
    return CaseValues(dict(vars), expected or None, clean_tags, clean_checks)


def add_case(store: Store, dataset_id: int, values: CaseValues) -> int:
    case = repo.NewCase(values.vars, values.expected, values.tags, checks=values.checks)

    def job(db: Any) -> int:
        if repo.get_dataset(db, dataset_id) is None:
            raise DatasetError(f"no dataset with id {dataset_id}")
        return repo.add_case(db, dataset_id, case)

    return store.write(job)


def edit_case(store: Store, case_id: int, values: CaseValues) -> None:
    store.write(
        lambda db: repo.update_case(
            db,
            case_id,
            vars=values.vars,
            expected=values.expected,
            tags=values.tags,
            checks=values.checks,
        )
    )


def delete_case(store: Store, case_id: int) -> None:
    """Refused (nothing deleted) when a run's results point at the case."""
    store.write(lambda db: repo.delete_case(db, case_id))


# -- files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    dataset: str
    dataset_id: int
    created: bool
    read: int  # cases in the file
    added: int
    skipped: int  # already in the dataset


def import_dataset(store: Store, path: Path, name: str | None = None) -> ImportOutcome:
    """Add a file's cases to the dataset `name` (the file's name by default; created if new).
    All or nothing: a bad row raises DatasetFileError with every problem, and nothing is
    written. Cases the dataset already holds are skipped, so importing twice adds nothing."""
    records = read_dataset_file(path)
    chosen = (name or path.stem).strip()
    if not chosen:
        raise DatasetError("name the dataset to import into")
    cases = [
        repo.NewCase(
            record.vars,
            record.expected,
            record.tags,
            "import",
            checks=record.checks,
            params=record.params,
        )
        for record in records
    ]

    def job(db: Any) -> ImportOutcome:
        dataset_id, created = repo.ensure_dataset(
            db, chosen, description=f"imported from {path.name}"
        )
        known = {_content_key(case) for case in repo.list_cases(db, dataset_id)}
        new = [case for case in cases if _content_key(case) not in known]
        repo.add_cases(db, dataset_id, new)
        return ImportOutcome(
            chosen, dataset_id, created, len(cases), len(new), len(cases) - len(new)
        )

    return store.write(job)


def _content_key(case: Case | repo.NewCase) -> tuple[str, str | None, str, str, str]:
    return (
        canonical_json(dict(case.vars)),
        case.expected,
        canonical_json(dict(case.tags)),
        canonical_json([dict(check) for check in case.checks]),
        canonical_json(dict(case.params)),
    )


def export_dataset(store: Store, name: str, path: Path) -> int:
    """Write the dataset's cases to `path` (.csv or .jsonl, by its name) and return how many.
    Written as services/export_files.py writes any export (0600, beside its target and moved
    into place, a FIFO or a device written through), so a refused or failed export leaves
    nothing half-written. CSV is refused (ExportRefused, saying why) for a dataset it cannot
    hold exactly, such as non-text variables."""
    target = path.expanduser()
    fmt = format_of(target)
    dataset = find_dataset(store, name)
    cases = repo.list_cases(store.read(), dataset.id)
    with open_export(target) as out:
        if fmt == "csv":
            write_csv(cases, out)
        else:
            write_jsonl(cases, out)
    return len(cases)


# -- growing from results --------------------------------------------------------------------


def promote_result(
    store: Store,
    result_id: int,
    dataset_name: str,
    why: str = "",
    *,
    output_as_expected: bool = False,
) -> Promoted:
    """Make an evaluation result's case a case of `dataset_name` (created if new): the same
    variables, tags and checks, plus `failure_mode` (why, when given) and `promoted_from`
    ("run N"); marked promoted-from-call with the result's call. The golden answer stays the
    case's own unless `output_as_expected` keeps the result's output as the new one."""
    name = dataset_name.strip()
    if not name:
        raise DatasetError("name the dataset to add the case to")
    db = store.read()
    source = repo.result_source(db, result_id)
    if source is None:
        raise DatasetError(f"no result with id {result_id}")
    case = repo.get_case(db, source.case_id) if source.case_id is not None else None
    if case is None:
        raise DatasetError(f"result {result_id} was not run on a case: nothing to promote")
    if output_as_expected and not source.output:
        raise DatasetError(f"result {result_id} has no output to keep as the expected answer")
    tags = {**case.tags, "promoted_from": f"run {source.run_id}"}
    if why.strip():
        tags["failure_mode"] = why.strip()
    new = repo.NewCase(
        vars=case.vars,
        expected=source.output if output_as_expected else case.expected,
        tags=tags,
        source=PROMOTED,
        source_call_id=source.call_id,
        checks=case.checks,
        params=case.params,  # the same request: its own tools too
    )
    return add_to_dataset(store, name, new, description=PROMOTED_DESCRIPTION)


def add_to_dataset(store: Store, name: str, case: repo.NewCase, *, description: str) -> Promoted:
    """Add one case to the dataset `name`, creating it (with `description`) when new."""

    def job(db: Any) -> Promoted:
        dataset_id, created = repo.ensure_dataset(db, name, description=description)
        return Promoted(name, dataset_id, repo.add_case(db, dataset_id, case), created)

    return store.write(job)


# -- the case form's text --------------------------------------------------------------------


def _typed_json(text: str, what: str, kind: type, named: str) -> Any:
    try:
        value = load_json(text)
    except ValueError as error:
        raise DatasetError(f"{what}: not JSON ({error})") from None
    if not isinstance(value, kind):
        raise DatasetError(f"{what}: JSON must be {named}")
    return value


def parse_vars_text(text: str) -> dict[str, Any]:
    """Variables typed as a JSON object, or as `name=value` pairs between `;` or newlines."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        return _typed_json(text, "variables", dict, "an object")
    found: dict[str, Any] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        if not equals or not name.strip():
            raise DatasetError(f"variables: {part.strip()!r} is not name=value")
        if name.strip() in found:
            raise DatasetError(f"variables: {name.strip()!r} is given twice")
        found[name.strip()] = value.strip()
    return found


def vars_text(variables: Mapping[str, Any]) -> str:
    """The form's text for `variables`: name=value pairs when they read back the same, else
    JSON."""
    simple = all(
        isinstance(value, str)
        and value == value.strip()
        and ";" not in value
        and "\n" not in value
        and not any(mark in name for mark in "=;\n")
        and name == name.strip()
        for name, value in variables.items()
    )
    if simple and variables:
        return "; ".join(f"{name}={value}" for name, value in variables.items())
    return json.dumps(dict(variables), ensure_ascii=False) if variables else ""


def vars_summary(variables: Mapping[str, Any]) -> str:
    """The variables on one line for a table: name=value pairs, values that are not text as
    JSON (the form's text, `vars_text`, is the exact one)."""
    return "; ".join(
        f"{name}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for name, value in variables.items()
    )


def parse_checks_text(text: str) -> list[dict[str, Any]]:
    """Checks typed as a JSON list, or as one promptfoo assertion (`icontains: refund`)."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return _typed_json(text, "checks", list, "a list")
    try:
        check = check_from_form(text)
    except (FormError, CheckError) as error:
        raise DatasetError(f"checks: {error}") from None
    if check is None:
        raise DatasetError(
            'checks: write a JSON list, or one assertion such as "icontains: refund"'
        )
    return [check]


def checks_text(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return ""
    if len(checks) == 1 and (form := form_of(checks[0])) is not None:
        return form
    return json.dumps([dict(check) for check in checks], ensure_ascii=False)
