"""`llmbench audit`: verify the hash chain, print a checkpoint, purge by the retention policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmbench.cli.common import (
    FAILURE_EXIT,
    cli_settings,
    db_option,
    resolve_db,
)

if TYPE_CHECKING:
    from llmbench.core.audit.chain import ChainReport

key_file_option = click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The chain key, when it is not in this machine's keyring or key folder.",
)


@click.group()
def audit() -> None:
    """The audit log's integrity and retention: verify, checkpoint, purge, and its key."""


@audit.command("verify")
@db_option
@click.option("--checkpoint", help="A head printed earlier by `audit checkpoint` (ID:HASH).")
@click.option(
    "--no-head",
    is_flag=True,
    help="Ignore the head recorded beside the key: for an older copy, such as a backup.",
)
@click.option(
    "--reset-head",
    is_flag=True,
    help="Ignore the recorded head and, if the log verifies, record its end instead (after "
    "restoring a backup, when the calls since are knowingly lost; the old head is kept aside).",
)
@key_file_option
@click.pass_context
def audit_verify(
    ctx: click.Context,
    db: str | None,
    checkpoint: str | None,
    no_head: bool,
    reset_head: bool,
    key_file: Path | None,
) -> None:
    """Prove no call was edited, removed, reordered or forged, and that the log still reaches
    the head recorded beside the key; exit 1 naming the first bad row and what was done."""
    if no_head and reset_head:
        raise click.UsageError("--no-head and --reset-head cannot be used together")
    head = "ignore" if no_head else "reset" if reset_head else "check"
    from llmbench.gateway.chain_key import ChainKeyMissing
    from llmbench.services.audit.verify import BadCheckpoint, verify
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            report = verify(store, key_file=key_file, checkpoint=checkpoint, head=head)
        except BadCheckpoint as error:
            raise click.UsageError(str(error)) from None
        except ChainKeyMissing as error:
            raise click.ClickException(str(error)) from None
    if report.problem is not None:
        before = "" if report.problem.where else f" ({report.checked:,} calls before it verified)"
        click.echo(f"FAILED at {report.problem.place}: {report.problem.reason}{before}")
        sys.exit(FAILURE_EXIT)
    click.echo(describe_verified(report))


def describe_verified(report: ChainReport) -> str:
    if report.empty:
        deleted = (
            f" (retention deleted the {report.deleted_by_retention:,} before, anchored)"
            if report.deleted_by_retention
            else ""
        )
        return f"nothing to verify: the log holds no calls{deleted}"
    purged = f", {report.purged_bodies:,} with purged bodies" if report.purged_bodies else ""
    if report.unrecorded_purges:
        purged += f" ({report.unrecorded_purges:,} purged before purges were recorded)"
    head = f"; head {report.head_id}:{report.head_hash}" if report.head_id else ""
    against = {
        "matched": "; it reaches the head recorded beside the key",
        "recorded": "; no head was recorded beside the key yet: recorded it now",
        "none": "; no head recorded beside the key was compared (only --checkpoint can show a "
        "cut tail)",
        "not-checked": "",
    }[report.head_check]
    return f"ok: {report.checked:,} calls verified{purged}{head}{against}"


@audit.command("checkpoint")
@db_option
@click.pass_context
def audit_checkpoint(ctx: click.Context, db: str | None) -> None:
    """Print the chain's head (ID:HASH) to keep elsewhere; verify --checkpoint uses it."""
    from llmbench.services.audit.verify import checkpoint
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        click.echo(checkpoint(store))


@audit.command("purge")
@db_option
@click.option("--dry-run", is_flag=True, help="Print what would be purged; change nothing.")
@click.option("--vacuum", is_flag=True, help="Afterwards rebuild the file to return the space.")
@click.option(
    "--delete-after",
    type=click.IntRange(0),
    help="Delete calls older than this many days (default: [retention] in the config).",
)
@click.option(
    "--redact-after",
    type=click.IntRange(0),
    help="Purge bodies, keep metrics, of calls older than this many days (default: config).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@key_file_option
@click.pass_context
def audit_purge(
    ctx: click.Context,
    db: str | None,
    dry_run: bool,
    vacuum: bool,
    delete_after: int | None,
    redact_after: int | None,
    yes: bool,
    key_file: Path | None,
) -> None:
    """Apply the retention policy: delete old calls, or purge their bodies and keep metrics.

    The hash chain still verifies afterwards, and the purge is recorded as an alert (who, what,
    when) that `llmbench monitor alerts` and the Monitor pane list.
    """
    from llmbench.gateway.chain_key import ChainKeyMissing
    from llmbench.services.audit.retention import (
        NoRetentionPolicy,
        RetentionPolicy,
        describe_plan,
        preview,
        run_purge,
    )
    from llmbench.services.database import open_store

    settings = cli_settings()
    configured = settings.retention
    policy = RetentionPolicy(
        configured.delete_after_days if delete_after is None else delete_after,
        configured.redact_after_days if redact_after is None else redact_after,
    )
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            plan = preview(store, policy)
        except NoRetentionPolicy as error:
            raise click.UsageError(f"{error}, or pass --delete-after / --redact-after") from None
        click.echo(f"policy: {policy.describe()}")
        if dry_run:
            click.echo(f"dry run: would {describe_plan(plan, done=False)}")
            return
        if not plan.to_delete and not plan.to_redact:
            click.echo(describe_plan(plan, done=False))
            return
        if not yes:
            click.confirm(f"{describe_plan(plan, done=False)}. Go ahead?", abort=True)
        try:
            outcome = run_purge(
                store, policy, who=settings.general.reviewer, vacuum=vacuum, key_file=key_file
            )
        except ChainKeyMissing as error:
            raise click.ClickException(str(error)) from None
    click.echo(describe_plan(outcome.plan, done=True))
    if outcome.alert_id is not None:
        click.echo(f"recorded as alert #{outcome.alert_id} (by {settings.general.reviewer})")
    if outcome.vacuumed:
        click.echo(
            f"vacuumed: {outcome.bytes_before / 1_048_576:.1f} MiB → "
            f"{outcome.bytes_after / 1_048_576:.1f} MiB"
        )
    click.echo(f"file mode: {outcome.file_mode:04o}")


@audit.group("key")
def audit_key() -> None:
    """Bring the audit chain's key along with a copied database: export, then import."""


@audit_key.command("export")
@db_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def audit_key_export(ctx: click.Context, db: str | None, file: Path) -> None:
    """Write this database's chain key to FILE (0600, never over an existing file). Whoever
    holds it can reseal the log: keep it as safe as the key itself."""
    from llmbench.gateway.chain_key import ChainKeyMissing
    from llmbench.services.audit.keys import export_key
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            written = export_key(store, file)
        except ChainKeyMissing as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"exported the audit-chain key to {written} (mode 0600)")


@audit_key.command("import")
@db_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def audit_key_import(ctx: click.Context, db: str | None, file: Path) -> None:
    """Keep the chain key in FILE for this database (a copy brought from elsewhere), if it
    verifies the database's chain; a second key made for the copy is kept aside."""
    from llmbench.services.audit.keys import import_key
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        imported = import_key(store, file)
    if imported.status == "already-here":
        click.echo("this machine already holds that key for this database; nothing changed")
        return
    where = "the OS keyring" if imported.place == "keyring" else "a 0600 key file"
    replaced = " (the key that was here is kept aside)" if imported.status == "replaced" else ""
    click.echo(
        f"imported the audit-chain key into {where}: it verifies {imported.calls:,} calls{replaced}"
    )
