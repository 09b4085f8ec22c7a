"""A prompt's candidates: its production version's last 30 days of calls read from the store
and handed to the rules (core/optimize).

A version that began serving inside the window (a new production version) is projected at its
pace over the days it served, from its first answered call to the window's end: the month's
volume, not the share of the month it happened to be there for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from llmbench.config import GatewaySettings
from llmbench.core.models import Prompt, PromptVersion
from llmbench.core.optimize.candidates import Candidate, ModelScore, Usage, candidates
from llmbench.core.optimize.replay import MONTH_DAYS, Request
from llmbench.core.tokens import count_tokens
from llmbench.store import optimizations as repo
from llmbench.store.db import Store
from llmbench.store.optimize_history import first_call, version_model_scores
from llmbench.store.prompts import versions as prompts_repo

LABEL = "production"
# The exact cache's replay keeps an answer as long as the gateway's cache would (its default
# unless the caller passes the configured [gateway] cache_ttl_s).
CACHE_TTL_S: float = GatewaySettings().cache_ttl_s


class OptimizeError(ValueError):
    """Nothing to optimize (no such prompt, no traffic); the message says why."""


@dataclass(frozen=True)
class Found:
    prompt: Prompt
    version: PromptVersion
    usage: Usage
    since: str
    until: str
    candidates: list[Candidate]

    @property
    def cost_per_call(self) -> float:
        return self.usage.cost / self.usage.calls if self.usage.calls else 0.0


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def window(now: datetime | None = None, days: int = MONTH_DAYS) -> tuple[str, str]:
    until = now or datetime.now(UTC)
    return _iso(until - timedelta(days=days)), _iso(until)


def served_days(first: str | None, until: str, days: float) -> float:
    """Days from the version's first call in the window to its end: at least one (a few hours
    of calls say too little of a month), at most the window."""
    if first is None:
        return days
    span = _when(until) - _when(first)
    return min(max(span.total_seconds() / 86400, 1.0), days)


def _when(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _version(store: Store, name: str) -> tuple[Prompt, PromptVersion]:
    db = store.read()
    prompt = prompts_repo.get_prompt(db, name)
    if prompt is None:
        raise OptimizeError(f"no prompt named {name!r}")
    labels = prompts_repo.labels(db, prompt.id)
    versions = prompts_repo.list_versions(db, prompt.id)
    if not versions:
        raise OptimizeError(f"{name} has no version")
    chosen = next((v for v in versions if v.id == labels.get(LABEL)), versions[-1])
    return prompt, chosen


def find_candidates(
    store: Store,
    name: str,
    *,
    now: datetime | None = None,
    days: int = MONTH_DAYS,
    cache_ttl_s: float | None = CACHE_TTL_S,
) -> Found:
    """The candidates of the prompt's production version (its latest when unlabelled)."""
    prompt, version = _version(store, name)
    since, until = window(now, days)
    db = store.read()
    calls = repo.version_calls(db, version.id, since, until)
    if calls is None:
        raise OptimizeError(f"{name} v{version.version} has no answered call in {days} days")
    # Scores from runs that ran this version on its model beside the others (same cases and
    # checks on both sides); else, as before, every run of the prompt's versions.
    scored = version_model_scores(db, version.id, calls.model) or repo.prompt_model_scores(
        db, prompt.id
    )
    scores = [
        ModelScore(s.model, s.checked, s.passed, s.cost / s.priced if s.priced else 0.0)
        for s in scored
    ]
    usage = Usage(
        version=version,
        model=calls.model,
        window_days=served_days(first_call(db, version.id, calls.model, since, until), until, days),
        calls=calls.calls,
        cost=calls.cost,
        completion_tokens=calls.completion_tokens,
        answers=calls.answers,
        input_price=calls.input_price,
        output_price=calls.output_price,
        cached_price=calls.cached_price,
        mean_prompt_tokens=calls.mean_prompt_tokens,
        example_uses=repo.example_uses(db, version.id, version.examples, since, until),
        requests=[Request(*row) for row in repo.requests(db, version.id, since, until)],
        model_scores=scores,
        cache_ttl_s=cache_ttl_s,
    )
    found = candidates(usage, lambda text: count_tokens(text, calls.model))
    return Found(prompt, version, usage, since, until, found)


def find_all(
    store: Store,
    *,
    now: datetime | None = None,
    days: int = MONTH_DAYS,
    cache_ttl_s: float | None = CACHE_TTL_S,
) -> list[Found]:
    """The candidates of every prompt with traffic in the window, the costliest prompt first;
    a prompt whose production version had no call of its own is left out."""
    since, until = window(now, days)
    found = []
    for name in repo.prompts_with_calls(store.read(), since, until):
        try:
            found.append(find_candidates(store, name, now=now, days=days, cache_ttl_s=cache_ttl_s))
        except OptimizeError:
            continue
    return found
