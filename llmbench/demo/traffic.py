"""A month of production calls: features, teams, power-law customers, daily and weekly
seasonality, errors, rate limits with retries, timeouts with fallbacks, cache hits, prompt
caching, a few injection attempts and one cost incident.

The traffic's fixed shape is in traffic_mix, what a request says in request_texts and the rows
its outcome writes in call_rows; this module draws the requests, in one seeded stream."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Usage
from llmbench.demo import texts
from llmbench.demo.call_rows import CallRows, Row
from llmbench.demo.catalog import CUSTOMERS, INJECTION_REFUSAL, INJECTIONS
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
from llmbench.demo.request_texts import request_texts
from llmbench.demo.slices import HourSlice, hour_slices, share
from llmbench.demo.traffic_mix import (
    CACHE_HIT_RATE,
    ERROR_RATE,
    FEATURES,
    FEATURES_BY_NAME,
    HOUR_MS,
    INJECTION_EVERY,
    RATE_LIMIT_RATE,
    SPIKE_FACTOR,
    SPIKE_HOURS,
    SPIKE_MODEL,
    SPIKE_OVER_MAX,
    SPIKE_SHARE,
    STAGING_SHARE,
    TIMEOUT_RATE,
    VERSION_MODEL_SHARE,
    Feature,
    season_weight,
)


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
        self.outcomes = CallRows(rng, clock, prices)
        self.spend: dict[str, float] = {}  # per clock hour ('YYYY-MM-DDTHH'), of the calls drawn
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

    def timestamps(self, count: int, hours: HourSlice | None = None) -> list[int]:
        """`count` moments (epoch ms) drawn with the window's seasonality, in draw order, from
        the slice's hours (the whole window when None)."""
        starts, cumulative = self.hour_starts, self.hour_cum
        if hours is not None and (hours.first, hours.end) != (0, len(starts)):
            base = self.hour_cum[hours.first - 1] if hours.first else 0.0
            starts = starts[hours.first : hours.end]
            cumulative = [weight - base for weight in self.hour_cum[hours.first : hours.end]]
        picked = self.rng.choices(starts, cum_weights=cumulative, k=count)
        stamps = []
        for start in picked:
            low = max(start, self.clock.start_ms)
            high = min(start + HOUR_MS, self.clock.end_ms)
            stamps.append(low + self.rng.randrange(high - low))
        return stamps

    def slice_end_ms(self, hours: HourSlice) -> int:
        """Where a slice's hours end (epoch ms): its calls are before it, bar a retry's."""
        if hours.end >= len(self.hour_starts):
            return self.clock.end_ms
        return self.hour_starts[hours.end]

    # -- the whole month, a slice at a time ---------------------------------------------------
    def counts(self, count: int) -> tuple[int, int]:
        """(spike calls, injection attempts) of a month of `count` calls."""
        spike_count = 0 if count < 100 else max(6, round(count * SPIKE_SHARE))
        injection_count = 0 if count < 100 else 3 + count // INJECTION_EVERY
        return spike_count, injection_count

    def slices(self, count: int, parts: int) -> Iterator[tuple[HourSlice, list[Row]]]:
        """Exactly `count` calls (a retry counts as a call) in about `parts` slices of hours, in
        time order of the slices and no particular order inside one. One slice draws the month
        as a whole (the spike measured against every hour); later slices measure it against
        the hours drawn so far."""
        spike_count, injection_count = self.counts(count)
        ordinary = count - spike_count - injection_count
        self.spend = {}
        done = injections = 0
        for hours in hour_slices(self.hour_cum, parts):
            stamps = self.timestamps(share(ordinary, hours), hours)
            rows: list[Row] = []
            index = 0
            while index < len(stamps):
                made = self._request(stamps[index], retry_allowed=index + 1 < len(stamps))
                rows.extend(made)
                index += len(made)  # a retry uses up the next stamp, so the count stays exact
                if self.progress and (done + len(rows)) % 1000 < len(made):
                    self.progress(done + len(rows), count)
            for stamp in self.timestamps(share(injection_count, hours), hours):
                rows.append(self._injection(stamp, blocked=injections % 2 == 0))
                injections += 1
            for row in rows:
                self.spend[row["ts"][:13]] = self.spend.get(row["ts"][:13], 0.0) + (
                    row["cost"] or 0.0
                )
            if spike_count:
                rows.extend(self._spike(spike_count, hours))
            done += len(rows)
            if self.progress:
                self.progress(done, count)
            yield hours, rows

    # -- one request ------------------------------------------------------------------------
    def _request(self, stamp: int, *, retry_allowed: bool) -> list[Row]:
        feature = self.rng.choices(FEATURES, cum_weights=self.feature_cum)[0]
        base = self._base(feature, iso_from_ms(stamp))
        roll = self.rng.random()
        if feature.has_customer and roll < CACHE_HIT_RATE:
            return [self.outcomes.cache_hit(base)]
        roll -= CACHE_HIT_RATE
        if retry_allowed and roll < RATE_LIMIT_RATE:
            return self.outcomes.rate_limited(base, stamp)
        roll -= RATE_LIMIT_RATE
        if roll < ERROR_RATE:
            return [self.outcomes.error(base)]
        roll -= ERROR_RATE
        if retry_allowed and roll < TIMEOUT_RATE:
            return self.outcomes.timeout(base, stamp)
        return [self.outcomes.ok(base)]

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
        system, user, response, task_type = request_texts(rng, self.clock, feature, sections, model)
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
            return self.outcomes.row(
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
        row = self.outcomes.ok({**base, "response": INJECTION_REFUSAL})
        row.update(guard_flags=flags, flagged=1)
        return row

    # -- the incident -----------------------------------------------------------------------
    def _spike_start(self) -> datetime:
        day = self.clock.now - timedelta(days=max(1, round(self.clock.days * 0.3)))
        start = day.replace(hour=13, minute=0, second=0, microsecond=0)
        if start < self.clock.start:
            start = self.clock.start.replace(minute=0, second=0, microsecond=0)
            start += timedelta(hours=1)
        return start

    def spike(self, count: int) -> DemoSpike | None:
        """Where the incident of a month of `count` calls is."""
        spike_count, _ = self.counts(count)
        if not spike_count:
            return None
        return DemoSpike(
            customer=CUSTOMERS[1],
            feature="summarize",
            model=SPIKE_MODEL,
            start=iso_ms(self._spike_start()),
            hours=SPIKE_HOURS,
            calls=spike_count,
        )

    def _spike(self, count: int, hours: HourSlice) -> list[Row]:
        """One customer's backfill job re-summarising whole threads on gpt-4o for a few hours
        of one afternoon: those hours cost SPIKE_FACTOR times a typical hour at that time (of
        the spend drawn so far). The spike's hours that fall in this slice."""
        rng = self.rng
        customer, feature = CUSTOMERS[1], FEATURES_BY_NAME["summarize"]
        start = self._spike_start()
        spend = self.spend
        price = self.prices.price(SPIKE_MODEL, iso_ms(start))
        assert price is not None, "the demo price list prices the spike's model"
        # The first slice takes what lies before its hours, the last what lies after them.
        low = self.hour_starts[hours.first] if hours.first else -math.inf
        high = self.slice_end_ms(hours) if hours.end < len(self.hour_starts) else math.inf
        made: list[Row] = []
        for hour in range(SPIKE_HOURS):
            hour_start = start + timedelta(hours=hour)
            first_ms = round(hour_start.timestamp() * 1000)
            if not low <= first_ms < high:
                continue
            calls_this_hour = count // SPIKE_HOURS + (1 if hour < count % SPIKE_HOURS else 0)
            # Above every ordinary hour too, so that small demos show one spike, not noise.
            target = max(
                SPIKE_FACTOR * self._typical_spend(spend, hour_start.hour),
                SPIKE_OVER_MAX * max(spend.values(), default=0.0),
            )
            extra = max(target - spend.get(iso_ms(hour_start)[:13], 0.0), 0.25 * target)
            per_call = extra / max(calls_this_hour, 1)
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
                row = self.outcomes.ok(base)
                row["tags"] = json.dumps({"job": "thread-backfill"})
                made.append(row)
        return made

    @staticmethod
    def _typical_spend(spend: Mapping[str, float], hour_of_day: int) -> float:
        """The median spend of this hour of the day across the window's days."""
        values = [cost for hour, cost in spend.items() if int(hour[11:13]) == hour_of_day]
        return statistics.median(values) if values else 0.01
