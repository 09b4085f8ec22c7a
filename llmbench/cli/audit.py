"""`llmbench audit`: verify the hash chain, print a checkpoint, purge by the retention policy."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmbench.cli.common import (
    FAILURE_EXIT,
    cli_settings,
    db_option,
    resolve_db,
)

key_file_option = click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The chain key, when it is not in this machine's keyring or key folder.",
)


@click.group()
def audit() -> None:
    """The audit log's integrity and retention: verify, checkpoint, purge."""


@audit.command("verify")
@db_option
@click.option("--checkpoint", help="A head printed earlier by `audit checkpoint` (ID:HASH).")
@key_file_option
@click.pass_context
def audit_verify(
    ctx: click.Context, db: str | None, checkpoint: str | None, key_file: Path | None
) -> None:
    """Prove no call was edited, removed or reordered; exit 1 naming the first bad row."""
    from llmbench.gateway.chain_key import ChainKeyMissing
    from llmbench.services.audit.verify import BadCheckpoint, verify
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            report = verify(store, key_file=key_file, checkpoint=checkpoint)
        except BadCheckpoint as error:
            raise click.UsageError(str(error)) from None
        except ChainKeyMissing as error:
            raise click.ClickException(str(error)) from None
    if report.problem is not None:
        click.echo(
            f"FAILED at call {report.problem.call_id}: {report.problem.reason} "
            f"({report.checked:,} calls before it verified)"
        )
        sys.exit(FAILURE_EXIT)
    purged = f", {report.purged_bodies:,} with purged bodies" if report.purged_bodies else ""
    head = f"; head {report.head_id}:{report.head_hash}" if report.head_id else ""
    click.echo(f"ok: {report.checked:,} calls verified{purged}{head}")


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
