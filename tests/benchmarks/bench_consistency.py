"""Production consistency on a busy day: 20,000 calls of one prompt compared in one go.

Run: python tests/benchmarks/bench_consistency.py [--calls 20000] [--tries 3]

The day is a support assistant's traffic: a few hundred questions, each asked in many wordings
(with and without greetings, with order numbers and product names), a few FAQs asked thousands
of times, one-off questions, and a share of answers that drift off the usual one. It is compared
by `core.monitoring.consistency.compare_day` (prefix-filtered neighbour pairs, never all n²
pairs; the n² pairs of 20,000 calls would be 200 million comparisons). Then the same day is
appended to a fresh database through the audit log's insert path, under a prompt, and measured
end to end as `llmbench monitor consistency` does (`service_seconds`: reading the day's bodies,
comparing, storing the day). Prints JSON: the median time of `--tries` runs of each, the pairs
found, and the goal beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from llmbench.core.monitoring.consistency import Exchange, compare_day

GOAL_S = 5.0
OPENERS = ("", "Hi! ", "Hello, quick question: ", "Hey team, ", "Please help: ", "Urgent: ")
ASKS = (
    "how do I {verb} my {thing}?",
    "how can I {verb} the {thing}",
    "I need to {verb} our {thing}, where is that?",
    "is it possible to {verb} a {thing} from the {place}?",
    "can't {verb} {thing} in the {place}, what should I do",
)
VERBS = ("reset", "export", "delete", "rename", "share", "archive", "restore", "download",
         "invite", "transfer", "merge", "duplicate", "lock", "pin", "print", "sync")  # fmt: skip
THINGS = ("password", "invoice", "project", "workspace", "report", "dashboard", "API key",
          "billing email", "team", "calendar", "backup", "template", "webhook", "folder",
          "SSO settings", "audit log", "mobile app data", "custom field")  # fmt: skip
PLACES = ("mobile app", "admin console", "desktop app", "settings page", "browser")
FILLER = ("thanks", "", "", "order NW-{n}", "on the {plan} plan", "for my manager", "today")
PLANS = ("Free", "Team", "Business", "Enterprise")


def _answer(rng: random.Random, verb: str, thing: str) -> str:
    """The usual answer for a question, or (rarely) one that says something else."""
    if rng.random() < 0.04:
        return rng.choice(
            (
                "Sorry, I can't help with that request.",
                f"That is not supported: {thing}s cannot be changed after creation.",
                f"Please contact support at least {rng.choice((3, 5, 10))} days in advance.",
            )
        )
    return (
        f"Open Settings → {thing.title()}s, choose the {thing} and click {verb.title()}. "
        f"Admins can {verb} any {thing}; members only their own. It takes effect at once."
    )


def build_day(calls: int, seed: int = 11) -> list[Exchange]:
    rng = random.Random(seed)
    exchanges = []
    for key in range(calls):
        roll = rng.random()
        if roll < 0.15:  # the FAQ everybody asks, worded a few ways
            verb, thing = "reset", "password"
        elif roll < 0.9:
            verb, thing = rng.choice(VERBS), rng.choice(THINGS)
        else:  # a one-off
            verb, thing = f"frobnicate{key}", f"widget{key}"
        query = rng.choice(OPENERS) + rng.choice(ASKS).format(
            verb=verb, thing=thing, place=rng.choice(PLACES)
        )
        filler = rng.choice(FILLER).format(n=rng.randrange(10**5, 10**6), plan=rng.choice(PLANS))
        exchanges.append(Exchange(key, f"{query} {filler}".strip(), _answer(rng, verb, thing)))
    return exchanges


def service_seconds(day: list[Exchange], tries: int) -> float:
    """The day written to a fresh database (in a private home, for its chain key) and measured
    through `services.monitoring.consistency` like the CLI does."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["LLMBENCH_HOME"] = home
        os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        from llmbench.gateway.chain_key import load_chain_key
        from llmbench.services.monitoring.consistency import measure_consistency
        from llmbench.store.audit.log import append_calls, database_id
        from llmbench.store.db import open_db
        from llmbench.store.prompts import versions as prompts_repo
        from llmbench.store.views import to_iso

        midnight = datetime(2025, 6, 1, tzinfo=UTC)
        with open_db(Path(home) / "bench.db") as store:
            key = load_chain_key(database_id(store.read()))

            def write(db: Any) -> None:
                prompt = prompts_repo.create_prompt(db, "support-reply")
                version = prompts_repo.add_version(db, prompt, {"task": "{{ ask }}"})
                rows = [
                    {
                        "ts": to_iso(midnight + timedelta(seconds=n * 86_000 / len(day))),
                        "request_id": f"bench-{n}",
                        "model_requested": "gpt-4o-mini",
                        "model": "gpt-4o-mini",
                        "prompt_version_id": version,
                        "messages": json.dumps([{"role": "user", "content": item.query}]),
                        "response": item.answer,
                        "status": "ok",
                    }
                    for n, item in enumerate(day)
                ]
                append_calls(db, key, rows)

            store.write(write)
            times = []
            for _ in range(tries):
                started = time.perf_counter()
                measure_consistency(store, days=1, now=midnight + timedelta(days=1))
                times.append(time.perf_counter() - started)
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--tries", type=int, default=3)
    args = parser.parse_args()
    day = build_day(args.calls)
    times = []
    figure = None
    for _ in range(args.tries):
        started = time.perf_counter()
        figure, _pairs = compare_day(day)
        times.append(time.perf_counter() - started)
    assert figure is not None
    seconds = statistics.median(times)
    end_to_end = service_seconds(day, args.tries)
    print(
        json.dumps(
            {
                "calls": args.calls,
                "seconds": round(seconds, 3),
                "goal_seconds": GOAL_S,
                "within_goal": seconds <= GOAL_S and end_to_end <= GOAL_S,
                "service_seconds": round(end_to_end, 3),
                "all_pairs_would_be": args.calls * (args.calls - 1) // 2,
                "neighbour_pairs": figure.pairs,
                "divergent_pairs": figure.divergent,
                "divergent_share": round(figure.divergent / figure.pairs, 4)
                if figure.pairs
                else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
