"""Where llmbench keeps its files. Pure: computes paths, creates nothing."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "llmbench"
DB_FILENAME = "llmbench.db"
CONFIG_FILENAME = "config.toml"


def home_override() -> Path | None:
    """LLMBENCH_HOME puts data and config in one folder (tests, portable installs)."""
    home = os.environ.get("LLMBENCH_HOME")
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    return home_override() or Path(user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return home_override() or Path(user_config_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    explicit = os.environ.get("LLMBENCH_CONFIG")
    return Path(explicit).expanduser() if explicit else config_dir() / CONFIG_FILENAME


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME


def demo_db_path() -> Path:
    return data_dir() / "demo.db"


def resolve_db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """--db beats LLMBENCH_DB beats the XDG data dir."""
    if cli_value:
        return Path(cli_value).expanduser()
    env_value = os.environ.get("LLMBENCH_DB")
    if env_value:
        return Path(env_value).expanduser()
    return default_db_path()
