"""A support assistant's production traffic for the consistency and production-judge tests:
one prompt, customers asking a handful of questions in many wordings, each answered the usual
way, except a share of refusals and contradicting figures that can rise after a given day.
Calls are appended through the audit log's one insert path (tests/support/traffic.py)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from llmbench.store.db import Store
from llmbench.store.prompts import versions as prompts_repo
from llmbench.store.views import to_iso
from tests.support.traffic import write_calls

PROMPT = "support-reply"
SYSTEM = "You are Northwind's support assistant. Answer in two sentences at most."
# (ways customers ask it, the usual answer, a diverging answer)
QUESTIONS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("How do I reset my password?", "how can I reset my password", "reset password please"),
        "Open Settings → Security and click Reset password; the emailed link lasts 30 minutes.",
        "Sorry, I can't help with account questions. Please ask your administrator.",
    ),
    (
        ("How long does a refund take?", "how long do refunds take", "refund takes how long?"),
        "Refunds reach your card within 5 business days of the return arriving.",
        "Refunds reach your card within 30 business days of the return arriving.",
    ),
    (
        ("Where can I download my invoices?", "download invoice", "how to download invoices"),
        "Invoices are under Billing → Invoices; click Download PDF next to each one.",
        "We do not send invoices; your bank statement is your receipt.",
    ),
    (
        ("Can I add a teammate to my workspace?", "how do I add teammates to the workspace"),
        "Yes: Admin → Members → Invite, then enter their email address.",
        "Teammates cannot be added on any plan.",
    ),
)
OPENERS = ("", "Hi! ", "Hello, ", "Quick question: ")


def seed_support_traffic(
    store: Store,
    now: datetime,
    *,
    days: int = 12,
    per_day: int = 40,
    diverge: float = 0.03,
    diverge_after: int | None = None,
    diverge_later: float = 0.4,
    seed: int = 5,
) -> int:
    """Calls of PROMPT on each of the last `days` days (day 0 the oldest); a `diverge` share
    of answers is the diverging one, `diverge_later` after day `diverge_after`. Returns the
    prompt version's id."""
    rng = random.Random(seed)

    def create(db: Any) -> int:
        prompt_id = prompts_repo.create_prompt(db, PROMPT)
        return prompts_repo.add_version(db, prompt_id, {"system": SYSTEM, "task": "{{ ask }}"})

    version_id = store.write(create)
    start = now - timedelta(days=days)
    calls = []
    for day in range(days):
        share = diverge_later if diverge_after is not None and day > diverge_after else diverge
        for n in range(per_day):
            asks, usual, other = rng.choice(QUESTIONS)
            ask = rng.choice(OPENERS) + rng.choice(asks)
            answer = other if rng.random() < share else usual
            moment = start + timedelta(days=day, seconds=(n + 0.5) * 86_400 / per_day)
            calls.append(
                {
                    "ts": to_iso(moment),
                    "request_id": f"support-{day}-{n}",
                    "model_requested": "gpt-4o-mini",
                    "model": "gpt-4o-mini",
                    "prompt_version_id": version_id,
                    "messages": json.dumps(
                        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ask}]
                    ),
                    "response": answer,
                    "status": "ok",
                    "prompt_tokens": 60,
                    "completion_tokens": 25,
                    "cost": 0.0002,
                    "latency_ms": 800.0,
                }
            )
    write_calls(store, calls)
    return version_id


SUITE = f"""\
prompts: [{PROMPT}]
tests:
  - vars: {{ask: "How do I reset my password?"}}
checks:
  - {{type: not-contains, value: "As an AI"}}
"""
