"""The demo's evaluation side: two datasets, two finished comparison runs whose outputs are
checked for real, and two reviewers' grades on one of them."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Usage
from llmbench.demo import texts
from llmbench.demo.catalog import (
    AGENTS,
    GRADE_NOTES,
    HAIKU,
    REVIEWERS,
    RUBRIC_DESCRIPTION,
    RUBRIC_DIMENSIONS,
    RUBRIC_NAME,
    TICKETS,
)
from llmbench.demo.records import (
    DemoCase,
    DemoCheck,
    DemoClock,
    DemoDataset,
    DemoGrade,
    DemoPrompt,
    DemoResult,
    DemoRubric,
    DemoRun,
    RunSetup,
    iso_ms,
)

CASES_PER_DATASET = 24
DIFFICULTIES = ("easy", "easy", "medium", "medium", "hard")
SUPPORT_FAILURES = ("none", "hallucinated-policy", "missed-detail", "wrong-tone", "too-long")
INVOICE_FAILURES = ("none", "wrong-currency", "missing-field", "invalid-json")
SUPPORT_MAX_CHARS = 480
INVOICE_MAX_CHARS = 400
SIGNATURE = r"— \w+, Northwind Support$"
TOTAL_PATTERN = r'"total": -?\d+(\.\d+)?[,}]'
LONG_OPENER = (
    "I completely understand how frustrating this must be, and I want to start by apologising "
    "for the inconvenience this has caused you and your team. "
)
LONG_CLOSER = (
    " In the meantime, please don't hesitate to reach out if there is anything else at all "
    "that we can help you with, whether related to this issue or anything else in your "
    "Northwind workspace. We truly value your business and appreciate your patience."
)


# -- datasets ------------------------------------------------------------------------------


def datasets(rng: random.Random, clock: DemoClock) -> tuple[DemoDataset, ...]:
    support_cases = []
    for index in range(CASES_PER_DATASET):
        ticket = texts.ticket(rng, index % len(TICKETS))
        support_cases.append(
            DemoCase(
                vars={"customer_name": ticket.name, "reference": ticket.ref, "ticket": ticket.text},
                expected=f"{ticket.reply} — Maria, Northwind Support",
                tags={
                    "task_type": ticket.intent,
                    "difficulty": rng.choice(DIFFICULTIES),
                    "failure_mode": rng.choice(SUPPORT_FAILURES),
                },
                source="manual" if index < 18 else "import",
                created_at=clock.ago_iso(33 - index * 0.05),
            )
        )
    invoice_cases = []
    for index in range(CASES_PER_DATASET):
        credit = index % 6 == 5
        invoice = texts.invoice(rng, clock.ago(30), credit_note=credit)
        if credit:
            task_type, difficulty, failure = "credit-note", "hard", "sign-error"
        else:
            task_type = "invoice" if invoice.currency == "USD" else "multi-currency"
            difficulty, failure = rng.choice(DIFFICULTIES), rng.choice(INVOICE_FAILURES)
        invoice_cases.append(
            DemoCase(
                vars={"document": invoice.document},
                expected=json.dumps(invoice.golden(), ensure_ascii=False),
                tags={"task_type": task_type, "difficulty": difficulty, "failure_mode": failure},
                source="manual",
                created_at=clock.ago_iso(25 - index * 0.05),
            )
        )
    return (
        DemoDataset(
            name="support-tickets",
            description="Inbound tickets with the reply a senior agent wrote.",
            created_at=clock.ago_iso(34),
            cases=tuple(support_cases),
        ),
        DemoDataset(
            name="invoices",
            description="Invoices and credit notes in four currencies, with golden JSON.",
            created_at=clock.ago_iso(26),
            cases=tuple(invoice_cases),
        ),
    )


# -- outputs and their checks --------------------------------------------------------------


def support_output(rng: random.Random, case: DemoCase, quality: float) -> str:
    """A reply that is right with probability `quality`, else has one typical flaw."""
    reply = case.expected.rsplit(" — ", 1)[0]
    signature = f" — {rng.choice(AGENTS)}, Northwind Support"
    if rng.random() < quality:
        return reply + signature
    flaw = rng.choice(("drop_reference", "too_long", "no_signature", "invented_policy"))
    if flaw == "drop_reference":
        return reply.replace(case.vars["reference"], "your request") + signature
    if flaw == "too_long":
        return LONG_OPENER + reply + LONG_CLOSER + signature
    if flaw == "no_signature":
        return reply + " Best regards."
    return reply + " You can also ask for a refund any time in the next 30 days." + signature


def support_checks(case: DemoCase, output: str) -> tuple[DemoCheck, ...]:
    reference = case.vars["reference"]
    found = reference in output
    signed = re.search(SIGNATURE, output) is not None
    return (
        DemoCheck(
            "contains", found, float(found), f"{'found' if found else 'missing'} {reference!r}"
        ),
        _max_length(output, SUPPORT_MAX_CHARS),
        DemoCheck(
            "regex", signed, float(signed), f"/{SIGNATURE}/ {'matched' if signed else 'no match'}"
        ),
    )


def invoice_output(rng: random.Random, case: DemoCase, quality: float) -> str:
    golden = json.loads(case.expected)
    if rng.random() < quality:
        return json.dumps(golden, ensure_ascii=False)
    flaw = rng.choice(("fenced", "string_total", "dropped_sign", "missing_currency"))
    if flaw == "fenced":
        return "```json\n" + json.dumps(golden, ensure_ascii=False) + "\n```"
    if flaw == "string_total":
        golden["total"] = f"{golden['total']:,.2f}"
    elif flaw == "dropped_sign":
        golden["total"] = abs(golden["total"])
    else:
        golden.pop("currency")
    return json.dumps(golden, ensure_ascii=False)


def invoice_checks(case: DemoCase, output: str) -> tuple[DemoCheck, ...]:
    number = json.loads(case.expected)["invoice_number"]
    try:
        is_json = isinstance(json.loads(output), dict)
        json_detail = "an object" if is_json else "JSON, but not an object"
    except ValueError as error:
        is_json, json_detail = False, f"not JSON: {error.args[0]}"
    found = number in output
    numeric_total = re.search(TOTAL_PATTERN, output) is not None
    return (
        DemoCheck("is-json", is_json, float(is_json), json_detail),
        DemoCheck("contains", found, float(found), f"{'found' if found else 'missing'} {number!r}"),
        DemoCheck(
            "regex",
            numeric_total,
            float(numeric_total),
            f"/{TOTAL_PATTERN}/ {'matched' if numeric_total else 'no match'}",
        ),
        _max_length(output, INVOICE_MAX_CHARS),
    )


def _max_length(output: str, limit: int) -> DemoCheck:
    length = len(output)
    return DemoCheck(
        "max-length",
        length <= limit,
        round(min(1.0, limit / max(length, 1)), 3),
        f"{length} chars (limit {limit})",
    )


# -- runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec(RunSetup):
    """A run of the story: what it compares, when, and how good each arm's outputs are."""

    days_ago: float
    checks: tuple[dict[str, Any], ...]
    quality: dict[int, float]  # by version: the chance an output has no flaw
    model_quality: dict[str, float]  # multiplies it
    tokens: tuple[tuple[float, float], tuple[float, float]]  # prompt, completion (median, sigma)
    team: str
    output: Callable[[random.Random, DemoCase, float], str]
    evaluate: Callable[[DemoCase, str], tuple[DemoCheck, ...]]


