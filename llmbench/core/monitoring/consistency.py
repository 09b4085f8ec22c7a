"""Consistency of production answers: similar queries whose answers diverge.

A user who asks "how do I reset my password?" on Monday and "how can I reset my password" on
Tuesday should get the same answer. For one prompt and one day, every pair of queries that are
lexical neighbours (Jaccard similarity of their normalised token sets at or above a threshold)
is a comparison; a pair *diverges* when its answers are far apart (cosine of their token counts
below a threshold) or contradict each other's figures (the queries name the same numbers, the
answers name different ones: "5 business days" against "30 days"). The day's consistency figure
is the share of neighbour pairs that diverge.

Finding the pairs must not look at all n² pairs of a day of many thousands of calls. This uses
prefix filtering (Chaudhuri et al. 2006; Bayardo et al.'s All-Pairs, 2007), which is exact for
Jaccard: with tokens ordered rarest first, two sets with similarity ≥ t always share a token
among the first |x| - ⌈t·|x|⌉ + 1 of each. Only those prefix tokens are indexed, and rare tokens
have short posting lists. A query asked thousands of times a day (one FAQ) would still make a
long list: each query is compared with at most `max_candidates` earlier queries of one posting
list (the most recent), which bounds the work at O(n · prefix · max_candidates) and keeps the
share an unbiased sample of such a group's pairs.

Templated prompts send the same instructions around every query: tokens found in at least
`template_share` of a day's queries are the template's, not the user's, and are left out before
comparing (else every pair of a templated prompt looks alike).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# Words that carry no topic: English function words and the politeness around a question.
_STOPWORD_TEXT = """a an and are as at be been but by can could did do does for from had has
have hello hi how i if in into is it its me my of on or our please so that the their them then
there these they this to was we were what when where which who why will with would you your
thanks thank hey just quick question"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokens(text: str) -> list[str]:
    """Lower-cased words without stopwords, with a plural 's' taken off (so 'invoices' meets
    'invoice'); numbers are kept, they often are what a query is about."""
    found = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.append(word)
    return found


def numbers(text: str) -> frozenset[str]:
    return frozenset(match.replace(",", ".") for match in _NUMBER.findall(text))


@dataclass(frozen=True)
class Exchange:
    """One production call as consistency sees it."""

    key: int  # the call's id
    query: str
    answer: str


@dataclass(frozen=True)
class ConsistencySettings:
    query_threshold: float = 0.6
    """Jaccard similarity of two queries' token sets from which they are neighbours."""
    answer_threshold: float = 0.3
    """Cosine similarity of two answers below which they disagree."""
    template_share: float = 0.8
    """A token in at least this share of a day's queries is the prompt's template's."""
    min_template_queries: int = 10
    """...judged only on days with this many queries or more."""
    max_candidates: int = 50
    """Earlier queries one query is compared with per token of its prefix, at most."""
    examples: int = 3
    """Divergent pairs kept as examples (the least similar answers)."""


@dataclass(frozen=True)
class Pair:
    first: int  # index into the exchanges
    second: int
    query_similarity: float
    answer_similarity: float
    divergent: bool


@dataclass(frozen=True)
class DayConsistency:
    calls: int
    pairs: int
    divergent: int
    examples: tuple[tuple[int, int], ...]
    """Call ids of the most divergent pairs, worst first."""

    @property
    def share(self) -> float | None:
        return self.divergent / self.pairs if self.pairs else None


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)


def cosine_counts(first: Counter[str], second: Counter[str]) -> float:
    if not first or not second:
        return 1.0 if not first and not second else 0.0
    small, large = (first, second) if len(first) <= len(second) else (second, first)
    dot = sum(count * large[word] for word, count in small.items() if word in large)
    norm = math.sqrt(sum(v * v for v in first.values()) * sum(v * v for v in second.values()))
    return dot / norm


def query_sets(queries: Sequence[str], settings: ConsistencySettings) -> list[frozenset[str]]:
    """Each query's token set, without the template's tokens (see the module's doc)."""
    sets = [frozenset(tokens(query)) for query in queries]
    if len(sets) < settings.min_template_queries:
        return sets
    frequency: Counter[str] = Counter(word for query in sets for word in query)
    floor = settings.template_share * len(sets)
    template = {word for word, count in frequency.items() if count >= floor}
    return [query - template for query in sets] if template else sets


