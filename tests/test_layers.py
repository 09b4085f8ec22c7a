"""The dependency rule of DESIGN.md, checked by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure()
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_logo=True, cache_dir=None)
    assert kept, capsys.readouterr().out


def test_starting_the_cli_does_not_import_litellm() -> None:
    code = "import sys, llmbench.cli; print('litellm' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_tui_names_store_modules_only_for_annotations() -> None:
    """The import-linter contract lets the TUI name store modules for row types: each such
    import must sit under `if TYPE_CHECKING:`, so no store code runs on the UI's side."""
    runtime_imports = []
    for path in (ROOT / "llmbench" / "tui").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = {
            id(node)
            for branch in ast.walk(tree)
            if isinstance(branch, ast.If) and ast.unparse(branch.test).endswith("TYPE_CHECKING")
            for node in ast.walk(branch)
        }
        for node in ast.walk(tree):
            module = ""
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
            elif isinstance(node, ast.Import):
                module = " ".join(alias.name for alias in node.names)
            if "llmbench.store" in module and id(node) not in type_only:
                runtime_imports.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not runtime_imports, runtime_imports
