"""Scenario 10 — prompt names that are paths, and files that are not prompt files.

What it proves: a prompt name is also a file name (`prompts export` writes `<name>.yaml`) and
the name in `name@label`, so one that could leave a folder or be misread (`../../tmp/x`, `a/b`,
`..`, `x@prod`, an invisible character) is refused wherever a prompt is created: by the store
itself, the services and the TUI's new-prompt dialog, in prompt files (`file:line`), in eval
suites, and a promptfoo label is turned into a valid name. Before, a prompt file named
`../../tmp/x` imported, and from then on `prompts export` refused every prompt. And only
prompt files are read as prompts: a link named `x.yaml` to a passwd file, the passwd file given
directly, or its text copied into a .yaml file are refused — before, each imported as a prompt
version.

Runtime: ~3 s.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.file_problems import PromptFileError
from llmbench.importers.promptfoo.config import convert_file
from llmbench.services.prompts.library import PromptsError, create_prompt
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.prompts.names import prompt_name_problem
from llmbench.store.prompts.versions import PromptError
from llmbench.tui.screens.prompts.forms import new_prompt_dialog

REFUSED = ["../../tmp/x", "a/b", "a\\b", "..", ".", "", "x@production",
           "tab\there", "zero\u200bwidth", "é" * 101]  # fmt: skip
ACCEPTED = ["support-reply", "v2 draft: new?", "日本語", ".hidden", "getting-started.prompt-1"]
PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
PROMPT_FILE = """\
name: {name}
versions:
  - version: 1
    message: first
    model: gpt-4o
    sections:
      task: Sort {{{{ ticket }}}}
"""


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def _prompts(db: Path) -> list[str]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM prompts ORDER BY name")]
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "names.db") as opened:
        yield opened


@pytest.mark.parametrize("name", REFUSED, ids=lambda name: repr(name)[:16])
def test_every_door_refuses_a_name_that_is_a_path(store: Store, name: str) -> None:
    assert prompt_name_problem(name)
    with pytest.raises(PromptError):
        store.write(lambda db: prompts_repo.create_prompt(db, name))
    with pytest.raises(PromptsError):
        create_prompt(store, name)
    validate = new_prompt_dialog().validate
    assert validate is not None
    message = validate({"name": name, "description": "", "tags": ""})
    assert message and message.endswith(".")
    assert _prompts(store.path) == []


def test_spaces_around_a_name_are_refused_by_the_store_and_trimmed_by_the_forms(
    store: Store,
) -> None:
    with pytest.raises(PromptError, match="must not start or end with spaces"):
        store.write(lambda db: prompts_repo.create_prompt(db, " padded"))
    create_prompt(store, " padded ")
    assert _prompts(store.path) == ["padded"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_names_that_are_one_file_name_are_kept(store: Store, name: str) -> None:
    assert prompt_name_problem(name) is None
    store.write(lambda db: prompts_repo.create_prompt(db, name))
    assert _prompts(store.path) == [name]


def test_a_prompt_file_naming_a_path_is_refused_and_export_keeps_working(tmp_path: Path) -> None:
    db = tmp_path / "files.db"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.yaml").write_text(PROMPT_FILE.format(name="triage"))
    bad = folder / "bad.yaml"
    bad.write_text(PROMPT_FILE.format(name="../../tmp/x"))
    result = _cli("prompts", "import", str(folder), "--db", str(db))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{bad}:1: prompt name '../../tmp/x' must not contain '/'" in result.output
    assert _prompts(db) == []  # all or nothing: the good file is not written either
    bad.unlink()
    assert _cli("prompts", "import", str(folder), "--db", str(db)).exit_code == 0
    exported = _cli("prompts", "export", str(tmp_path / "out"), "--db", str(db))
    assert exported.exit_code == 0, exported.output
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["triage.yaml"]


def test_an_eval_suite_and_a_promptfoo_label_cannot_name_a_path(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "prompts:\n  - name: ../escape\n    text: Hi {{ who }}\n"
        "models: [llmbench/echo]\ntests: [{vars: {who: you}}]\n"
    )
    with pytest.raises(PromptFileError) as refused:
        load_suite(suite)
    assert [(p.line, p.message) for p in refused.value.problems] == [
        (2, "prompt name '../escape' must not contain '/' or '\\' (it becomes a file name)")
    ]
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "description: demo\nprompts:\n  - {raw: 'Hi {{who}}', label: '../../etc/passwd@v2'}\n"
        "  - {raw: 'Bye {{who}}', label: \"tab\\there\"}\n"
        "providers: [echo]\ntests: [{vars: {who: you}}]\n"
    )
    names = [prompt["name"] for prompt in convert_file(config).suite["prompts"]]
    assert names == ["demo.etc-passwd at v2", "demo.tab-here"]
    assert all(prompt_name_problem(name) is None for name in names)


def test_only_prompt_files_are_read_as_prompts(tmp_path: Path) -> None:
    db = tmp_path / "files.db"
    passwd = tmp_path / "etc" / "passwd"  # a stand-in for /etc/passwd
    passwd.parent.mkdir()
    passwd.write_text(PASSWD)
    folder = tmp_path / "prompts"
    folder.mkdir()
    link = folder / "x.yaml"
    link.symlink_to(passwd)
    copied = tmp_path / "copied.yaml"
    copied.write_text(PASSWD)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would wait forever for a writer
    cases = [
        (folder, f"{link}:1: links to {passwd}, which is not a prompt file"),
        (passwd, f"{passwd}:1: not a prompt file: .yaml or .yml expected"),
        (copied, f"{copied}:1: plain text, not a prompt file"),
        (fifo, f"{fifo}:1: not a regular file"),
    ]
    for source, problem in cases:
        result = _cli("prompts", "import", str(source), "--db", str(db))
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert problem in result.output, result.output
    assert _prompts(db) == []
