"""The cost optimizer's rules, one candidate kind at a time: the text and params each rule
writes, and the saving it replays from the calls it is given."""

from __future__ import annotations

import json

from llmbench.core.models import Example, PromptVersion
from llmbench.core.optimize import answers
from llmbench.core.optimize.candidates import (
    ModelScore,
    Usage,
    caching_candidate,
    candidates,
    cheaper_model_candidate,
    compression_candidate,
    concise_candidate,
    exact_cache_candidate,
    max_tokens_candidate,
)
from llmbench.core.optimize.compression import compress_sections
from llmbench.core.optimize.replay import Request, monthly, replay_exact_cache


def words(text: str) -> int:  # a token counter whose figures a reader can check by eye
    return len(text.split())


SECTIONS = {
    "role": "You sort support tickets. Please note that the answer is read by a program.",
    "task": "Ticket: {{ ticket }}",
    "format": "Answer with the category.",
}


def _usage(**changes: object) -> Usage:
    base: dict[str, object] = {
        "version": PromptVersion(id=1, prompt_id=1, version=3, sections=dict(SECTIONS)),
        "model": "gpt-4o",
        "window_days": 30,
        "calls": 100,
        "cost": 10.0,
        "completion_tokens": [3] * 98 + [40, 400],
        "answers": ["billing", "refund", "billing", "shipping"] * 25,
        "input_price": 2.5,
        "output_price": 10.0,
        "cached_price": 1.25,
        "mean_prompt_tokens": 120.0,
    }
    base.update(changes)
    return Usage(**base)  # type: ignore[arg-type]


def test_max_tokens_is_p99_plus_margin_with_a_stop_for_labels() -> None:
    found = max_tokens_candidate(_usage())
    assert found is not None
    # p99 (nearest rank) of 100 answers is the 99th: 40 tokens; + max(25%, 8) = 50.
    assert found.params == {"max_tokens": 50, "stop": ["\n"]}
    assert found.sections == SECTIONS
    # Replayed: only the 400-token answer is cut, by 350 tokens at $10 per million.
    assert found.saving_window == 350 * 10.0 / 1_000_000
    assert found.projected_monthly == found.saving_window  # the window is a month


def test_max_tokens_needs_enough_answers_and_no_cap_yet() -> None:
    assert max_tokens_candidate(_usage(completion_tokens=[3] * 10)) is None
    capped = PromptVersion(
        id=1, prompt_id=1, version=3, sections=SECTIONS, params={"max_tokens": 9}
    )
    assert max_tokens_candidate(_usage(version=capped)) is None


def test_json_answers_get_no_stop_sequence() -> None:
    objects = [json.dumps({"name": "Ann", "age": 30})] * 30
    found = max_tokens_candidate(_usage(answers=objects))
    assert found is not None and "stop" not in found.params


def test_concise_for_labels_asks_for_the_label_alone() -> None:
    found = concise_candidate(_usage())
    assert found is not None
    assert found.sections["format"] == (
        "Answer with the category.\n"
        "Answer with one label only (billing, refund, shipping): no explanation, no punctuation."
    )
    assert found.saving_window == 0.0  # a shorter answer's saving is the run's to measure


def test_concise_for_extractions_sends_the_answers_json_schema() -> None:
    objects = [json.dumps({"name": "Ann", "age": 30}), json.dumps({"name": "Bo", "age": None})]
    found = concise_candidate(_usage(answers=objects))
    assert found is not None
    assert found.params["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}},
                "required": ["name", "age"],
            },
        },
    }


def test_free_text_gets_no_concise_candidate() -> None:
    prose = ["Thanks for writing in. Your parcel left our depot this morning."] * 30
    assert answers.answer_shape(prose) == "text"
    assert concise_candidate(_usage(answers=prose)) is None


def test_compression_removes_repeats_boilerplate_and_lead_ins_but_not_template_code() -> None:
    sections = {
        "role": "You sort tickets. Do your best.\nPlease note that tickets may be rude.",
        "task": "Ticket: {{ ticket }}. You sort tickets.",
        "format": "You sort tickets.\nAnswer with the category. Ticket: {{ ticket }}.",
    }
    compressed, removed = compress_sections(sections)
    assert compressed == {
        "role": "You sort tickets.\nTickets may be rude.",
        "task": "Ticket: {{ ticket }}.",
        # A sentence with template code carries the call's values: never removed, even twice.
        "format": "Answer with the category. Ticket: {{ ticket }}.",
    }
    assert len(removed) == 4


def test_compression_saving_is_tokens_per_call_at_the_input_price() -> None:
    found = compression_candidate(_usage(), words)
    assert found is not None
    assert found.sections["role"] == "You sort support tickets. The answer is read by a program."
    # "Please note that" is 3 words; 100 calls at $2.5 per million.
    assert found.details[0] == "3 prompt tokens saved per call"
    assert found.saving_window == 3 * 100 * 2.5 / 1_000_000