RUNS: tuple[RunSpec, ...] = (
    RunSpec(
        key="support",
        name="support-reply v2 vs v4 on support-tickets",
        prompt="support-reply",
        dataset="support-tickets",
        versions=(2, 4),
        models=("gpt-4o-mini", HAIKU, "llmbench/mock"),
        days_ago=11.2,
        checks=(
            {"kind": "contains", "value": "{{ reference }}"},
            {"kind": "max-length", "value": SUPPORT_MAX_CHARS},
            {"kind": "regex", "value": SIGNATURE},
        ),
        quality={2: 0.62, 4: 0.85},
        model_quality={"gpt-4o-mini": 1.0, HAIKU: 1.08, "llmbench/mock": 0.7},
        tokens=((520, 0.2), (95, 0.3)),
        team="customer-success",
        output=support_output,
        evaluate=support_checks,
    ),
    RunSpec(
        key="invoices",
        name="extract-invoice v3 vs v4 on invoices",
        prompt="extract-invoice",
        dataset="invoices",
        versions=(3, 4),
        models=("gpt-4o", "gpt-4o-mini", "gemini-1.5-flash"),
        days_ago=5.3,
        checks=(
            {"kind": "is-json"},
            {"kind": "contains", "value": "{{ expected.invoice_number }}"},
            {"kind": "regex", "value": TOTAL_PATTERN},
            {"kind": "max-length", "value": INVOICE_MAX_CHARS},
        ),
        quality={3: 0.8, 4: 0.88},
        model_quality={"gpt-4o": 1.1, "gpt-4o-mini": 0.85, "gemini-1.5-flash": 0.95},
        tokens=((610, 0.15), (70, 0.2)),
        team="finance-ops",
        output=invoice_output,
        evaluate=invoice_checks,
    ),
)


