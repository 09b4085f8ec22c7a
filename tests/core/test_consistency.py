"""Production consistency: similar support questions are paired (and unrelated ones are not),
diverging answers are told from paraphrases, a prompt's template does not make every pair
alike, and prefix filtering finds exactly the pairs that comparing all of them finds."""

from __future__ import annotations

import itertools
import random

import pytest

from llmbench.core.monitoring.consistency import (
    ConsistencySettings,
    DayConsistency,
    Exchange,
    compare_day,
    jaccard,
    neighbour_pairs,
    query_sets,
    share_series,
    tokens,
)

RESET = "Settings → Security → Reset password: we email you a link that works for 30 minutes."
RESET_AGAIN = (
    "Open Settings, then Security, and click Reset password; the emailed link lasts 30 minutes."
)
REFUSAL = "Sorry, I can't help with account questions. Please ask your administrator."


def _day(pairs: list[tuple[str, str]]) -> list[Exchange]:
    return [Exchange(100 + n, query, answer) for n, (query, answer) in enumerate(pairs)]


def test_paraphrased_questions_are_neighbours_and_other_questions_are_not() -> None:
    day = _day(
        [
            ("How do I reset my password?", RESET),
            ("hi! how can I reset my password please", RESET_AGAIN),
            ("Where do I download my invoices?", "Billing → Invoices → Download PDF."),
            ("How do I download an invoice?", "Billing → Invoices → Download PDF."),
            ("Can I change the billing email?", "Yes: Billing → Contacts."),
        ]
    )
    figure, pairs = compare_day(day)
    found = {(day[p.first].key, day[p.second].key) for p in pairs}
    assert found == {(100, 101), (102, 103)}
    assert figure == DayConsistency(calls=5, pairs=2, divergent=0, examples=())
    assert figure.share == 0.0


def test_a_refusal_and_contradicting_figures_diverge_but_different_orders_do_not() -> None:
    day = _day(
        [
            ("How do I reset my password?", RESET),
            ("how do I reset my password", REFUSAL),
            ("How long does a refund take?", "Refunds reach your card within 5 business days."),
            ("how long does a refund take", "Refunds reach your card within 30 business days."),
            ("Where is order 41877?", "Order 41877 ships on Monday."),
            ("Where is order 52210?", "Order 52210 ships on Monday."),
        ]
    )
    figure, pairs = compare_day(day)
    verdicts = {(day[p.first].key, day[p.second].key): p.divergent for p in pairs}
    assert verdicts[(100, 101)] is True  # a refusal against the answer
    assert verdicts[(102, 103)] is True  # same question, different figures
    # Different order numbers asked: the two queries are not even neighbours at 0.6 (the
    # numbers are what they are about), and were they paired, other figures would be right.
    assert (104, 105) not in verdicts
    assert figure.pairs == 2 and figure.divergent == 2
    assert figure.examples[0] == (100, 101)  # the least similar answers first


def test_the_template_around_every_query_is_left_out() -> None:
    template = (
        "You triage support tickets for Northwind. Classify the intent of the ticket below as "
        "billing, bug, account or other, with a confidence between 0 and 1. Reply with JSON "
        "only, no prose. Ticket: {}"
    )
    asks = [
        "my invoice shows the wrong VAT number",
        "the mobile app crashes on login",
        "please cancel my subscription today",
        "I was charged twice this month",
        "how do I add a teammate",
    ]
    queries = [template.format(asks[n % len(asks)] + f" #{n}") for n in range(40)]
    sets = query_sets(queries, ConsistencySettings())
    assert all("classify" not in item and "ticket" not in item for item in sets)
    assert "invoice" in sets[0] and "crashe" in sets[1]
    # Without the filter every pair of the day would look alike (the template dominates).
    raw = [frozenset(tokens(query)) for query in queries]
    assert jaccard(raw[0], raw[1]) > 0.6 > jaccard(sets[0], sets[1])
    assert jaccard(sets[0], sets[5]) >= 0.6  # the same ask, another ticket number


@pytest.mark.parametrize("threshold", [0.4, 0.6, 0.8, 1.0])
def test_prefix_filtering_finds_exactly_the_pairs_of_all_pairs(threshold: float) -> None:
    rng = random.Random(threshold)
    words = [f"w{n}" for n in range(60)]
    sets = [
        frozenset(rng.sample(words[: rng.randint(8, 60)], rng.randint(1, 7))) for _ in range(400)
    ]
    brute = {
        (i, j)
        for i, j in itertools.combinations(range(len(sets)), 2)
        if sets[i] and sets[j] and jaccard(sets[i], sets[j]) >= threshold
    }
    found = neighbour_pairs(sets, threshold, max_candidates=len(sets))
    assert {(i, j) for i, j, _ in found} == brute
    assert all(similarity == jaccard(sets[i], sets[j]) for i, j, similarity in found)


def test_a_question_asked_thousands_of_times_is_compared_a_bounded_number_of_times() -> None:
    sets = [frozenset({"reset", "password"})] * 3000
    found = neighbour_pairs(sets, 0.6, max_candidates=20)
    assert len(found) <= 3000 * 20 and len(found) >= 2999
    assert len({j for _i, j, _s in found}) == 2999  # every later call is compared


def test_a_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        neighbour_pairs([frozenset({"a"})], 0.0)


def test_days_with_too_few_pairs_are_left_out_of_the_series() -> None:
    days = [
        ("2026-11-01", DayConsistency(100, 40, 2, ())),
        ("2026-11-02", DayConsistency(10, 3, 3, ())),
        ("2026-11-03", DayConsistency(90, 25, 5, ())),
    ]
    assert share_series(days, min_pairs=20) == [("2026-11-01", 0.05), ("2026-11-03", 0.2)]
