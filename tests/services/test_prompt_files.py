"""Prompts to files and back on real SQLite files: byte-identical round trips, all-or-nothing
imports, immutable versions, audited label moves, llm templates, and the CLI."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.core.models import Example, Variable
from llmbench.services.prompts.files import (
    ExportError,
    PromptFileError,
    export_prompts,
    import_prompts,
)
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import library as prompt_library
from llmbench.store.prompts import versions as repo

TRICKY_TASK = (
    "Classify: {{ ticket }}\n"
    "yes\nnull\n1.0\n# not a comment\n: colon\n- dash\n"
    "trailing space \n\n"
    "unicode é ü 日本語 🙂\n"
)


def _seed(store: Store) -> None:
    def job(db: object) -> None:
        triage = repo.create_prompt(
            db, "triage", description="yes", tags=["null", "1.0"], created_at="2026-01-01T00:00Z"
        )
        v1 = repo.add_version(
            db,
            triage,
            {"task": TRICKY_TASK, "role": "", "format": "#json\n"},
            variables=[Variable("ticket", "untrusted", 800), Variable("today")],
            model="gpt-4o-mini",
            params={"temperature": 0.0, "stop": ["\n\n", "- "], "seed": 1, "flag": True},
            author="ana",
            message=": first",
            created_at="2026-01-02T10:00:00.000Z",
        )
        v2 = repo.add_version(
            db,
            triage,
            {"task": "Sort {{ ticket }}", "examples": "{% for e in pool %}{{ e }}{% endfor %}"},
            variables=[Variable("ticket", "untrusted")],
            author="sam",
            message="- shorter",
            parent_id=v1,
            created_at="2026-01-03T10:00:00.000Z",
            examples=[Example("refund please", "refund"), Example("", "empty: ok")],
            few_shot_k=1,
        )
        repo.set_label(db, triage, "production", v1, moved_by="ana")
        repo.set_label(db, triage, "staging", v2, moved_by="ana")
        repo.add_note(db, triage, "lesson", "null", created_at="2026-01-04T00:00:00.000Z")
        repo.add_note(
            db, triage, "failed-approach", "v2 lost\nrefunds ", version_id=v2, author="sam",
            created_at="2026-01-05T00:00:00.000Z",
        )  # fmt: skip
        greet = repo.create_prompt(db, "greet")
        repo.add_version(db, greet, {"task": "Hi"}, created_at="2026-01-06T00:00:00.000Z")
        repo.create_prompt(db, "unsaved", description="created, no version saved yet")

    store.write(job)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "source.db") as opened:
        _seed(opened)
        yield opened


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def _read_all(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_export_import_export_is_byte_identical(store: Store, tmp_path: Path) -> None:
    first = tmp_path / "first"
    written = export_prompts(store, first)
    assert [path.name for path in written] == ["greet.yaml", "triage.yaml", "unsaved.yaml"]
    with open_db(tmp_path / "fresh.db") as fresh:
        report = import_prompts(fresh, first, author="importer")
        assert [(f.name, f.created, f.appended) for f in report.files] == [
            ("greet", True, [1]),
            ("triage", True, [1, 2]),
            ("unsaved", True, []),
        ]
        export_prompts(fresh, tmp_path / "second")
        triage = repo.get_prompt(fresh.read(), "triage")
        assert triage is not None and triage.tags == ("null", "1.0")
        v1, v2 = repo.list_versions(fresh.read(), triage.id)
        assert v1.sections["task"] == TRICKY_TASK and v2.parent_id == v1.id
    assert _read_all(first) == _read_all(tmp_path / "second")
    text = (first / "triage.yaml").read_text()
    assert "  production: 1\n  staging: 2\n" in text
    assert "      task: |-\n        Sort {{ ticket }}\n" not in text  # single line stays plain
    assert "      task: Sort {{ ticket }}\n" in text


def test_export_of_named_prompts_and_refused_names(store: Store, tmp_path: Path) -> None:
    assert [p.name for p in export_prompts(store, tmp_path / "one", ["greet"])] == ["greet.yaml"]
    with pytest.raises(ExportError, match="no prompt named 'nope'"):
        export_prompts(store, tmp_path / "two", ["nope"])
    # A name saved before names were checked (the store refuses it now).
    store.write(
        lambda db: db.execute(
            "INSERT INTO prompts (name, description, tags, created_at)"
            " VALUES ('../escape', '', '[]', '2025-01-01T00:00:00.000Z')"
        )
    )
    with pytest.raises(ExportError, match="path separator"):
        export_prompts(store, tmp_path / "three")
    assert not (tmp_path / "three").exists()
    assert not (tmp_path / "escape.yaml").exists()


def test_reimport_is_idempotent(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    export_prompts(store, folder)
    before = _dump(store.path)
    report = import_prompts(store, folder, author="someone")
    assert not any(outcome.changed for outcome in report.files)
    assert [outcome.skipped for outcome in report.files] == [[1], [1, 2], []]
    assert report.warnings == []
    assert _dump(store.path) == before


def _add_version_3(folder: Path) -> None:
    path = folder / "triage.yaml"
    path.write_text(
        path.read_text().replace("  production: 1\n", "  production: 3\n")
        + "  - version: 3\n    parent: 2\n    message: third\n    sections:\n      task: New\n",
        encoding="utf-8",
    )


def test_new_versions_are_appended_and_labels_moved_with_an_audit(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    export_prompts(store, folder)
    _add_version_3(folder)
    notes_path = folder / "greet.yaml"
    notes_path.write_text(
        notes_path.read_text().replace(
            "notes: []\n", "notes:\n  - kind: pattern\n    text: Be brief\n"
        )
    )
    report = import_prompts(store, folder, author="reviewer-ada")
    greet, triage, _ = report.files
    assert (triage.appended, triage.skipped, triage.label_moves) == (
        [3],
        [1, 2],
        [("production", 1, 3)],
    )
    assert greet.notes_added == 1 and not greet.appended
    db = store.read()
    prompt = repo.get_prompt(db, "triage")
    assert prompt is not None
    third = repo.resolve_version(db, "triage", "production")
    assert (third.version, third.author, third.message) == (3, "reviewer-ada", "third")
    move = prompt_library.label_moves(db, prompt.id, limit=1)[0]
    assert (move.label, move.from_version, move.to_version, move.moved_by) == (
        "production",
        1,
        3,
        "reviewer-ada",
    )
    # Importing the same files again changes nothing.
    before = _dump(store.path)
    assert not any(f.changed for f in import_prompts(store, folder, author="x").files)
    assert _dump(store.path) == before


def test_a_file_may_carry_only_the_new_versions(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "triage.yaml").write_text(
        "name: triage\ndescription: changed\nlabels:\n  staging: 3\n"
        "notes:\n  - kind: lesson\n    version: 1\n    text: about an old version\n"
        "versions:\n  - version: 3\n    parent: 1\n    sections: {task: Third}\n"
    )
    report = import_prompts(store, folder, author="ada")
    (outcome,) = report.files
    assert (outcome.appended, outcome.label_moves, outcome.notes_added) == (
        [3],
        [("staging", 2, 3)],
        1,
    )
    assert [f"{w.line}: {w.message}" for w in report.warnings] == [
        "1: triage: the description differs from the saved one; kept the saved one",
        "1: triage: the tags differ from the saved ones; kept the saved ones",
    ]
    third = repo.resolve_version(store.read(), "triage", "staging")
    first = repo.resolve_version(store.read(), "triage", 1)
    assert (third.version, third.parent_id) == (3, first.id)


BROKEN_FILES = {
    "bad-yaml": (
        'name: x\nversions:\n  - version: 1\n    sections:\n      task: "unclosed\n',
        6,
        "invalid YAML: while scanning a quoted scalar (line 5): found unexpected end of stream",
    ),
    "wrong-type": (
        "name: x\nversions:\n  - version: 1\n    model: [a]\n    sections:\n      task: t\n",
        4,
        "version 1: model must be text, not a list",
    ),
    "unknown-kind": (
        "name: x\nversions:\n  - version: 1\n    variables:\n      - name: v\n        kind: odd\n"
        "    sections:\n      task: t\n",
        6,
        "unknown kind 'odd'",
    ),
    "duplicate-version": (
        "name: x\nversions:\n  - version: 1\n    sections: {task: a}\n"
        "  - version: 1\n    sections: {task: b}\n",
        5,
        "duplicate version 1 (first at line 3)",
    ),
    "dangling-label": (
        "name: x\nlabels:\n  production: 4\nversions:\n  - version: 1\n    sections: {task: a}\n",
        3,
        "label 'production' points at version 4, which is neither in this file nor saved",
    ),
    "gap": (
        "name: x\nversions:\n  - version: 2\n    sections: {task: a}\n",
        3,
        "version 2 cannot be saved as the first version",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_one_broken_file_means_nothing_is_written(store: Store, tmp_path: Path, case: str) -> None:
    folder = tmp_path / "files"
    export_prompts(store, folder)
    _add_version_3(folder)  # a valid change that must not land either
    (folder / "new.yaml").write_text(
        "name: brand-new\nversions:\n  - version: 1\n    sections: {task: fine}\n"
    )
    text, line, message = BROKEN_FILES[case]
    broken = folder / "zz-broken.yaml"
    broken.write_text(text)
    before = _dump(store.path)
    with pytest.raises(PromptFileError) as caught:
        import_prompts(store, folder, author="ada")
    problems = [str(problem) for problem in caught.value.problems]
    assert any(p.startswith(f"{broken}:{line}: ") and message in p for p in problems), problems
    assert _dump(store.path) == before


def test_a_changed_saved_version_is_refused(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    export_prompts(store, folder)
    path = folder / "triage.yaml"
    text = path.read_text()
    path.write_text(text.replace("message: '- shorter'", "message: edited"))
    line = text[: text.index("  - version: 2")].count("\n") + 1
    before = _dump(store.path)
    with pytest.raises(PromptFileError) as caught:
        import_prompts(store, folder, author="ada")
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:{line}: version 2 differs from the saved version 2 (message);"
        " versions are immutable — give it a new number"
    ]
    assert _dump(store.path) == before


def test_the_same_prompt_in_two_files_is_refused(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    export_prompts(store, folder, ["greet"])
    shutil.copy(folder / "greet.yaml", folder / "greet-copy.yaml")
    with pytest.raises(
        PromptFileError, match=r"/greet.yaml:2: prompt 'greet' is also in .*greet-copy.yaml$"
    ):
        import_prompts(store, folder, author="ada")


def test_llm_templates_import_and_reimport(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "summarize.yaml").write_text(
        "system: Summarize in the voice of $voice\nprompt: 'Text: $input'\n"
        "defaults:\n  voice: GlaDOS\noptions:\n  temperature: 0.2\nschema_object: {}\n"
    )
    with open_db(tmp_path / "llm.db") as store:
        report = import_prompts(store, folder, author="ada")
        (outcome,) = report.files
        assert (outcome.name, outcome.created, outcome.appended) == ("summarize", True, [1])
        assert [w.message.split(":")[0] for w in report.warnings] == ["schema_object"]
        version = repo.resolve_version(store.read(), "summarize", 1)
        assert version.sections == {
            "role": "Summarize in the voice of {{ voice }}",
            "task": "Text: {{ input }}",
        }
        assert version.params == {"temperature": 0.2} and version.author == "ada"
        # The same template again is the same version; an edited one becomes version 2.
        assert import_prompts(store, folder, author="ada").files[0].skipped == [1]
        (folder / "summarize.yaml").write_text("system: Summarize as $voice\n")
        again = import_prompts(store, folder, author="ada").files[0]
        assert again.appended == [2]
        second = repo.resolve_version(store.read(), "summarize", 2)
        assert second.parent_id == version.id
        assert second.sections == {"role": "Summarize as {{ voice }}", "task": "{{ input }}"}


def _run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def test_cli_export_import_and_list(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "cli"
    result = _run("prompts", "export", str(folder), "--db", str(store.path))
    assert result.exit_code == 0, result.output
    assert result.output == f"exported 3 prompts to {folder}\n"
    fresh = tmp_path / "cli.db"
    result = _run("prompts", "import", str(folder), "--db", str(fresh), "--author", "ada")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "created greet: added v1",
        "created triage: added v1–v2, production new → v1, staging new → v2, 2 notes added",
        "created unsaved: no versions",
        "3 files read, 3 changed the database",
    ]
    result = _run("prompts", "list", "--db", str(fresh))
    assert result.output.splitlines()[1].split()[:6] == [
        "triage", "2", "versions", "production", "v1", "staging",
    ]  # fmt: skip


def test_cli_refuses_a_broken_folder_with_file_and_line(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / "bad.yaml").write_text("name: x\nversions:\n  - version: zero\n    sections: {}\n")
    result = _run("prompts", "import", str(folder), "--db", str(store.path))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{folder / 'bad.yaml'}:3: version must be a whole number, not text",
        "llmbench: import refused (1 problem); nothing was written",
    ]