def run_call_count() -> int:
    """How many calls the comparison runs make (one per cell)."""
    return sum(len(run.versions) * len(run.models) * CASES_PER_DATASET for run in RUNS)


def runs(
    rng: random.Random,
    clock: DemoClock,
    prompts: Sequence[DemoPrompt],
    all_datasets: Sequence[DemoDataset],
    prices: PriceTable,
) -> tuple[tuple[DemoRun, ...], list[dict[str, Any]]]:
    """The finished runs and the calls they made (each call's request_id is on its result)."""
    by_prompt = {prompt.name: prompt for prompt in prompts}
    by_dataset = {dataset.name: dataset for dataset in all_datasets}
    made = []
    calls: list[dict[str, Any]] = []
    for spec in RUNS:
        results, run_calls, started, finished = run_cells(
            rng, clock, spec, by_prompt[spec.prompt], by_dataset[spec.dataset], prices
        )
        calls.extend(run_calls)
        made.append(demo_run(spec, results, started, finished))
    return tuple(made), calls


def demo_run(
    spec: RunSpec, results: list[DemoResult], started: datetime, finished: datetime
) -> DemoRun:
    """A finished run of `spec` with its drawn cells, configured as `llmbench` runs are."""
    return DemoRun(
        key=spec.key,
        name=spec.name,
        prompt=spec.prompt,
        dataset=spec.dataset,
        versions=spec.versions,
        models=spec.models,
        config={
            "prompt": spec.prompt,
            "versions": list(spec.versions),
            "models": list(spec.models),
            "dataset": spec.dataset,
            "repeats": 1,
            "concurrency": 4,
            "checks": [dict(check) for check in spec.checks],
        },
        created_at=iso_ms(started),
        finished_at=iso_ms(finished),
        results=tuple(results),
    )


