"""Routes kept in the database (`llmbench routes set`), beside the config's [[routes]].

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from llmbench.core.traffic.routing import Arm, Route, RouteError

if TYPE_CHECKING:
    from sqlite_utils import Database


def set_route(db: Database, route: Route, now: str) -> bool:
    """Add the route, or replace the one of the same name; True when it replaced one."""
    existed = db.execute("SELECT 1 FROM routes WHERE name = ?", [route.name]).fetchone()
    arms = [
        {"name": arm.name, "weight": arm.weight, "model": arm.model, "version": arm.version}
        for arm in route.arms
    ]
    db.execute(
        "INSERT INTO routes (name, prompt, model, key, when_tags, arms, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " prompt = excluded.prompt, model = excluded.model, key = excluded.key,"
        " when_tags = excluded.when_tags, arms = excluded.arms, updated_at = excluded.updated_at",
        [
            route.name,
            route.prompt,
            route.model,
            route.key,
            json.dumps(dict(route.when), sort_keys=True),
            json.dumps(arms),
            now,
            now,
        ],
    )
    return existed is not None


def delete_route(db: Database, name: str) -> bool:
    return db.execute("DELETE FROM routes WHERE name = ?", [name]).rowcount > 0


def load_routes(db: Database) -> list[Route]:
    """Every stored route, by name (the order they are tried in). A row edited by hand into
    something that is not a route raises RouteError naming it."""
    return [
        _route(*row)
        for row in db.execute(
            "SELECT name, prompt, model, key, when_tags, arms FROM routes ORDER BY name"
        )
    ]


def _route(name: str, prompt: str, model: str, key: str, when: str, arms: str) -> Route:
    try:
        return Route(
            name,
            tuple(
                Arm(
                    str(arm["name"]),
                    float(arm.get("weight", 100.0)),
                    str(arm.get("model", "")),
                    str(arm.get("version", "")),
                )
                for arm in json.loads(arms)
            ),
            prompt=prompt,
            model=model,
            key=key,
            when={str(k): str(v) for k, v in json.loads(when).items()},
        )
    except RouteError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RouteError(f"route {name!r} in the database is malformed: {error}") from None
