from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from llmbench import __version__
from llmbench.cli import cli


def _all_command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, the lazily loaded subcommands included (list_commands/get_command,
    as --help finds them)."""
    found = [prefix]
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found.extend(_all_command_paths(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize("path", _all_command_paths(cli), ids=lambda p: " ".join(p) or "llmbench")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: llmbench" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("no-such-command",),
        ("db", "info", "--bogus"),
        ("demo", "--calls", "lots"),
        ("config", "nope"),
    ],
)
def test_unknown_input_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("llmbench: ")


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = run("db", "info", "--db", str(tmp_path / "absent.db"))
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    path.write_text("hello")
    result = run("--db", str(path), "db", "check")
    assert result.exit_code == 1
    assert "not an llmbench database" in result.output


def test_config_commands(isolated_home: Path) -> None:
    assert run("config", "path").output.strip() == str(isolated_home / "config.toml")
    (isolated_home / "config.toml").write_text('[general]\nreviewer = "ada"\n')
    shown = run("config", "show")
    assert shown.exit_code == 0
    assert 'reviewer = "ada"' in shown.output
    (isolated_home / "config.toml").write_text("[general]\nreviewer = 5\n")
    broken = run("config", "show")
    assert broken.exit_code == 1
    assert "[general].reviewer must be a string" in broken.output


def test_db_info_and_check_on_a_new_file(tmp_path: Path) -> None:
    from llmbench.store.db import open_db

    path = tmp_path / "fresh.db"
    open_db(path).close()
    info = run("db", "info", "--db", str(path))
    assert info.exit_code == 0
    assert "m001_initial" in info.output
    assert "journal_mode=wal" in info.output
    check = run("db", "check", "--db", str(path))
    assert (check.exit_code, check.output.strip()) == (0, "ok")


def test_keys_list_shows_sources_but_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends.fail import Keyring as NoBackend

    previous = keyring.get_keyring()
    keyring.set_keyring(NoBackend())
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-1234567890")
        listed = run("keys", "list")
        assert listed.exit_code == 0
        assert "sk-secret-value" not in listed.output
        assert any(line.split()[:2] == ["openai", "env"] for line in listed.output.splitlines())
        refused = CliRunner().invoke(cli, ["keys", "set", "anthropic"], input="sk-ant-x\n")
        assert refused.exit_code == 1
        assert "export ANTHROPIC_API_KEY=" in refused.output
        assert "sk-ant-x" not in refused.output
    finally:
        keyring.set_keyring(previous)


def test_subcommands_load_only_when_run() -> None:
    # Defining every command costs tens of milliseconds the TUI's first frame should not pay.
    import subprocess
    import sys

    # The entry loads only the plain start's module (cli/tui_start.py), and not click either.
    code = (
        "import sys, llmbench.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('llmbench.cli.')), "
        "'click' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "['llmbench.cli.tui_start'] False"
