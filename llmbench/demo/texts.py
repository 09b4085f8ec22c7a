"""Small seeded generators shared by the demo's runs and traffic: tickets, invoices, chat
messages, token counts, timings and the shape of a successful call."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Price, Usage
from llmbench.demo.catalog import (
    CURRENCIES,
    CUSTOMERS,
    FIRST_NAMES,
    IDPS,
    INTEGRATION_ERRORS,
    INTEGRATIONS,
    INVOICE_ITEMS,
    OBJECTS,
    PLANS,
    PROVIDERS,
    SCREENS,
    SPEEDS,
    TICKETS,
    VENDORS,
    WEEKDAYS,
)

SYSTEM_SECTIONS = ("role", "format", "safety", "examples", "freeform")


@dataclass(frozen=True)
class Ticket:
    intent: str
    name: str
    ref: str
    text: str
    reply: str


def ticket(rng: random.Random, index: int | None = None) -> Ticket:
    """A support ticket and the reply a good agent writes; `index` picks the template."""
    intent, ask, answer = TICKETS[rng.randrange(len(TICKETS)) if index is None else index]
    values = {
        "name": rng.choice(FIRST_NAMES),
        "plan": rng.choice(PLANS),
        "ref": f"NW-{rng.randrange(100000, 999999)}",
        "day": rng.choice(WEEKDAYS),
        "screen": rng.choice(SCREENS),
        "workspace": f"{rng.choice(CUSTOMERS)}-{rng.randrange(2, 99)}",
        "object": rng.choice(OBJECTS),
        "n": str(rng.choice((3, 5, 10, 12, 25, 40))),
        "integration": rng.choice(INTEGRATIONS),
        "error": rng.choice(INTEGRATION_ERRORS),
        "company": rng.choice(CUSTOMERS).replace("-", " ").title(),
        "idp": rng.choice(IDPS),
    }
    return Ticket(
        intent, values["name"], values["ref"], ask.format(**values), answer.format(**values)
    )


@dataclass(frozen=True)
class Invoice:
    number: str
    vendor: str
    date: str
    currency: str
    total: float
    document: str

    def golden(self) -> dict[str, Any]:
        return {
            "invoice_number": self.number,
            "vendor": self.vendor,
            "date": self.date,
            "total": self.total,
            "currency": self.currency,
        }


def invoice(rng: random.Random, issued: datetime, *, credit_note: bool = False) -> Invoice:
    currency, symbol = rng.choice(CURRENCIES)
    lines = []
    total = 0.0
    for _ in range(rng.randint(1, 4)):
        quantity = rng.randint(1, 20)
        if currency == "JPY":
            unit = float(rng.randint(500, 40000))
        else:
            unit = round(rng.uniform(4, 400), 2)
        total += quantity * unit
        lines.append(f"{rng.choice(INVOICE_ITEMS)} x{quantity} @ {symbol}{unit:,.2f}")
    total = round(-total if credit_note else total, 2)
    number = f"{'CN' if credit_note else 'INV'}-{rng.randrange(1000, 99999)}"
    vendor = rng.choice(VENDORS)
    date = (issued - timedelta(days=rng.randint(0, 40))).strftime("%Y-%m-%d")
    heading = "CREDIT NOTE" if credit_note else "INVOICE"
    document = "\n".join(
        (
            f"{heading} {number}",
            f"Vendor: {vendor}",
            f"Date: {date}",
            *lines,
            f"Total due: {symbol}{total:,.2f} {currency}",
        )
    )
    return Invoice(number, vendor, date, currency, total, document)


def render(template: str, values: Mapping[str, str]) -> str:
    """The demo's templates only substitute plain `{{ name }}` variables."""
    for name, value in values.items():
        template = template.replace("{{ " + name + " }}", value)
    return template


def system_text(sections: Mapping[str, str]) -> str:
    return "\n\n".join(sections[name] for name in SYSTEM_SECTIONS if name in sections)


def messages_json(system: str, user: str) -> str:
    return json.dumps(
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        ensure_ascii=False,
    )


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def lognormal_int(rng: random.Random, median: float, sigma: float) -> int:
    return max(1, round(lognormal(rng, median, sigma)))


def request_id(rng: random.Random) -> str:
    return f"req_{rng.getrandbits(96):024x}"


def timing(rng: random.Random, model: str, usage: Usage) -> tuple[float, float]:
    """(time to first token, total latency) in ms: the first grows with the prompt, the rest
    with the completion at the model's speed."""
    first_token, per_token = SPEEDS[model]
    ttft = lognormal(rng, first_token, 0.35) + usage.prompt_tokens * 0.03
    latency = ttft + usage.completion_tokens * per_token * math.exp(rng.gauss(0.0, 0.2))
    return round(ttft, 1), round(latency, 1)


def unit_prices(price: Price | None) -> dict[str, float | None]:
    """The unit-price columns of a call: the prices its cost was computed with."""
    if price is None:
        return {"input_price": None, "output_price": None, "cached_price": None}
    return {"input_price": price.input, "output_price": price.output, "cached_price": price.cached}


def call_cost(usage: Usage, price: Price | None) -> float | None:
    cost = cost_of(usage, price)
    return None if cost is None else round(cost, 8)


def ok_call(
    *,
    ts: str,
    request: str,
    model: str,
    messages: str,
    params: Mapping[str, Any],
    response: str,
    usage: Usage,
    price: Price | None,
    ttft: float,
    latency: float,
) -> dict[str, Any]:
    return {
        "ts": ts,
        "request_id": request,
        "attempt": 1,
        "model_requested": model,
        "model": model,
        "provider": PROVIDERS[model],
        "prompt_version": None,
        "run": None,
        "messages": messages,
        "params": json.dumps(dict(params)),
        "response": response,
        "finish_reason": "stop",
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "cost": call_cost(usage, price),
        **unit_prices(price),
        "latency_ms": latency,
        "ttft_ms": ttft,
        "status": "ok",
        "tags": "{}",
    }


def cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out