def test_compression_drops_examples_dynamic_few_shot_never_selected() -> None:
    pool = (Example("late parcel", "shipping"), Example("weather", "other"))
    version = PromptVersion(
        id=1, prompt_id=1, version=3, sections={"task": "{{ ticket }}"}, examples=pool, few_shot_k=1
    )
    found = compression_candidate(_usage(version=version, example_uses=[12, 0]), words)
    assert found is not None
    assert found.examples == pool[:1]
    assert found.saving_window == 0.0  # an example never selected was never sent
    whole = PromptVersion(id=1, prompt_id=1, version=3, sections={"task": "{{ t }}"}, examples=pool)
    assert compression_candidate(_usage(version=whole, example_uses=[12, 0]), words) is None


def test_cheaper_model_is_the_cheapest_that_held_its_pass_rate() -> None:
    scores = [
        ModelScore("gpt-4o", 20, 18, 0.010),
        ModelScore("gpt-4o-mini", 20, 18, 0.001),
        ModelScore("tiny", 20, 10, 0.0001),  # cheaper still, but it failed more
    ]
    found = cheaper_model_candidate(_usage(model_scores=scores))
    assert found is not None
    assert (found.model, found.canary_weight, found.sections) == ("gpt-4o-mini", 10.0, {})
    assert found.saving_window == 10.0 * (1 - 0.001 / 0.010)


def test_caching_marks_the_sections_without_template_code() -> None:
    found = caching_candidate(_usage(), words)
    assert found is not None
    assert found.cacheable == ("role", "format")
    static = words(SECTIONS["role"] + "\n" + SECTIONS["format"])
    assert found.saving_window == static * 100 * (2.5 - 1.25) / 1_000_000


def test_exact_cache_replays_hits_over_the_window() -> None:
    requests = [
        Request("2025-06-01T00:00:00Z", "a", 0.01),
        Request("2025-06-01T00:05:00Z", "a", 0.01),
        Request("2025-06-02T00:00:00Z", "b", 0.02),
        Request("2025-06-03T00:00:00Z", "a", 0.01),
    ]
    replay = replay_exact_cache(requests)
    assert (replay.hits, replay.calls, round(replay.saved, 6)) == (2, 4, 0.02)
    assert replay_exact_cache(requests, ttl_s=3600).hits == 1  # the day-later repeat expired
    found = exact_cache_candidate(_usage(requests=requests, window_days=15))
    assert found is not None and found.hit_rate == 0.5
    assert found.projected_monthly == monthly(replay.saved, 15) == replay.saved * 2
    assert not found.testable


def test_exact_cache_keeps_an_answer_as_long_as_the_gateways_cache() -> None:
    requests = [
        Request("2025-06-01T00:00:00Z", "a", 0.01),
        Request("2025-06-01T02:00:00Z", "a", 0.01),  # a resend two hours later: a hit
        Request("2025-06-02T06:00:00Z", "a", 0.01),  # 30 hours after the answer: expired
        Request("2025-06-02T07:00:00Z", "a", 0.01),  # an hour after that one's answer: a hit
    ]
    found = exact_cache_candidate(_usage(requests=requests, cache_ttl_s=86_400))
    assert found is not None
    assert (found.hit_rate, found.saving_window) == (0.5, 0.02)
    assert found.details == ("2 of 4 calls repeated an earlier request within the cache's 24 h",)
    forever = exact_cache_candidate(_usage(requests=requests))
    assert forever is not None and forever.saving_window == 0.03  # no TTL: every repeat


def test_candidates_come_in_kind_order() -> None:
    kinds = [candidate.kind for candidate in candidates(_usage(), words)]
    assert kinds == ["max_tokens", "concise", "compression", "caching"]


def test_a_json_field_of_few_short_values_is_an_enum() -> None:
    objects = [
        json.dumps({"sentiment": mood, "note": f"customer {n} wrote at length about it"})
        for n, mood in enumerate(["negative", "positive", "negative", "neutral"] * 5)
    ]
    schema = answers.json_schema_of(objects)
    assert schema["properties"]["sentiment"] == {
        "type": "string",
        "enum": ["negative", "neutral", "positive"],
    }
    assert schema["properties"]["note"] == {"type": "string"}  # 20 distinct sentences


def test_text_with_nothing_to_remove_is_no_candidate() -> None:
    tidy = {"role": "You sort tickets.  Two spaces stay.", "task": "Ticket: {{ ticket }}"}
    version = PromptVersion(id=1, prompt_id=1, version=3, sections=tidy)
    assert compress_sections(tidy) == (tidy, [])
    assert compression_candidate(_usage(version=version), words) is None
