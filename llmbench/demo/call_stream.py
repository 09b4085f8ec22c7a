"""The demo's calls in time order, a slice of the month at a time, each slice finished (its
conversations, token details, prompt-cache traffic, deflections; the image call in the last)
before the next is drawn: a build holds one slice in memory, however many calls it makes.

A demo of up to SLICE_CALLS production calls is one slice, drawn exactly as the month all at
once. In a larger one every step works on its slice: the conversations are spread over the
slices by their traffic, the spike is measured against the hours drawn before it, the image
call is the newest of the last slice, and each prompt's consistency day is measured on its first
MAX_EXCHANGES_PER_DAY answers."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.demo import conversations as demo_conversations
from llmbench.demo import media_call as demo_media
from llmbench.demo import prompt_cache_traffic as demo_prompt_cache
from llmbench.demo import token_details as demo_token_details
from llmbench.demo import traffic as demo_traffic
from llmbench.demo.consistency import Consistency
from llmbench.demo.records import DemoClock, DemoPrompt, Progress, iso_from_ms
from llmbench.demo.slices import parts_for, share

Row = dict[str, Any]

# Production calls per slice: a slice's rows (about 3 KB each as dicts) stay well under 100 MB.
SLICE_CALLS = 25_000


class CallStream:
    """Draws the month's production calls and merges the runs' calls into them, in time order."""

    def __init__(
        self,
        seed: int,
        clock: DemoClock,
        prompts: Sequence[DemoPrompt],
        prices: PriceTable,
        run_calls: Sequence[Row],
        production: int,
        *,
        slice_calls: int = SLICE_CALLS,
        progress: Progress | None = None,
    ) -> None:
        self.seed, self.clock, self.prices = seed, clock, prices
        self.docs_prompt = prompts[-1]  # answer-from-docs, the one marking sections cacheable
        self.run_calls = list(run_calls)
        self.production = production
        self.parts = parts_for(production, slice_calls)
        self.traffic = demo_traffic.Traffic(
            random.Random(f"{seed}:calls"), clock, prompts, prices, progress
        )
        self.spike = self.traffic.spike(production)
        self.consistency = Consistency(seed, clock.now)

    def chunks(self) -> Iterator[list[Row]]:
        """The calls in time order, one finished slice at a time (the last holds what is left).
        Consumed once: the steps' streams and the consistency days follow it."""
        conversations = random.Random(f"{self.seed}:conversations")
        token_details = random.Random(f"{self.seed}:token-details")
        media = random.Random(f"{self.seed}:media")
        caches = demo_prompt_cache.Caches()
        carried: list[Row] = []  # retries that landed after their slice's end
        waiting = self.run_calls
        sliced = self.traffic.slices(self.production, self.parts)
        for hours, made in sliced:
            last = hours.end >= len(self.traffic.hour_starts)
            end = iso_from_ms(self.traffic.slice_end_ms(hours))
            runs = waiting if last else [row for row in waiting if row["ts"] < end]
            waiting = [] if last else [row for row in waiting if row["ts"] >= end]
            rows = carried + made + runs
            rows.sort(key=_ts)  # stable: as the month sorted at once
            cut = len(rows) if last else bisect_left(rows, end, key=_ts)
            rows, carried = rows[:cut], rows[cut:]
            # Each step as it ran over the whole month, on this slice, in the same order.
            limit = share(demo_conversations.MAX_CONVERSATIONS, hours)
            demo_conversations.add_conversations(conversations, rows, self.clock, limit)
            demo_token_details.add_token_details(token_details, rows, self.clock, self.prices)
            if last:
                demo_media.add_image_call(media, rows, self.prices)
            demo_prompt_cache.add_docs_prompt(rows, self.docs_prompt, self.prices, caches)
            self.consistency.add(rows)
            yield rows


def _ts(row: Row) -> str:
    return str(row["ts"])
