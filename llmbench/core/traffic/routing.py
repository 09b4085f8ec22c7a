"""Canary and tier routing: which model or prompt version serves a request.

A route splits traffic between arms by weight, assigned deterministically from a key (a user
id, by default) so one user stays on one arm; or, with `when`, sends requests whose tags match
(e.g. tier=free) to a given arm. The arm chosen is recorded on the call.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class RouteError(ValueError):
    pass


@dataclass(frozen=True)
class Arm:
    name: str
    weight: float = 100.0
    model: str = ""
    version: str = ""  # a prompt label or version number


@dataclass(frozen=True)
class Route:
    name: str
    arms: tuple[Arm, ...]
    prompt: str = ""  # applies to this prompt ("" : any)
    model: str = ""  # applies to requests for this model ("" : any)
    key: str = "user"  # the tag whose value assigns the arm
    when: Mapping[str, str] = field(default_factory=dict)  # all these tags must match

    def __post_init__(self) -> None:
        if not self.arms:
            raise RouteError(f"route {self.name!r} has no arms")
        if any(arm.weight < 0 for arm in self.arms) or not sum(a.weight for a in self.arms):
            raise RouteError(f"route {self.name!r} needs positive weights")
        if any(not (arm.model or arm.version) for arm in self.arms):
            raise RouteError(f"every arm of route {self.name!r} needs a model or a version")

    def applies(self, prompt: str | None, model: str, tags: Mapping[str, str]) -> bool:
        if self.prompt and self.prompt != prompt:
            return False
        if self.model and self.model != model:
            return False
        return all(tags.get(name) == value for name, value in self.when.items())


@dataclass(frozen=True)
class Decision:
    route: str
    arm: Arm

    @property
    def label(self) -> str:
        return f"{self.route}:{self.arm.name}"


def bucket(route: str, key_value: str) -> float:
    """A stable point in [0, 1) for this key on this route (independent across routes)."""
    digest = hashlib.sha256(f"{route}\x00{key_value}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(route: Route, tags: Mapping[str, str], request_id: str) -> Arm:
    """The arm for this request; without the key tag, the request id spreads traffic."""
    point = bucket(route.name, tags.get(route.key) or request_id)
    total = sum(arm.weight for arm in route.arms)
    edge = 0.0
    for arm in route.arms:
        edge += arm.weight / total
        if point < edge:
            return arm
    return route.arms[-1]


def decide(
    routes: Sequence[Route],
    *,
    prompt: str | None,
    model: str,
    tags: Mapping[str, str],
    request_id: str,
) -> Decision | None:
    """The first route that applies decides."""
    for route in routes:
        if route.applies(prompt, model, tags):
            return Decision(route.name, choose(route, tags, request_id))
    return None


def merge_routes(configured: Sequence[Route], stored: Sequence[Route]) -> tuple[Route, ...]:
    """The routes in the order they are tried: the database's first (by name), then the
    config's in file order. A database route replaces a config route of the same name, so
    `llmbench routes set` can change a canary's split without editing the config file."""
    names = {route.name for route in stored}
    return (*stored, *(route for route in configured if route.name not in names))


_ARM_FIELDS = ("name", "weight", "model", "version")


def parse_arm(spec: str) -> Arm:
    """An arm written on the command line: `name=canary,weight=10,version=staging` (the
    fields of an [[routes]] arm; weight defaults to 100)."""
    fields: dict[str, str] = {}
    for part in spec.split(","):
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals or name not in _ARM_FIELDS:
            raise RouteError(f"arm {spec!r}: write name=..,weight=..,model=.. or version=..")
        if name in fields:
            raise RouteError(f"arm {spec!r} sets {name} twice")
        fields[name] = value.strip()
    if not fields.get("name"):
        raise RouteError(f"arm {spec!r} needs a name")
    try:
        weight = float(fields.get("weight", "100"))
    except ValueError:
        raise RouteError(f"arm {spec!r}: weight must be a number") from None
    if not math.isfinite(weight):
        raise RouteError(f"arm {spec!r}: weight must be a finite number")
    return Arm(fields["name"], weight, fields.get("model", ""), fields.get("version", ""))


def describe_arm(arm: Arm) -> str:
    """The inverse of parse_arm()."""
    parts = [f"name={arm.name}", f"weight={arm.weight:g}"]
    if arm.model:
        parts.append(f"model={arm.model}")
    if arm.version:
        parts.append(f"version={arm.version}")
    return ",".join(parts)
