"""`llmbench routes`: canary and tier routes kept in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from llmbench.cli.common import (
    cli_settings,
    db_option,
    resolve_db,
)

if TYPE_CHECKING:
    from llmbench.core.traffic.routing import Route


@click.group()
def routes() -> None:
    """Canary and tier routes kept in the database, beside the config's [[routes]]."""


@routes.command("list")
@db_option
@click.pass_context
def routes_list(ctx: click.Context, db: str | None) -> None:
    """Every route in the order tried: the database's, then the config's."""
    from llmbench.core.traffic.routing import RouteError, merge_routes
    from llmbench.services.database import open_store
    from llmbench.store.routes import load_routes

    configured = cli_settings().routes
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            stored = load_routes(store.read())
        except RouteError as error:
            raise click.ClickException(str(error)) from None
    from_db = {route.name for route in stored}
    if not stored and not configured:
        click.echo(
            "no routes: every call goes to the model it names "
            "(`llmbench routes set` adds one, or [[routes]] in the config)"
        )
    for route in merge_routes(configured, stored):
        click.echo(_describe_route(route, "database" if route.name in from_db else "config"))
    for route in configured:
        if route.name in from_db:
            click.echo(_describe_route(route, "config") + "  (replaced by the database route)")


def _describe_route(route: Route, source: str) -> str:
    applies = [
        f"{name}={value}"
        for name, value in (("prompt", route.prompt), ("model", route.model))
        if value
    ]
    applies += [f"{tag}={value}" for tag, value in sorted(route.when.items())]
    total = sum(arm.weight for arm in route.arms)
    arms = " | ".join(
        f"{arm.name} {arm.weight / total:.0%} → "
        + ", ".join(filter(None, (arm.model, f"version {arm.version}" if arm.version else "")))
        for arm in route.arms
    )
    where = " ".join(applies) or "every request"
    return f"{route.name:<24} {source:<8} {where}; by {route.key}: {arms}"


@routes.command("set")
@click.argument("name")
@click.option(
    "--arm",
    "arms",
    multiple=True,
    required=True,
    help="name=..,weight=..,model=.. or version=.. (repeat for each arm; weight defaults to 100).",
)
@click.option("--prompt", default="", help="Only requests for this prompt.")
@click.option("--model", default="", help="Only requests for this model.")
@click.option("--key", default="user", show_default=True, help="The tag that assigns the arm.")
@click.option("--when", "when", multiple=True, help="TAG=VALUE the request must carry (repeat).")
@db_option
@click.pass_context
def routes_set(
    ctx: click.Context,
    name: str,
    arms: tuple[str, ...],
    prompt: str,
    model: str,
    key: str,
    when: tuple[str, ...],
    db: str | None,
) -> None:
    """Add or replace route NAME; running gateways pick it up within 30 s. A database route
    replaces a config route of the same name."""
    from datetime import UTC, datetime

    from llmbench.core.traffic.routing import Route, RouteError, parse_arm
    from llmbench.services.database import open_for_command
    from llmbench.store.routes import set_route

    tags: dict[str, str] = {}
    for condition in when:
        tag, equals, value = condition.partition("=")
        if not equals or not tag.strip():
            raise click.UsageError(f"--when {condition!r}: write TAG=VALUE")
        tags[tag.strip()] = value.strip()
    try:
        route = Route(
            name,
            tuple(parse_arm(spec) for spec in arms),
            prompt=prompt,
            model=model,
            key=key,
            when=tags,
        )
    except RouteError as error:
        raise click.UsageError(str(error)) from None
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with open_for_command(resolve_db(ctx, db)) as store:
        replaced = store.write(lambda conn: set_route(conn, route, now))
    click.echo(f"{'replaced' if replaced else 'added'} " + _describe_route(route, "database"))


@routes.command("delete")
@click.argument("name")
@db_option
@click.pass_context
def routes_delete(ctx: click.Context, name: str, db: str | None) -> None:
    """Remove route NAME from the database (a config route is edited in the config file)."""
    from llmbench.services.database import open_store
    from llmbench.store.routes import delete_route

    with open_store(resolve_db(ctx, db), create=False) as store:
        removed = store.write(lambda conn: delete_route(conn, name))
    if removed:
        click.echo(f"deleted route {name}")
        return
    settings = cli_settings()
    if any(route.name == name for route in settings.routes):
        raise click.ClickException(
            f"route {name} is in the config file ({settings.source}), not the database: "
            "edit it there"
        )
    raise click.ClickException(f"no route {name} in the database")
