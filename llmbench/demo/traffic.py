"""A month of production calls: features, teams, power-law customers, daily and weekly
seasonality, errors, rate limits with retries, timeouts with fallbacks, cache hits, prompt
caching, a few injection attempts and one cost incident."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Usage
from llmbench.demo import texts
from llmbench.demo.catalog import (
    AGENTS,
    CUSTOMERS,
    ERRORS,
    FALLBACKS,
    FOLLOW_UPS,
    HAIKU,
    INJECTION_REFUSAL,
    INJECTIONS,
    KNOWLEDGE,
    LANGUAGES,
    PROVIDERS,
    QUESTION_OPENERS,
    RATE_LIMIT_ERRORS,
    SONNET,
    TOPICS,
)
from llmbench.demo.records import (
    DemoClock,
    DemoPrompt,
    DemoSpike,
    DemoVersion,
    Progress,
    VersionRef,
    iso_from_ms,
    iso_ms,
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Feature:
    name: str
    team: str
    share: float
    prompt: str | None
    models: tuple[tuple[str, float], ...]
    prompt_tokens: tuple[float, float]  # log-normal (median, sigma)
    completion_tokens: tuple[float, float]
    params: dict[str, Any]
    has_customer: bool = True


FEATURES: tuple[Feature, ...] = (
    Feature(
        "support-chat", "customer-success", 0.32, "support-reply",
        ((SONNET, 0.45), ("gpt-4o", 0.25), ("gpt-4o-mini", 0.30)),
        (1400, 0.45), (190, 0.5), {"temperature": 0.4, "max_tokens": 350},
    ),
    Feature(
        "summarize", "customer-success", 0.18, "summarize-thread",
        (("gpt-4o-mini", 0.6), (HAIKU, 0.25), ("gemini-1.5-flash", 0.15)),
        (3200, 0.6), (150, 0.35), {"temperature": 0.2, "max_tokens": 200},
    ),
    Feature(
        "extract", "finance-ops", 0.14, "extract-invoice",
        (("gpt-4o", 0.5), ("gpt-4o-mini", 0.35), ("gemini-1.5-flash", 0.15)),
        (900, 0.4), (120, 0.3), {"temperature": 0.0, "max_tokens": 300},
    ),
    Feature(
        "classify", "platform", 0.20, "classify-intent",
        ((HAIKU, 0.5), ("gpt-4o-mini", 0.35), ("gemini-1.5-flash", 0.15)),
        (420, 0.35), (14, 0.3), {"temperature": 0.0, "max_tokens": 30},
    ),
    Feature(
        "search-answer", "search", 0.13, None,
        (("gpt-4o", 0.4), (SONNET, 0.3), ("gemini-1.5-flash", 0.3)),
        (2600, 0.5), (210, 0.5), {"temperature": 0.2, "max_tokens": 400},
    ),
    Feature(
        "dev-sandbox", "ml-research", 0.03, None,
        (("llmbench/mock", 0.7), ("llmbench/echo", 0.3)),
        (60, 0.6), (40, 0.5), {"temperature": 1.0}, has_customer=False,
    ),
)  # fmt: skip
FEATURES_BY_NAME = {feature.name: feature for feature in FEATURES}

CACHE_HIT_RATE = 0.06
CACHE_MEMORY = 40  # recent answers per feature and model that a cache hit can replay
RATE_LIMIT_RATE = 0.015
ERROR_RATE = 0.012
TIMEOUT_RATE = 0.006
TIMEOUT_MS = 30_000.0
PROMPT_CACHE_RATE = 0.35  # ok calls whose long system prompt hit the provider's prompt cache
PROMPT_CACHE_FEATURES = ("support-chat", "search-answer", "summarize")
TRUNCATED_SHARE = 0.15  # of answers that reach max_tokens
STAGING_SHARE = 0.1  # calls routed to the staging version while it differs from production
VERSION_MODEL_SHARE = 0.5  # calls on the model the prompt version names
INJECTION_EVERY = 4000  # one injection attempt per this many calls (plus three)
SPIKE_SHARE = 0.003  # of all calls
SPIKE_HOURS = 4
SPIKE_FACTOR = 6.0  # the spike hours spend this many times a typical hour at that time of day
SPIKE_OVER_MAX = 1.5  # ... and at least this many times the costliest ordinary hour
SPIKE_MODEL = "gpt-4o"
HOUR_MS = 3_600_000


def season_weight(moment: datetime, progress: float) -> float:
    """Relative traffic at a UTC hour: business-hours peak, quiet weekends, slow growth."""
    daily = 0.18 + math.exp(-(((moment.hour - 15) / 4.5) ** 2))
    weekday = moment.weekday()
    weekly = 1.0 if weekday < 5 else (0.42 if weekday == 5 else 0.36)
    return daily * weekly * (0.85 + 0.3 * progress)


class Traffic:
    """Generates the production calls of one demo window from one seeded stream."""

    def __init__(
        self,
        rng: random.Random,
        clock: DemoClock,
        prompts: Sequence[DemoPrompt],
        prices: PriceTable,
        progress: Progress | None = None,
    ) -> None:
        self.rng = rng
        self.clock = clock
        self.prices = prices
        self.progress = progress
        self.versions: dict[VersionRef, DemoVersion] = {
            (prompt.name, version.number): version
            for prompt in prompts
            for version in prompt.versions
        }
        self.timelines = {
            prompt.name: sorted(
                (move.moved_at, move.label, move.to_version) for move in prompt.label_moves
            )
            for prompt in prompts
        }
        self.customer_cum = texts.cumulative(
            [1.0 / (rank + 1) ** 1.3 for rank in range(len(CUSTOMERS))]
        )
        self.feature_cum = texts.cumulative([feature.share for feature in FEATURES])
        self.model_choices = {
            feature.name: (
                [model for model, _ in feature.models],
                texts.cumulative([share for _, share in feature.models]),
            )
            for feature in FEATURES
        }
        self.users = {
            customer: [f"u{rng.randrange(10_000, 99_999)}" for _ in range(4 + 30 // (rank + 1))]
            for rank, customer in enumerate(CUSTOMERS)
        }
        # Recent answers per (feature, model), which cache hits replay.
        self.answered: dict[tuple[str, str], list[tuple[str, str, Usage]]] = {}
        self.hour_starts, hour_weights = self._hours()
        self.hour_cum = texts.cumulative(hour_weights)

    # -- the window -------------------------------------------------------------------------
    def _hours(self) -> tuple[list[int], list[float]]:
        """Start (epoch ms) and weight of every clock hour that overlaps the window; partial
        hours at either end weigh in proportion to their overlap."""
        first = self.clock.start_ms - self.clock.start_ms % HOUR_MS
        starts, weights = [], []
        span = self.clock.end_ms - self.clock.start_ms
        for start in range(first, self.clock.end_ms, HOUR_MS):
            overlap = min(start + HOUR_MS, self.clock.end_ms) - max(start, self.clock.start_ms)
            moment = self.clock.start + timedelta(milliseconds=start - self.clock.start_ms)
            progress = (start - self.clock.start_ms) / span
            starts.append(start)
            weights.append(season_weight(moment, max(progress, 0.0)) * overlap / HOUR_MS)
        return starts, weights

    def timestamps(self, count: int) -> list[int]:
        """`count` moments (epoch ms) drawn with the window's seasonality, in draw order."""
        hours = self.rng.choices(self.hour_starts, cum_weights=self.hour_cum, k=count)
        stamps = []
        for start in hours:
            low = max(start, self.clock.start_ms)
            high = min(start + HOUR_MS, self.clock.end_ms)
            stamps.append(low + self.rng.randrange(high - low))
        return stamps

    # -- the whole month --------------------------------------------------------------------
    def generate(self, count: int) -> tuple[list[Row], DemoSpike | None]:
        """Exactly `count` calls (a retry counts as a call), in no particular order."""
        spike_count = 0 if count < 100 else max(6, round(count * SPIKE_SHARE))
        injection_count = 0 if count < 100 else 3 + count // INJECTION_EVERY
        stamps = self.timestamps(count - spike_count - injection_count)
        rows: list[Row] = []
        index = 0
        while index < len(stamps):
            made = self._request(stamps[index], retry_allowed=index + 1 < len(stamps))
            rows.extend(made)
            index += len(made)  # a retry uses up the next stamp, so the count stays exact
            if self.progress and len(rows) % 1000 < len(made):
                self.progress(len(rows), count)
        for number, stamp in enumerate(self.timestamps(injection_count)):
            rows.append(self._injection(stamp, blocked=number % 2 == 0))
        spike = None
        if spike_count:
            spike_rows, spike = self._spike(rows, spike_count)
            rows.extend(spike_rows)
        if self.progress:
            self.progress(len(rows), count)
        return rows, spike

    # -- one request ------------------------------------------------------------------------
    def _request(self, stamp: int, *, retry_allowed: bool) -> list[Row]:
        feature = self.rng.choices(FEATURES, cum_weights=self.feature_cum)[0]
        base = self._base(feature, iso_from_ms(stamp))
        roll = self.rng.random()
        if feature.has_customer and roll < CACHE_HIT_RATE:
            return [self._cache_hit(base)]
        roll -= CACHE_HIT_RATE
        if retry_allowed and roll < RATE_LIMIT_RATE:
            return self._rate_limited(base, stamp)
        roll -= RATE_LIMIT_RATE
        if roll < ERROR_RATE:
            return [self._error(base)]
        roll -= ERROR_RATE
        if retry_allowed and roll < TIMEOUT_RATE:
            return self._timeout(base, stamp)
        return [self._ok(base)]

    def _base(self, feature: Feature, ts: str) -> dict[str, Any]:
        """What is common to every attempt of one request."""
        rng = self.rng
        version_ref: VersionRef | None = None
        arm = None
        params = feature.params
        if feature.prompt is not None:
            number, arm = self._version_at(feature.prompt, ts)
            version_ref = (feature.prompt, number)
            params = self.versions[version_ref].params
        models, cumulative = self.model_choices[feature.name]
        model = rng.choices(models, cum_weights=cumulative)[0]
        if version_ref is not None and rng.random() < VERSION_MODEL_SHARE:
            model = self.versions[version_ref].model
        customer = (
            rng.choices(CUSTOMERS, cum_weights=self.customer_cum)[0]
            if feature.has_customer
            else None
        )
        sections = self.versions[version_ref].sections if version_ref else {}
        system, user, response, task_type = self._texts(feature, sections, model)
        return {
            "feature": feature,
            "ts": ts,
            "request_id": texts.request_id(rng),
            "model": model,
            "prompt_version": version_ref,
            "arm": arm,
            "params": params,
            "customer": customer,
            "user": rng.choice(self.users[customer]) if customer else "dev-notebook",
            "messages": texts.messages_json(system, user),
            "response": response,
            "task_type": task_type,
            "usage": Usage(
                prompt_tokens=texts.lognormal_int(rng, *feature.prompt_tokens),
                completion_tokens=texts.lognormal_int(rng, *feature.completion_tokens),
            ),
        }

    def _version_at(self, prompt: str, ts: str) -> tuple[int, str | None]:
        """The version serving at `ts` and the A/B arm, from the label history."""
        production = staging = None
        for moved_at, label, version in self.timelines[prompt]:
            if moved_at > ts:
                break
            if label == "production":
                production = version
            elif label == "staging":
                staging = version
        production = production or 1
        if staging is None or staging == production:
            return production, None
        if self.rng.random() < STAGING_SHARE:
            return staging, "candidate"
        return production, "control"

    def _texts(
        self, feature: Feature, sections: Mapping[str, str], model: str
    ) -> tuple[str, str, str, str]:
        """(system, user, response, task type) for one request of `feature`."""
        rng = self.rng
        system = texts.system_text(sections)
        if feature.name == "support-chat":
            ticket = texts.ticket(rng)
            user = texts.render(
                sections["task"],
                {"customer_name": ticket.name, "reference": ticket.ref, "ticket": ticket.text},
            )
            reply = f"{ticket.reply} — {rng.choice(AGENTS)}, Northwind Support"
            return system, user, reply, ticket.intent
        if feature.name == "summarize":
            ticket = texts.ticket(rng)
            follow_up = rng.choice(FOLLOW_UPS)
            thread = (
                f"Customer ({rng.choice(CUSTOMERS)}): {ticket.text}\n"
                f"Agent: {ticket.reply}\nCustomer: {follow_up}"
            )
            sentiment = (
                "positive"
                if "thanks" in follow_up
                else ("negative" if "broken" in follow_up or "urgent" in follow_up else "neutral")
            )
            next_step = "close the ticket" if sentiment == "positive" else "follow up within 24 h"
            summary = (
                f"- Issue: {ticket.intent} request ({ticket.ref})\n"
                f"- Owner: {rng.choice(AGENTS)}\n- Next step: {next_step}\n"
                f"- Sentiment: {sentiment}"
            )
            return system, texts.render(sections["task"], {"thread": thread}), summary, "summary"
        if feature.name == "extract":
            issued = self.clock.now - timedelta(days=rng.randint(0, self.clock.days))
            invoice = texts.invoice(rng, issued, credit_note=rng.random() < 0.08)
            response = json.dumps(invoice.golden(), ensure_ascii=False)
            if model == "gpt-4o-mini" and rng.random() < 0.15:
                response = "```json\n" + response + "\n```"
            user = texts.render(sections["task"], {"document": invoice.document})
            return system, user, response, "credit-note" if invoice.total < 0 else "invoice"
        if feature.name == "classify":
            ticket = texts.ticket(rng)
            response = json.dumps(
                {"intent": ticket.intent, "confidence": round(rng.uniform(0.55, 0.99), 2)}
            )
            user = texts.render(sections["task"], {"ticket": ticket.text})
            return system, user, response, "classification"
        if feature.name == "search-answer":
            question, passage, answer = rng.choice(KNOWLEDGE)
            other = rng.choice(KNOWLEDGE)[1]
            opener = rng.choice(QUESTION_OPENERS)
            asked = f"{opener}{question[0].lower()}{question[1:]}" if opener else question
            user = f"Context:\n[1] {passage}\n[2] {other}\n\nQuestion: {asked}"
            system = (
                "Answer the question using only the numbered context. Cite sources as [n]. "
                "If the context does not answer it, say so."
            )
            return system, user, answer, "qa"
        if rng.random() < 0.5:
            user = f"Say hello in {rng.choice(LANGUAGES)}."
        else:
            user = f"Write a haiku about {rng.choice(TOPICS)}."
        response = user if model == "llmbench/echo" else f"(simulated) A short reply to: {user}"
        return "You are a test assistant.", user, response, "experiment"

    # -- outcomes ---------------------------------------------------------------------------
    def _row(self, base: Mapping[str, Any], model: str, **values: Any) -> Row:
        feature: Feature = base["feature"]
        price = self.prices.price(model, base["ts"])
        row = {
            "ts": base["ts"],
            "request_id": base["request_id"],
            "attempt": 1,
            "model_requested": base["model"],
            "model": model,
            "provider": PROVIDERS[model],
            "prompt_version": base["prompt_version"],
            "run": None,
            "messages": base["messages"],
            "params": json.dumps(dict(base["params"])),
            "cost": None if price is None else 0.0,  # failed attempts are not billed
            **texts.unit_prices(price),
            "feature": feature.name,
            "team": feature.team,
            "customer": base["customer"],
            "task_type": base["task_type"],
            "user": base["user"],
            "arm": base["arm"],
            "tags": "{}",
        }
        row.update(values)
        return row

    def _ok(self, base: Mapping[str, Any], model: str | None = None) -> Row:
        rng = self.rng
        model = model or base["model"]
        usage: Usage = base["usage"]
        completion, finish = usage.completion_tokens, "stop"
        max_tokens = base["params"].get("max_tokens")
        if max_tokens and completion >= max_tokens:
            # Most answers that would run long end early anyway; a few are cut off.
            if rng.random() < TRUNCATED_SHARE:
                completion, finish = int(max_tokens), "length"
            else:
                completion = int(max_tokens * rng.uniform(0.55, 0.97))
        cached = 0
        if (
            base["feature"].name in PROMPT_CACHE_FEATURES
            and usage.prompt_tokens >= 1024
            and PROVIDERS[model] in ("openai", "anthropic")
            and rng.random() < PROMPT_CACHE_RATE
        ):
            cached = int(usage.prompt_tokens * rng.uniform(0.5, 0.85)) // 128 * 128
        usage = Usage(usage.prompt_tokens, completion, cached)
        ttft, latency = texts.timing(rng, model, usage)
        answered = self.answered.setdefault((base["feature"].name, model), [])
        if len(answered) < CACHE_MEMORY:
            answered.append(
                (base["messages"], base["response"], Usage(usage.prompt_tokens, completion))
            )
        else:
            answered[rng.randrange(CACHE_MEMORY)] = (
                base["messages"],
                base["response"],
                Usage(usage.prompt_tokens, completion),
            )
        return self._row(
            base,
            model,
            response=base["response"],
            finish_reason=finish,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=cached,
            latency_ms=latency,
            ttft_ms=ttft,
            status="ok",
            cost=texts.call_cost(usage, self.prices.price(model, base["ts"])),
        )

    def _cache_hit(self, base: Mapping[str, Any]) -> Row:
        """An exact-match cache hit replays an earlier answer to the same request."""
        earlier = self.answered.get((base["feature"].name, base["model"]))
        if earlier:
            messages, response, usage = self.rng.choice(earlier)
            base = {**base, "messages": messages, "response": response, "usage": usage}
        usage = base["usage"]
        would_have_cost = texts.call_cost(usage, self.prices.price(base["model"], base["ts"]))
        latency = round(self.rng.uniform(2.0, 25.0), 1)
        return self._row(
            base,
            base["model"],
            response=base["response"],
            finish_reason="stop",
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=0.0,
            saving=would_have_cost or 0.0,
            latency_ms=latency,
            ttft_ms=latency,
            status="cache_hit",
            tags=json.dumps({"cache": "exact"}),
        )

    def _error(self, base: Mapping[str, Any]) -> Row:
        kind, text = self.rng.choice(ERRORS[PROVIDERS[base["model"]]])
        return self._row(
            base,
            base["model"],
            latency_ms=round(texts.lognormal(self.rng, 900.0, 0.6), 1),
            status="error",
            error_kind=kind,
            error=text,
        )

    def _rate_limited(self, base: Mapping[str, Any], stamp: int) -> list[Row]:
        wait_ms = self.rng.randint(150, 4000)
        template = RATE_LIMIT_ERRORS[PROVIDERS[base["model"]]]
        first = self._row(
            base,
            base["model"],
            latency_ms=round(self.rng.uniform(60.0, 240.0), 1),
            status="rate_limited",
            error_kind="rate_limit",
            error=template.format(
                model=base["model"], tokens=base["usage"].prompt_tokens, wait=wait_ms
            ),
            tags=json.dumps({"retry_after_ms": wait_ms}),
        )
        retry = self._ok({**base, "ts": self._later(stamp, wait_ms + 250)})
        retry["attempt"] = 2
        return [first, retry]

    def _timeout(self, base: Mapping[str, Any], stamp: int) -> list[Row]:
        first = self._row(
            base,
            base["model"],
            latency_ms=TIMEOUT_MS,
            status="timeout",
            error_kind="timeout",
            error=f"litellm.Timeout: Request to {base['model']} timed out after 30.0 seconds",
        )
        fallback = FALLBACKS[base["model"]]
        retry = self._ok({**base, "ts": self._later(stamp, int(TIMEOUT_MS) + 40)}, fallback)
        retry["attempt"] = 2
        retry["tags"] = json.dumps({"fallback_from": base["model"]})
        return [first, retry]

    def _later(self, stamp: int, delay_ms: int) -> str:
        return iso_from_ms(min(stamp + delay_ms, self.clock.end_ms - 1))

    def _injection(self, stamp: int, *, blocked: bool) -> Row:
        """A prompt-injection attempt the guard flagged: blocked, or answered with a refusal."""
        rng = self.rng
        feature = FEATURES_BY_NAME["support-chat" if rng.random() < 0.6 else "search-answer"]
        base = self._base(feature, iso_from_ms(stamp))
        attack, rules = rng.choice(INJECTIONS)
        messages = json.loads(base["messages"])
        content = f"{messages[-1]['content']}\n\n{attack}" if rng.random() < 0.5 else attack
        messages[-1]["content"] = content
        # The shape the gateway's guards write (gateway/guarding.py), plus the matched "span".
        flags = json.dumps(
            [
                {
                    "stage": "input",
                    "action": "block" if blocked else "flag",
                    "rule": rule,
                    "kind": "injection",
                    "score": round(rng.uniform(0.82, 0.99), 2),
                    "where": f"messages[{len(messages) - 1}]",
                    "span": span,
                    "excerpt": span,
                    "start": content.index(span),
                    "end": content.index(span) + len(span),
                }
                for rule, span in rules
            ]
        )
        base = {**base, "messages": json.dumps(messages, ensure_ascii=False)}
        if blocked:
            return self._row(
                base,
                base["model"],
                prompt_tokens=base["usage"].prompt_tokens,
                tokens_estimated=1,
                latency_ms=round(rng.uniform(1.0, 6.0), 1),
                status="blocked",
                error_kind="guard_input",
                error=f"blocked by the input guard: {rules[0][0]}",
                guard_flags=flags,
                flagged=1,
            )
        row = self._ok({**base, "response": INJECTION_REFUSAL})
        row.update(guard_flags=flags, flagged=1)
        return row

    # -- the incident -----------------------------------------------------------------------
    def _spike(self, rows: Sequence[Row], count: int) -> tuple[list[Row], DemoSpike]:
        """One customer's backfill job re-summarising whole threads on gpt-4o for a few hours
        of one afternoon: those hours cost SPIKE_FACTOR times a typical hour at that time."""
        rng = self.rng
        customer, feature = CUSTOMERS[1], FEATURES_BY_NAME["summarize"]
        day = self.clock.now - timedelta(days=max(1, round(self.clock.days * 0.3)))
        start = day.replace(hour=13, minute=0, second=0, microsecond=0)
        if start < self.clock.start:
            start = self.clock.start.replace(minute=0, second=0, microsecond=0)
            start += timedelta(hours=1)
        spend: dict[str, float] = {}
        for row in rows:
            spend[row["ts"][:13]] = spend.get(row["ts"][:13], 0.0) + (row["cost"] or 0.0)
        price = self.prices.price(SPIKE_MODEL, iso_ms(start))
        assert price is not None, "the demo price list prices the spike's model"
        made: list[Row] = []
        for hour in range(SPIKE_HOURS):
            hour_start = start + timedelta(hours=hour)
            calls_this_hour = count // SPIKE_HOURS + (1 if hour < count % SPIKE_HOURS else 0)
            # Above every ordinary hour too, so that small demos show one spike, not noise.
            target = max(
                SPIKE_FACTOR * self._typical_spend(spend, hour_start.hour),
                SPIKE_OVER_MAX * max(spend.values(), default=0.0),
            )
            extra = max(target - spend.get(iso_ms(hour_start)[:13], 0.0), 0.25 * target)
            per_call = extra / max(calls_this_hour, 1)
            first_ms = round(hour_start.timestamp() * 1000)
            for _ in range(calls_this_hour):
                stamp = min(first_ms + rng.randrange(HOUR_MS), self.clock.end_ms - 1)
                base = self._base(feature, iso_from_ms(stamp))
                completion = texts.lognormal_int(rng, 380, 0.3)
                wanted = per_call * math.exp(rng.gauss(0.0, 0.12)) * 1_000_000
                prompt_tokens = (wanted - completion * price.output) / price.input
                base.update(
                    model=SPIKE_MODEL,
                    customer=customer,
                    user=self.users[customer][0],
                    params={"temperature": 0.2, "max_tokens": 600},
                    usage=Usage(int(min(max(prompt_tokens, 2000), 120_000)), completion),
                )
                row = self._ok(base)
                row["tags"] = json.dumps({"job": "thread-backfill"})
                made.append(row)
        return made, DemoSpike(
            customer=customer,
            feature=feature.name,
            model=SPIKE_MODEL,
            start=iso_ms(start),
            hours=SPIKE_HOURS,
            calls=len(made),
        )

    @staticmethod
    def _typical_spend(spend: Mapping[str, float], hour_of_day: int) -> float:
        """The median spend of this hour of the day across the window's days."""
        values = [cost for hour, cost in spend.items() if int(hour[11:13]) == hour_of_day]
        return statistics.median(values) if values else 0.01
