"""`llmbench config`: where the settings file is and what it says."""

from __future__ import annotations

import click

from llmbench import paths
from llmbench.cli.common import (
    cli_settings,
)
from llmbench.config import render_settings


@click.group()
def config() -> None:
    """Where the settings file is and what it holds."""


@config.command("path")
def config_path() -> None:
    """Print the settings file's path."""
    click.echo(str(paths.config_path()))


@config.command("show")
def config_show() -> None:
    """Print the effective settings, with a comment on each."""
    click.echo(render_settings(cli_settings()), nl=False)
