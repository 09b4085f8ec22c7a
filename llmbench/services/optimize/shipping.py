"""Shipping a tested candidate: a new version becomes production by a label move (audited in
label_moves), a cheaper model gets a canary route with a weight, an exact cache becomes the
prompt's cache policy (m021: the SDK's calls of it use the gateway's exact cache); either way
the saving projected then is recorded (m019), and F5 sets the realised saving against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from llmbench.core.optimize.candidates import Candidate
from llmbench.core.optimize.replay import MONTH_DAYS
from llmbench.core.traffic.routing import Arm, Route
from llmbench.services.optimize.candidates import LABEL, Found, OptimizeError
from llmbench.services.optimize.testing import Tested
from llmbench.store import optimizations as repo
from llmbench.store.cache_policies import set_policy
from llmbench.store.db import Store
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.routes import set_route
from llmbench.store.timestamps import utc_now


@dataclass(frozen=True)
class ShipResult:
    optimization_id: int
    label_move_id: int | None
    route: str


def ship(
    store: Store, found: Found, tested: Tested, *, by: str = "llmbench optimize"
) -> ShipResult:
    if not tested.holds:
        raise OptimizeError(f"{tested.candidate.title} did not hold quality: not shipped")
    when = utc_now()
    candidate = tested.candidate

    def job(db: Any) -> ShipResult:  # the writer's connection: one transaction for all of it
        move_id: int | None = None
        route = ""
        if candidate.new_version:
            move_id = prompts_repo.set_label(
                db, found.prompt.id, LABEL, tested.version_id, moved_by=by, moved_at=when
            )
        else:
            route = f"optimize-{found.prompt.name}"
            weight = candidate.canary_weight
            arms = (
                Arm("current", 100.0 - weight, model=found.usage.model),
                Arm("canary", weight, model=candidate.model),
            )
            set_route(db, Route(route, arms, prompt=found.prompt.name), when)
        shipped_id = repo.record_shipped(
            db,
            prompt_id=found.prompt.id,
            kind=candidate.kind,
            title=candidate.title,
            baseline_version_id=found.version.id,
            candidate_version_id=tested.version_id if candidate.new_version else None,
            model=candidate.model,
            route=route,
            run_id=tested.run_id,
            label_move_id=move_id,
            baseline_cost_per_call=found.cost_per_call,
            projected_monthly=tested.projected_monthly,
            quality_delta=tested.report.quality_delta,
            shipped_at=when,
            shipped_by=by,
        )
        return ShipResult(shipped_id, move_id, route)

    return store.write(job)


def ship_cache(
    store: Store, found: Found, candidate: Candidate, *, by: str = "llmbench optimize"
) -> ShipResult:
    """The exact-cache candidate shipped as the prompt's cache policy (m021): its SDK calls use
    the gateway's exact cache from now on. Nothing to test first: a hit answers with an answer
    the version already gave. Recorded with the saving its replay projected."""
    if candidate.kind != "exact_cache":
        raise OptimizeError(f"{candidate.title} is not a cache policy: test it, then ship it")
    when = utc_now()

    def job(db: Any) -> ShipResult:  # one transaction: the policy and its record
        set_policy(db, found.prompt.id, "exact", set_at=when, set_by=by)
        shipped_id = repo.record_shipped(
            db,
            prompt_id=found.prompt.id,
            kind=candidate.kind,
            title=candidate.title,
            baseline_version_id=found.version.id,
            candidate_version_id=None,
            model="",
            route="",
            run_id=None,
            label_move_id=None,
            baseline_cost_per_call=found.cost_per_call,
            projected_monthly=candidate.projected_monthly,
            quality_delta=None,
            shipped_at=when,
            shipped_by=by,
        )
        return ShipResult(shipped_id, None, "")

    return store.write(job)


@dataclass(frozen=True)
class Realised:
    """A shipped change: its projected monthly saving and what its calls since have saved,
    at a month's pace (None until it has served a call)."""

    shipped: repo.Shipped
    calls: int
    realised_monthly: float | None


def _days_since(ts: str, now: datetime) -> float:
    then = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return max((now - then).total_seconds() / 86400, 1 / 24)


def realised(store: Store, now: datetime | None = None) -> list[Realised]:
    db = store.read()
    moment = now or datetime.now(UTC)
    found = []
    for item in repo.shipped(db):
        version = item.candidate_version_id or item.baseline_version_id
        # A cache policy's saving is the calls its hits answered for nothing.
        hits = item.kind == "exact_cache"
        calls, cost = repo.calls_since(db, version, item.shipped_at, item.model, cache_hits=hits)
        if not calls:
            found.append(Realised(item, 0, None))
            continue
        saved = item.baseline_cost_per_call * calls - cost
        pace = MONTH_DAYS / _days_since(item.shipped_at, moment)
        found.append(Realised(item, calls, saved * pace))
    return found
