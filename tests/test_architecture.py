"""docs/ARCHITECTURE.md and the README's code layout stay true to the tree, and no module grows
past one job's size."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_ROOT = ROOT / "llmbench"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
README = ROOT / "README.md"

MAX_MODULE_LINES = 500
# Modules allowed past the limit because they are data, not logic: each with why.
DATA_MODULES: dict[str, str] = {}

PACKAGE_NAME = re.compile(r"`(llmbench/(?:[a-z_]+/)*)`")
MODULE_PATH = re.compile(r"`((?:llmbench/)?(?:[a-z_]+/)+[a-z_]+\.(?:py|toml|tcss))`")


def packages() -> set[str]:
    return {
        init.parent.relative_to(ROOT).as_posix() + "/"
        for init in PACKAGE_ROOT.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def named_packages(text: str) -> set[str]:
    return set(PACKAGE_NAME.findall(text))


def code_layout_section(readme: str) -> str:
    match = re.search(r"^## Code layout\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, "README.md has no '## Code layout' section"
    return match.group(1)


def test_architecture_names_every_package_and_only_packages_that_exist() -> None:
    named = named_packages(ARCHITECTURE.read_text(encoding="utf-8"))
    actual = packages()
    assert not actual - named, f"packages missing from docs/ARCHITECTURE.md: {actual - named}"
    assert not named - actual, (
        f"docs/ARCHITECTURE.md names packages that don't exist: {named - actual}"
    )


def test_every_file_the_architecture_names_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = []
    for path in set(MODULE_PATH.findall(text)):
        # Paths inside the package may leave out its name; tests/ and scripts/ are the repo's.
        base = ROOT if path.split("/")[0] in ("llmbench", "tests", "scripts") else PACKAGE_ROOT
        if not (base / path).exists():
            missing.append(path)
    assert not missing, f"docs/ARCHITECTURE.md names files that don't exist: {sorted(missing)}"


def test_readme_code_layout_lists_every_package() -> None:
    readme = README.read_text(encoding="utf-8")
    named = named_packages(code_layout_section(readme))
    actual = packages()
    assert named == actual, (
        f"missing from the README's code layout: {actual - named}; "
        f"named but not packages: {named - actual}"
    )


def test_readme_links_the_architecture_in_the_repository_only() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "(docs/ARCHITECTURE.md)" in readme
    assert "../shared" not in readme and "DESIGN.md" not in readme


def test_no_module_is_past_one_jobs_size() -> None:
    too_long = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        module = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES and module not in DATA_MODULES:
            too_long[module] = lines
    assert not too_long, (
        f"split these by responsibility, or declare them in DATA_MODULES if they are data: "
        f"{too_long}"
    )


def test_declared_data_modules_exist() -> None:
    missing = [module for module in DATA_MODULES if not (ROOT / module).exists()]
    assert not missing, missing
