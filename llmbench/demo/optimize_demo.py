"""The demo's optimizer prompt, `extract-order`: an extraction on the built-in `llmbench/mock`
model whose month of traffic gives every kind of cost candidate something to find, each of
which holds quality on the built-in models when F5's optimizer (or `llmbench optimize`) tests
it on the prompt's dataset:

- its answers are JSON objects of label fields, never longer than a few dozen tokens, and it
  sends no max_tokens (max_tokens; concise output: a JSON schema of those labels);
- its role repeats itself and carries boilerplate (compression by rules);
- its role and format hold no template code (provider prompt caching);
- the order desk's inbox replays some e-mails word for word (an exact cache).

The calls' answers are what `llmbench/mock` itself answers the rendered request (the simulator
is a pure function), so a test run of the unchanged version reproduces production exactly.
One function, called by the demo builder inside its write job, after the other calls."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from llmbench.builtin_models.simulator import simulate
from llmbench.core.costs.pricing import PER_MILLION
from llmbench.core.models import Variable
from llmbench.core.prompts.templates import render_messages, template_of
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.store.audit.log import append_calls
from llmbench.store.datasets import NewCase, add_cases, create_dataset
from llmbench.store.prompts.versions import add_version, create_prompt, get_version, set_label

NAME = "extract-order"
MODEL = "llmbench/mock"
INPUT, OUTPUT, CACHED = 0.15, 0.60, 0.075  # USD per million: the built-in models' price
SECTIONS = {
    "role": (
        "You read customer e-mails for Northwind's order desk. Please note that you never "
        "invent an order. You read customer e-mails for Northwind's order desk. Do your best."
    ),
    "task": "E-mail: {{ email }}",
    "format": (
        'Reply in JSON with the keys "sentiment", "priority", "category", "item_count" and '
        '"is_urgent".'
    ),
}
PRODUCTS = ("desk lamp", "office chair", "standing desk", "monitor arm", "bookshelf", "rug")
PROBLEMS = (
    "arrived broken",
    "is missing a part",
    "never arrived",
    "was charged twice",
    "is the wrong colour",
    "needs to be returned",
)
CALLS = 900
REPEATED = 0.2  # share of the inbox that is the same e-mail sent again (auto-replies, resends)
CASES = 12


def _email(rng: random.Random) -> str:
    product, problem = rng.choice(PRODUCTS), rng.choice(PROBLEMS)
    number = rng.randint(10_000, 99_999)
    return f"Hello, my {product} from order {number} {problem}. Please help. Regards, {number}"


def _call(
    moment: datetime, n: int, version_id: int, messages: list[dict[str, Any]]
) -> dict[str, Any]:
    reply = simulate(MODEL, messages, {})
    prompt_tokens = count_message_tokens(messages, MODEL)
    completion_tokens = count_tokens(reply.text, MODEL)
    cost = (prompt_tokens * INPUT + completion_tokens * OUTPUT) / PER_MILLION
    return {
        "ts": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "request_id": f"demo-extract-{n}",
        "model_requested": MODEL,
        "model": MODEL,
        "provider": "llmbench",
        "status": "ok",
        "prompt_version_id": version_id,
        "messages": json.dumps(messages),
        "params": "{}",
        "response": reply.text,
        "finish_reason": reply.finish_reason,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost": cost,
        "input_price": INPUT,
        "output_price": OUTPUT,
        "cached_price": CACHED,
        "latency_ms": reply.latency_ms,
        "feature": "order-desk",
        "team": "support",
        "task_type": "extraction",
        "tags": json.dumps({"feature": "order-desk"}),
    }


def add_optimize_demo(db: Any, chain_key: bytes, now: str, seed: int = 7) -> int:
    """Write the prompt (v1, production), its dataset of e-mails checked as JSON, and a month
    of its calls up to `now` (ISO 8601, UTC) sealed onto the chain; the number of calls."""
    rng = random.Random(seed * 7919 + 24)
    end = datetime.fromisoformat(now.replace("Z", "+00:00"))
    start = end - timedelta(days=30)
    prompt_id = create_prompt(
        db, NAME, description="Order e-mails to fields (the optimizer's demo)", tags=("demo",)
    )
    created = (start - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    version_id = add_version(
        db,
        prompt_id,
        SECTIONS,
        variables=(Variable("email", "untrusted"),),
        model=MODEL,
        author="demo",
        message="first cut",
        created_at=created,
    )
    set_label(db, prompt_id, "production", version_id, moved_by="demo", moved_at=created)
    dataset_id = create_dataset(db, NAME, description="Order e-mails the fields are checked on")
    add_cases(
        db,
        dataset_id,
        [
            NewCase(
                {"email": _email(rng)},
                checks=[{"type": "is-json"}, {"type": "contains", "value": "sentiment"}],
                created_at=created,
            )
            for _ in range(CASES)
        ],
    )
    version = get_version(db, version_id)
    if version is None:  # written just above, in this transaction
        raise LookupError(f"{NAME} v1 was not saved")
    template = template_of(version)
    inbox: list[str] = []
    calls = []
    for n in range(CALLS):
        if inbox and rng.random() < REPEATED:
            email = rng.choice(inbox)
        else:
            email = _email(rng)
            inbox.append(email)
        moment = start + timedelta(seconds=(n + rng.random()) * 30 * 86400 / CALLS)
        messages = render_messages(template, {"email": email})
        calls.append(_call(moment, n, version_id, messages))
    append_calls(db, chain_key, calls)
    return len(calls)
