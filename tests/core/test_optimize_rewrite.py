"""Compression by a model's rewrite (core/optimize/rewrite.py): the request, the strict reading
of the answer, the candidate it makes, and the built-in mock's own rewrite
(builtin_models/prompt_rewrite.py), so the loop runs offline."""

from __future__ import annotations

import json

from llmbench.builtin_models.prompt_rewrite import prompt_rewrite
from llmbench.builtin_models.simulator import simulate
from llmbench.core.models import PromptVersion
from llmbench.core.optimize.candidates import Usage, candidates, rewrite_candidate
from llmbench.core.optimize.rewrite import (
    MARKER,
    read_rewrite,
    requested_sections,
    rewrite_messages,
)


def words(text: str) -> int:  # a token counter whose figures a reader can check by eye
    return len(text.split())


SECTIONS = {
    "role": (
        "In order to help the desk, you sort support tickets at all times. Do your best. "
        "Please be brief."
    ),
    "task": "Ticket: {{ ticket }}{% if urgent %} (urgent){% endif %}",
    "format": "Answer with the category.",
}


def _usage(sections: dict[str, str] = SECTIONS) -> Usage:
    return Usage(
        version=PromptVersion(id=1, prompt_id=1, version=2, sections=dict(sections)),
        model="gpt-4o",
        window_days=30,
        calls=100,
        cost=10.0,
        completion_tokens=[3] * 100,
        answers=["billing"] * 100,
        input_price=2.5,
        output_price=10.0,
        cached_price=None,
        mean_prompt_tokens=120.0,
    )


def test_the_request_carries_the_sections_and_is_known_by_its_marker() -> None:
    messages = rewrite_messages(SECTIONS)
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith(MARKER)
    assert requested_sections(messages) == SECTIONS
    assert requested_sections([{"role": "user", "content": json.dumps(SECTIONS)}]) is None
    assert requested_sections([{"role": "system", "content": "Be brief."}, messages[1]]) is None


def test_a_shorter_rewrite_keeping_the_template_code_is_read() -> None:
    shorter = {**SECTIONS, "role": "Sort support tickets. Be brief."}
    fenced = "```json\n" + json.dumps(shorter) + "\n```"  # a fence is tolerated
    assert read_rewrite(fenced, SECTIONS, words).sections == shorter


def test_a_rewrite_is_refused_with_its_reason() -> None:
    def problem(answer: object) -> str:
        text = answer if isinstance(answer, str) else json.dumps(answer)
        reading = read_rewrite(text, SECTIONS, words)
        assert reading.sections is None
        return reading.problem

    assert problem("Sure! Here is a shorter prompt.") == "the answer is not a JSON object"
    assert "exactly" in problem({"role": "Sort tickets.", "task": SECTIONS["task"]})
    lost_tag = {**SECTIONS, "task": "Ticket: {{ ticket }}"}
    assert problem(lost_tag) == "section 'task' changed its template code"
    renamed = {**SECTIONS, "task": "Ticket: {{ ticket_text }}{% if urgent %} (urgent){% endif %}"}
    assert problem(renamed) == "section 'task' changed its template code"
    assert problem({**SECTIONS, "format": " "}) == "section 'format' was emptied"
    assert problem({**SECTIONS, "format": 3}) == "section 'format' is not text"
    longer = {**SECTIONS, "format": "Answer with the category and nothing else at all."}
    assert problem(longer) == "the rewrite is not shorter"


def test_the_candidate_saves_the_static_tokens_at_the_input_price() -> None:
    shorter = {**SECTIONS, "role": "Sort support tickets. Be brief."}
    found = rewrite_candidate(_usage(), shorter, "llmbench/mock", words)
    assert found is not None and found.kind == "rewrite"
    saved = words(SECTIONS["role"]) - words(shorter["role"])  # 19 - 5 words
    assert saved == 14 and found.title == "rewritten (−14 tokens/call)"
    assert found.sections == shorter and found.params == {}
    assert found.saving_window == 14 * 100 * 2.5 / 1e6
    assert found.projected_monthly == found.saving_window  # a 30-day window is the month
    assert "rewritten by llmbench/mock: role" in found.details


def test_no_candidate_when_the_rewrite_is_what_the_rules_wrote_or_saves_nothing() -> None:
    ruled = next(c for c in candidates(_usage(), words) if c.kind == "compression").sections
    assert rewrite_candidate(_usage(), ruled, "m", words) is None
    assert rewrite_candidate(_usage(), dict(SECTIONS), "m", words) is None


def test_the_mock_rewrites_by_the_rules_and_plain_forms_keeping_template_code() -> None:
    messages = rewrite_messages(SECTIONS)
    answer = prompt_rewrite(messages)
    assert answer is not None
    assert json.loads(answer) == {
        "role": "To help the desk, you sort support tickets always. Be brief.",
        "task": SECTIONS["task"],
        "format": "Answer with the category.",
    }
    assert simulate("llmbench/mock", messages, {}).text == answer  # what the gateway gets
    assert read_rewrite(answer, SECTIONS, words).sections == json.loads(answer)
    assert prompt_rewrite([{"role": "user", "content": "hello"}]) is None
