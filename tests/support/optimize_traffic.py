"""A prompt for the cost optimizer's tests: a ticket triage version on the built-in echo model,
its production calls (label answers, priced at gpt-4o-like rates), and a dataset whose checks
the echo's answers pass unless they are cut."""

from __future__ import annotations

import json
from typing import Any

from llmbench.config import GatewaySettings, Settings
from llmbench.core.models import Variable
from llmbench.store.datasets import NewCase, add_cases, create_dataset
from llmbench.store.db import Store
from llmbench.store.prompts.versions import add_version, create_prompt, set_label

SETTINGS = Settings(gateway=GatewaySettings(max_retries=0))
MODEL = "llmbench/echo"
SECTIONS = {
    "role": "You sort support tickets. Please note that the answer is read by a program.",
    "task": "Ticket: {{ ticket }}",
    "format": "Answer with the category. Do your best.",
}
TICKETS = ["my parcel is late", "refund my order", "wrong invoice total", "parcel damaged"]
INPUT, OUTPUT, CACHED = 2.5, 10.0, 1.25  # USD per million tokens


def add_prompt(store: Store, name: str = "triage", sections: dict[str, str] = SECTIONS) -> int:
    """The prompt with one version, labelled production; the version's id."""

    def job(db: Any) -> int:
        prompt = create_prompt(db, name)
        version = add_version(
            db, prompt, sections, variables=(Variable("ticket", "untrusted"),), model=MODEL
        )
        set_label(db, prompt, "production", version, moved_at="2025-05-01T00:00:00.000Z")
        return version

    return store.write(job)


def triage_calls(
    version: int,
    count: int,
    *,
    day: str = "2025-06-10",
    repeats: int = 0,
    cost: float = 0.001,
    answers: tuple[str, ...] = ("billing", "shipping", "refund"),
    model: str = MODEL,
) -> list[dict[str, Any]]:
    """`count` answered calls on `day`, a second apart; the last `repeats` repeat the first
    request exactly."""
    calls = []
    for n in range(count):
        ticket = f"ticket {n}" if n < count - repeats else "ticket 0"
        calls.append(
            {
                "ts": f"{day}T10:{n // 60:02d}:{n % 60:02d}.000Z",
                "request_id": f"r{version}-{day}-{n}",
                "model_requested": model,
                "model": model,
                "status": "ok",
                "prompt_version_id": version,
                "messages": json.dumps([{"role": "user", "content": ticket}]),
                "response": answers[n % len(answers)],
                "prompt_tokens": 60,
                "completion_tokens": 2,
                "cost": cost,
                "input_price": INPUT,
                "output_price": OUTPUT,
                "cached_price": CACHED,
            }
        )
    return calls


def add_dataset(store: Store, name: str, tickets: list[str] = TICKETS) -> None:
    """A case per ticket, checked by the ticket's last word appearing in the answer (the echo
    model answers with its prompt, so it does unless the answer is cut)."""

    def job(db: Any) -> None:
        dataset = create_dataset(db, name)
        add_cases(
            db,
            dataset,
            [
                NewCase({"ticket": t}, checks=[{"type": "contains", "value": t.split()[-1]}])
                for t in tickets
            ],
        )

    store.write(job)