def run_cells(
    rng: random.Random,
    clock: DemoClock,
    spec: RunSpec,
    prompt: DemoPrompt,
    dataset: DemoDataset,
    prices: PriceTable,
) -> tuple[list[DemoResult], list[dict[str, Any]], datetime, datetime]:
    versions = {version.number: version for version in prompt.versions}
    started = clock.ago(spec.days_ago)
    moment = started
    results = []
    calls = []
    for number in spec.versions:
        version = versions[number]
        for model in spec.models:
            quality = min(0.98, spec.quality[number] * spec.model_quality[model])
            for case_index, case in enumerate(dataset.cases):
                output = spec.output(rng, case, quality)
                checks = spec.evaluate(case, output)
                moment += timedelta(milliseconds=rng.randint(300, 2500))
                usage = Usage(
                    prompt_tokens=texts.lognormal_int(rng, *spec.tokens[0]),
                    completion_tokens=texts.lognormal_int(rng, *spec.tokens[1]),
                )
                ttft, latency = texts.timing(rng, model, usage)
                ts = iso_ms(moment)
                call = texts.ok_call(
                    ts=ts,
                    request=texts.request_id(rng),
                    model=model,
                    messages=texts.messages_json(
                        texts.system_text(version.sections),
                        texts.render(version.sections["task"], case.vars),
                    ),
                    params=version.params,
                    response=output,
                    usage=usage,
                    price=prices.price(model, ts),
                    ttft=ttft,
                    latency=latency,
                )
                call.update(
                    prompt_version=(prompt.name, number),
                    run=spec.key,
                    team=spec.team,
                    task_type=case.tags["task_type"],
                    user=version.author,
                    tags=json.dumps({"run": spec.name, "case": case_index + 1}),
                )
                calls.append(call)
                results.append(
                    DemoResult(
                        version=number,
                        model=model,
                        case_index=case_index,
                        request_id=call["request_id"],
                        output=output,
                        status="ok",
                        score=round(sum(check.score for check in checks) / len(checks), 3),
                        checks=checks,
                        created_at=iso_ms(moment + timedelta(milliseconds=latency)),
                    )
                )
    return results, calls, started, moment + timedelta(seconds=3)


# -- rubric and grades ---------------------------------------------------------------------

SHARED_ITEMS = 30  # graded by both reviewers, so agreement can be measured
FIRST_ONLY = 25
SECOND_ONLY = 15
REVIEWER_BIAS: dict[str, Mapping[str, float]] = {
    REVIEWERS[0]: {"tone": 0.2},
    REVIEWERS[1]: {"tone": -0.4, "correctness": -0.2},
}


def rubric(clock: DemoClock) -> DemoRubric:
    return DemoRubric(
        name=RUBRIC_NAME,
        description=RUBRIC_DESCRIPTION,
        dimensions=RUBRIC_DIMENSIONS,
        created_at=clock.ago_iso(14),
    )


def grades(rng: random.Random, run: DemoRun) -> tuple[DemoGrade, ...]:
    """Two reviewers on one run: some items graded by both, some by one of them."""
    order = list(range(len(run.results)))
    rng.shuffle(order)
    shared = order[:SHARED_ITEMS]
    first_only = order[SHARED_ITEMS : SHARED_ITEMS + FIRST_ONLY]
    second_only = order[SHARED_ITEMS + FIRST_ONLY : SHARED_ITEMS + FIRST_ONLY + SECOND_ONLY]
    assignments = [(REVIEWERS[0], index) for index in shared + first_only]
    assignments += [(REVIEWERS[1], index) for index in shared + second_only]
    started = datetime.fromisoformat(run.finished_at.replace("Z", "+00:00")) + timedelta(hours=2)
    made = []
    # What each output deserves: its checks' score plus what checks cannot see (shared by
    # both reviewers, so they agree more often than chance); each reviewer adds bias and noise.
    deserved = {
        index: 1.3
        + 3.0 * result.score
        - (0.7 if result.model == "llmbench/mock" else 0.0)
        + rng.gauss(0.0, 0.6)
        for index, result in enumerate(run.results)
    }
    for position, (reviewer, index) in enumerate(assignments):
        scores = {
            dimension["name"]: _clamp_score(
                deserved[index]
                + REVIEWER_BIAS[reviewer].get(dimension["name"], 0.0)
                + rng.gauss(0.0, 0.55)
            )
            for dimension in RUBRIC_DIMENSIONS
        }
        mean = sum(scores.values()) / len(scores)
        made.append(
            DemoGrade(
                run_key=run.key,
                result_index=index,
                reviewer=reviewer,
                scores=scores,
                verdict="pass" if mean >= 3.5 else "fail",
                note=rng.choice(GRADE_NOTES) if rng.random() < 0.25 else "",
                seconds=round(texts.lognormal(rng, 24.0, 0.5), 1),
                created_at=iso_ms(
                    started + timedelta(minutes=position * 1.1 + rng.uniform(0.0, 0.9))
                ),
            )
        )
    return tuple(made)


def _clamp_score(value: float) -> int:
    return max(1, min(5, round(value)))
