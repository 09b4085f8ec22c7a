"""Rubrics for grading: read from a .toml or .yaml file, typed in the TUI's quick form, listed."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from llmbench.core.grading.rubrics import (
    GradingRubric,
    RubricError,
    dimensions_from_text,
    rubric_from_mapping,
)
from llmbench.store.db import Store
from llmbench.store.grading import grades as grades_repo


def load_rubric_file(path: Path) -> GradingRubric:
    """A rubric from a .toml, .yaml or .yml file (see core.rubrics for the format)."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise RubricError(f"{path.name}: a rubric file ends in .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, ValueError) as error:
        if isinstance(error, RubricError):
            raise
        raise RubricError(f"{path.name}: {error}") from None
    except Exception as error:  # yaml's own errors: reported with the file name
        raise RubricError(f"{path.name}: {error}") from None
    if not isinstance(data, dict):
        raise RubricError(f"{path.name}: expected a table with name and dimensions")
    try:
        return rubric_from_mapping(data)
    except RubricError as error:
        raise RubricError(f"{path.name}: {error}") from None


def import_rubric(store: Store, path: Path, *, replace: bool = False) -> int:
    rubric = load_rubric_file(path)
    return store.write(lambda db: grades_repo.save_rubric(db, rubric, replace=replace))


def create_rubric(store: Store, name: str, description: str, dimensions: str) -> int:
    """A rubric typed in the TUI: dimensions in the quick form of
    `core.rubrics.dimensions_from_text`."""
    rubric = rubric_from_mapping(
        {"name": name, "description": description, "dimensions": dimensions_from_text(dimensions)}
    )
    return store.write(lambda db: grades_repo.save_rubric(db, rubric))


def rubrics(store: Store) -> list[GradingRubric]:
    return grades_repo.grading_rubrics(store.read())
