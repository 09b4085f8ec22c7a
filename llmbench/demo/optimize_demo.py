"""The demo's optimizer prompt, `extract-order`: an extraction on the built-in `llmbench/mock`
model whose month of traffic gives every kind of cost candidate something to find, each of
which holds quality on the built-in models when F5's optimizer (or `llmbench optimize`) tests
it on the prompt's dataset:

- its answers are JSON objects of label fields, never longer than a few dozen tokens, and it
  sends no max_tokens (max_tokens; concise output: a JSON schema of those labels);
- its role repeats itself and carries boilerplate (compression by rules) and wordy phrases
  that a model's rewrite shortens (compression by rewrite: `llmbench/mock` answers it);
- its role and format hold no template code (provider prompt caching);
- the order desk's inbox replays some e-mails word for word (an exact cache).

The calls' answers are what `llmbench/mock` itself answers the rendered request (the simulator
is a pure function), so a test run of the unchanged version reproduces production exactly.
The demo builder writes the prompt and its dataset (`add_prompt`) after the story's prompts and
datasets, draws its calls (`draw_calls`: CALLS in a demo of 20,000, the same share of a smaller
one) and merges them into the month's slices in time order (`interleave`), so they are sealed
onto the chain, indexed and summed into the rollups with the rest; `add_optimize_demo` writes
all of it into a database of its own (the optimizer's tests)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from llmbench.builtin_models.simulator import parse_settings, simulate
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
        "invent an order. In order to keep the desk's records whole, fill in every field at "
        "all times. You read customer e-mails for Northwind's order desk. Do your best."
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
LATENCY_MS = 600  # a planned latency of 300-900 ms, drawn per request
CALLS = 900  # in a demo of DEMO_CALLS calls; a smaller demo has the same share
DEMO_CALLS = 20_000
REPEATED = 0.2  # share of the inbox that is the same e-mail sent again (auto-replies, resends)
CASES = 12
MIN_CALLS = 40  # twice the answers a max_tokens cap needs (core/optimize/answers.py)


def _email(rng: random.Random) -> str:
    product, problem = rng.choice(PRODUCTS), rng.choice(PROBLEMS)
    number = rng.randint(10_000, 99_999)
    return f"Hello, my {product} from order {number} {problem}. Please help. Regards, {number}"


Row = dict[str, Any]


def calls_for(demo_calls: int) -> int:
    """The prompt's calls in a demo of `demo_calls` (production and runs): CALLS at the
    default size, the same share below it (at least MIN_ANSWERS of them for a max_tokens cap
    when there is any), never more than CALLS above it."""
    share = demo_calls * CALLS // DEMO_CALLS
    return 0 if demo_calls <= 0 else min(CALLS, max(share, MIN_CALLS))


def _call(moment: datetime, n: int, version_id: int, messages: list[dict[str, Any]]) -> Row:
    # The mock answers at once; a hosted extraction's latency makes F7 and F8 read true.
    reply = simulate(MODEL, messages, {}, parse_settings({"mock_latency_ms": LATENCY_MS}))
    prompt_tokens = count_message_tokens(messages, MODEL)
    completion_tokens = count_tokens(reply.text, MODEL)
    cost = (prompt_tokens * INPUT + completion_tokens * OUTPUT) / PER_MILLION
    return {
        "ts": _iso(moment),
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


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _rng(seed: int) -> random.Random:
    return random.Random(seed * 7919 + 24)


def add_prompt(db: Any, now: str, days: int = 30, seed: int = 7) -> int:
    """Write the prompt (v1, production, made five days before its traffic starts) and its
    dataset of e-mails checked as JSON; v1's id."""
    start = _when(now) - timedelta(days=days)
    created = _iso(start - timedelta(days=5))  # every time from `now`: same seed, same file
    prompt_id = create_prompt(
        db,
        NAME,
        description="Order e-mails to fields (the optimizer's demo)",
        tags=("demo",),
        created_at=created,
    )
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
    dataset_id = create_dataset(
        db, NAME, description="Order e-mails the fields are checked on", created_at=created
    )
    rng = _rng(seed)
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
    return version_id


def draw_calls(
    db: Any, version_id: int, now: str, days: int = 30, seed: int = 7, count: int = CALLS
) -> list[Row]:
    """`count` calls of v1 spread over the `days` up to `now` (ISO 8601, UTC), in time order,
    each what `llmbench/mock` answers its rendered request."""
    version = get_version(db, version_id)
    if version is None:  # written by add_prompt, in this transaction
        raise LookupError(f"{NAME} v1 was not saved")
    rng = _rng(seed + 1)  # not the cases' stream: the first e-mails are not the dataset's
    end = _when(now)
    span = timedelta(days=days).total_seconds()
    template = template_of(version)
    inbox: list[str] = []
    calls = []
    for n in range(count):
        if inbox and rng.random() < REPEATED:
            email = rng.choice(inbox)
        else:
            email = _email(rng)
            inbox.append(email)
        moment = (
            end - timedelta(seconds=span) + timedelta(seconds=(n + rng.random()) * span / count)
        )
        messages = render_messages(template, {"email": email})
        calls.append(_call(moment, n, version_id, messages))
    return calls


def interleave(chunks: Iterable[list[Row]], rows: list[Row]) -> Iterator[list[Row]]:
    """Each chunk (in time order, chunks in turn) with the rows (in time order) that come
    before its last call merged in, and what is left in a last chunk of its own: the calls
    stay in time order, so the chain seals them as they happened."""
    waiting = sorted(rows, key=_ts)
    for chunk in chunks:
        if not chunk:
            yield chunk
            continue
        last = _ts(chunk[-1])
        cut = next((i for i, row in enumerate(waiting) if _ts(row) > last), len(waiting))
        taken, waiting = waiting[:cut], waiting[cut:]
        # A stable sort: the chunk's own order is kept among calls of the same millisecond.
        yield sorted(chunk + taken, key=_ts) if taken else chunk
    if waiting:
        yield waiting


def _ts(row: Row) -> str:
    return str(row["ts"])


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def add_optimize_demo(
    db: Any, chain_key: bytes, now: str, seed: int = 7, count: int = CALLS
) -> int:
    """The prompt, its dataset and a month of its calls up to `now` sealed onto the chain, in a
    database of its own; the number of calls."""
    version_id = add_prompt(db, now, seed=seed)
    calls = draw_calls(db, version_id, now, seed=seed, count=count)
    append_calls(db, chain_key, calls)
    return len(calls)
