"""`llmbench keys`: provider API keys in the OS keyring."""

from __future__ import annotations

import sys

import click


@click.group()
def keys() -> None:
    """API keys: the provider's environment variable first, then the OS keyring."""


@keys.command("list")
def keys_list() -> None:
    """Which providers have a key and where it comes from (never the key itself)."""
    from llmbench.gateway.keys import keyring_status, list_keys

    status = keyring_status()
    click.echo(f"keyring: {status.message}")
    for entry in list_keys():
        where = entry.source or "-"
        click.echo(f"{entry.provider:<12} {where:<8} {entry.detail}")


@keys.command("set")
@click.argument("provider")
@click.option("--value", help="The key (default: read it from a hidden prompt or stdin).")
def keys_set(provider: str, value: str | None) -> None:
    """Store PROVIDER's key in the OS keyring."""
    from llmbench.gateway.keys import KeyStoreError, set_key

    if value is None:
        if sys.stdin.isatty():
            value = click.prompt(f"{provider} API key", hide_input=True)
        else:
            value = sys.stdin.readline().strip()
    try:
        status = set_key(provider, value or "")
    except (KeyStoreError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    if status.plaintext:
        click.echo(f"warning: {status.message}", err=True)
    click.echo(f"stored the {provider} key in {status.backend_name}")


@keys.command("delete")
@click.argument("provider")
def keys_delete(provider: str) -> None:
    """Remove PROVIDER's key from the OS keyring."""
    from llmbench.gateway.keys import KeyStoreError, delete_key

    try:
        removed = delete_key(provider)
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"deleted the {provider} key" if removed else f"no {provider} key in the keyring")