def neighbour_pairs(
    sets: Sequence[frozenset[str]], threshold: float, max_candidates: int = 50
) -> list[tuple[int, int, float]]:
    """(i, j, similarity) with i < j for every pair of sets whose Jaccard similarity is at
    least `threshold` (0 < threshold ≤ 1), found by prefix filtering (see the module's doc);
    very long posting lists are cut to their last `max_candidates` entries."""
    if not 0 < threshold <= 1:
        raise ValueError(f"the threshold is a similarity in (0, 1], not {threshold}")
    frequency: Counter[str] = Counter(word for item in sets for word in item)
    # Rarest first; the word itself breaks ties so the order is the same in every process.
    ordered = [sorted(item, key=lambda word: (frequency[word], word)) for item in sets]
    sizes = [len(item) for item in sets]
    index: dict[str, list[int]] = {}
    found: list[tuple[int, int, float]] = []
    floor = threshold - 1e-9
    for current, words in enumerate(ordered):
        size = sizes[current]
        if not size:
            continue
        mine = sets[current]
        prefix = size - math.ceil(threshold * size - 1e-9) + 1
        # The size filter: a set much smaller or larger cannot reach the threshold.
        smallest, largest = threshold * size - 1e-9, size / threshold + 1e-9
        seen: set[int] = set()
        for word in words[:prefix]:
            postings = index.get(word)
            if postings is None:
                index[word] = [current]
                continue
            for other in postings[-max_candidates:]:
                if other in seen:
                    continue
                seen.add(other)
                other_size = sizes[other]
                if other_size < smallest or other_size > largest:
                    continue
                shared = len(mine & sets[other])
                similarity = shared / (size + other_size - shared)
                if similarity >= floor:
                    found.append((other, current, similarity))
            postings.append(current)
    return found


def answers_diverge(
    first: Exchange, second: Exchange, similarity: float, settings: ConsistencySettings
) -> bool:
    """Far apart in words, or the same figures asked about and different figures answered."""
    return similarity < settings.answer_threshold or _figures_differ(
        (numbers(first.query), numbers(first.answer)),
        (numbers(second.query), numbers(second.answer)),
    )


def _figures_differ(
    first: tuple[frozenset[str], frozenset[str]], second: tuple[frozenset[str], frozenset[str]]
) -> bool:
    """(figures asked, figures answered) of two calls: the same asked, different answered.
    Different figures asked (two order numbers) make different figures answered right."""
    if first[0] != second[0]:
        return False
    return bool(first[1] and second[1]) and first[1] != second[1]


def compare_day(
    exchanges: Sequence[Exchange], settings: ConsistencySettings | None = None
) -> tuple[DayConsistency, list[Pair]]:
    """One prompt's calls of one day: the figure, and every neighbour pair compared."""
    settings = settings or ConsistencySettings()
    sets = query_sets([exchange.query for exchange in exchanges], settings)
    found = neighbour_pairs(sets, settings.query_threshold, settings.max_candidates)
    # Each answer's words and each call's figures, worked out once however many pairs it is in.
    answers: dict[int, Counter[str]] = {}
    figures: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def counts(position: int) -> Counter[str]:
        if position not in answers:
            answers[position] = Counter(tokens(exchanges[position].answer))
        return answers[position]

    def figured(position: int) -> tuple[frozenset[str], frozenset[str]]:
        if position not in figures:
            exchange = exchanges[position]
            figures[position] = (numbers(exchange.query), numbers(exchange.answer))
        return figures[position]

    pairs = []
    for first, second, query_similarity in found:
        similarity = cosine_counts(counts(first), counts(second))
        divergent = similarity < settings.answer_threshold or _figures_differ(
            figured(first), figured(second)
        )
        pairs.append(Pair(first, second, query_similarity, similarity, divergent))
    worst = sorted(
        (pair for pair in pairs if pair.divergent),
        key=lambda pair: (pair.answer_similarity, exchanges[pair.first].key),
    )[: settings.examples]
    day = DayConsistency(
        calls=len(exchanges),
        pairs=len(pairs),
        divergent=sum(pair.divergent for pair in pairs),
        examples=tuple((exchanges[p.first].key, exchanges[p.second].key) for p in worst),
    )
    return day, pairs


def share_series(
    days: Iterable[tuple[str, DayConsistency]], min_pairs: int
) -> list[tuple[str, float]]:
    """(day, divergent share) for the days with at least `min_pairs` neighbour pairs: a share
    of three pairs is noise, not a level, and drift detection would read it as one."""
    return [(label, day.divergent / day.pairs) for label, day in days if day.pairs >= min_pairs]
