"""Canary and tier routes as the models view (F8) lists and edits them: every route in the
order tried, where each comes from, and a route written in a dialog, read with the CLI's own
parser (`core.traffic.routing.parse_arm`) so a mistake reads exactly as `llmbench routes set`
says it.

A dialog's arms are separated by `;`, each either the CLI's `--arm` spec
(`name=canary,weight=10,model=gpt-4o-mini`) or the short `MODEL=WEIGHT`, which is the arm
`name=MODEL,weight=WEIGHT,model=MODEL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from llmbench.config import Settings
from llmbench.core.traffic.routing import Route, RouteError, describe_arm, merge_routes, parse_arm
from llmbench.store.db import Store
from llmbench.store.routes import delete_route, load_routes, set_route

ARM_SEPARATOR = ";"
_ARM_FIELDS = ("name", "weight", "model", "version")

RouteOrigin = Literal["database", "config"]


@dataclass(frozen=True)
class ListedRoute:
    route: Route
    origin: RouteOrigin
    replaced: bool = False
    """A config route a database route of the same name replaces: listed, never tried."""


@dataclass(frozen=True)
class RoutesListing:
    routes: tuple[ListedRoute, ...]
    """The routes tried, in order, then the config routes the database replaces."""
    config_source: str
    """The config file the config's routes come from ("" when none was read)."""
    problem: str = ""
    """Why the database's routes could not be read (a row edited by hand), else ""."""

    def find(self, name: str, origin: RouteOrigin) -> ListedRoute | None:
        return next(
            (item for item in self.routes if item.route.name == name and item.origin == origin),
            None,
        )


def list_routes(store: Store, settings: Settings) -> RoutesListing:
    """What `llmbench routes list` prints, as rows."""
    configured = settings.routes
    problem = ""
    try:
        stored = load_routes(store.read())
    except RouteError as error:
        stored, problem = [], str(error)
    from_db = {route.name for route in stored}
    listed = [
        ListedRoute(route, "database" if route.name in from_db else "config")
        for route in merge_routes(configured, stored)
    ]
    listed += [ListedRoute(route, "config", True) for route in configured if route.name in from_db]
    return RoutesListing(tuple(listed), str(settings.source or ""), problem)


def _arm_spec(text: str) -> str:
    """The CLI's `--arm` spec for one arm of a dialog: itself, or the short MODEL=WEIGHT."""
    first, equals, rest = text.partition("=")
    if equals and "," not in text and first.strip() not in _ARM_FIELDS:
        model = first.strip()
        return f"name={model},weight={rest.strip()},model={model}"
    return text


def parse_route(name: str, arms: str, applies: str = "", key: str = "") -> Route:
    """A route from a dialog's fields; RouteError (the CLI's words) when it is not one.

    `applies` holds space-separated `prompt=NAME`, `model=NAME` and `TAG=VALUE` conditions
    (empty: every request); `key` is the tag that assigns the arm (empty: user)."""
    name = name.strip()
    if not name:
        raise RouteError("a route needs a name")
    specs = [part.strip() for part in arms.split(ARM_SEPARATOR) if part.strip()]
    prompt = model = ""
    tags: dict[str, str] = {}
    for condition in applies.split():
        tag, equals, value = condition.partition("=")
        if not equals or not tag.strip():
            raise RouteError(f"{condition!r}: write prompt=NAME, model=NAME or TAG=VALUE")
        if tag == "prompt":
            prompt = value
        elif tag == "model":
            model = value
        else:
            tags[tag] = value
    return Route(
        name,
        tuple(parse_arm(_arm_spec(spec)) for spec in specs),
        prompt=prompt,
        model=model,
        key=key.strip() or "user",
        when=tags,
    )


def arms_text(route: Route) -> str:
    """A route's arms as a dialog shows them to edit: the CLI's specs, `; `-separated."""
    return f"{ARM_SEPARATOR} ".join(describe_arm(arm) for arm in route.arms)


def applies_text(route: Route) -> str:
    """A route's conditions as a dialog shows them to edit (the inverse of `parse_route`)."""
    fields = (("prompt", route.prompt), ("model", route.model))
    parts = [f"{field}={value}" for field, value in fields if value]
    return " ".join(parts + [f"{tag}={value}" for tag, value in sorted(route.when.items())])


def describe_applies(route: Route) -> str:
    return applies_text(route) or "every request"


def describe_arms(route: Route) -> str:
    """Each arm with its share of the traffic and what it serves, as `llmbench routes list`."""
    total = sum(arm.weight for arm in route.arms)
    return " | ".join(
        f"{arm.name} {arm.weight / total:.0%} → "
        + ", ".join(filter(None, (arm.model, f"version {arm.version}" if arm.version else "")))
        for arm in route.arms
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def save_route(store: Store, route: Route, renamed_from: str = "") -> bool:
    """Add the route to the database, or replace the one of its name; True when it replaced
    one. Running gateways pick it up within 30 s, as after `llmbench routes set`.

    `renamed_from` names the database route this one was edited from: under another name,
    that one is deleted in the same transaction, so the edit never leaves both."""
    now = _now()

    def job(db: Any) -> bool:  # the writer's connection (services name no SQLite type)
        if renamed_from and renamed_from != route.name:
            delete_route(db, renamed_from)
        return set_route(db, route, now)

    return bool(store.write(job))


def remove_route(store: Store, name: str) -> bool:
    """Delete the database's route `name`; False when there was none."""
    return bool(store.write(lambda db: delete_route(db, name)))


def route_problem(name: str, arms: str, applies: str = "", key: str = "") -> str | None:
    """What is wrong with a dialog's route, in the CLI's words; None when it is a route."""
    try:
        parse_route(name, arms, applies, key)
    except RouteError as error:
        return str(error)
    return None
