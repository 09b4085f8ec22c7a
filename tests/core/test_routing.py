from __future__ import annotations

import pytest

from llmbench.core.traffic.routing import Arm, Route, RouteError, decide

CANARY = Route(
    "support-canary",
    (Arm("stable", 90, version="production"), Arm("canary", 10, version="staging")),
    prompt="support-reply",
)
TIERS = Route("free-tier", (Arm("cheap", model="gpt-4o-mini"),), when={"tier": "free"})


def _arm(route: Route, user: str) -> str:
    decision = decide(
        [route], prompt="support-reply", model="gpt-4o", tags={"user": user}, request_id="r"
    )
    assert decision is not None
    return decision.arm.name


def test_a_user_stays_on_one_arm() -> None:
    assert {_arm(CANARY, "user-42") for _ in range(20)} == {_arm(CANARY, "user-42")}


def test_the_split_follows_the_weights() -> None:
    arms = [_arm(CANARY, f"user-{n}") for n in range(5000)]
    share = arms.count("canary") / len(arms)
    assert 0.08 < share < 0.12


def test_tag_routes_match_only_their_tier() -> None:
    free = decide([TIERS], prompt=None, model="gpt-4o", tags={"tier": "free"}, request_id="r")
    paid = decide([TIERS], prompt=None, model="gpt-4o", tags={"tier": "pro"}, request_id="r")
    assert free is not None and free.arm.model == "gpt-4o-mini" and free.label == "free-tier:cheap"
    assert paid is None


def test_the_first_applicable_route_wins_and_others_are_skipped() -> None:
    decision = decide(
        [CANARY, TIERS], prompt="other", model="m", tags={"tier": "free"}, request_id="r"
    )
    assert decision is not None and decision.route == "free-tier"


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ((), "no arms"),
        ((Arm("a", -1, model="m"),), "positive"),
        ((Arm("a"),), "model or a version"),
    ],
)
def test_bad_routes_are_refused(arms: tuple[Arm, ...], message: str) -> None:
    with pytest.raises(RouteError, match=message):
        Route("r", arms)
