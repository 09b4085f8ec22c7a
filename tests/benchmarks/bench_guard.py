"""Measured quality and cost of the input guard, and the cost of the output guard.

Run: python tests/benchmarks/bench_guard.py [--runs 200] [--show-errors train] [--no-cost]
     [--weights PATH]  (a variant's weights from scripts/train_guard.py --out PATH)

Quality, on tests/benchmarks/guard/corpus.jsonl.gz (built by scripts/guard_data/build_corpus.py;
manifest.json beside it names every source, version, licence and count). Every row belongs to a
*family* (a source, or a part of one with its own provenance), and every family is wholly in
the "train" or the "heldout" split: the classifier was fitted, and the score calibrated, on
train families only (scripts/train_guard.py), so the held-out figures are for kinds of attack
and of ordinary text it never saw. Reported for the held-out split:

- recall (with its 95% Wilson interval) and false-positive rate at the default threshold, per
  family, per language, and for the non-English rows pooled;
- the false-positive rate on hard negatives: benign rows that use an attack's vocabulary
  (HARD_NEGATIVE below: "ignore", "instructions", "system prompt", "act as", "pretend", ...);
- recall at the thresholds that give 1%, 2% and 5% false positives on the held-out benign rows
  (what the ranking can do; those thresholds are read off the held-out rows, the default is not);
- the same at the default threshold for the rules alone and the classifier alone.

The train split's figures are printed too, marked in-sample. `--show-errors train` lists the
train split's errors; the held-out split's are never printed, so no one tunes on them.

Cost: p50/p99 over --runs of the input guard (scan_text) on a typical ~2 KB request and on a
32 KB one (both benign text with the words that wake the rules up, the realistic worst case),
on a 32 KB adversarial run of base64-like characters, and of the output guard (check_output)
on a 2 KB and a 32 KB answer with a 2 KB system prompt to compare against; and the gateway's
whole guard step (gateway_input_2kb, gateway_output_2kb: policy, flags and redaction included).

Prints JSON. Goals: held-out recall ≥ 0.9 at ≤ 2% false positives on benign rows (≤ 5% on hard
negatives); ≤ 1 ms p50 on 2 KB; p99 ≤ 50 ms on 32 KB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "guard" / "corpus.jsonl.gz"
HARD_NEGATIVE = re.compile(
    r"ignor|disregard|forget|instruction|system prompt|previous|pretend|act as|act like|"
    r"you are|role|jailbreak|developer mode|override|bypass|reveal|password|secret|prompt|"
    r"injection|rules",
    re.IGNORECASE,
)


def load_rows() -> list[dict[str, Any]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def score_rows(rows: list[dict[str, Any]]) -> None:
    from llmbench.core.guard.input_guard import scan_text

    for row in rows:
        report = scan_text(row["text"])
        row["score"] = report.score
        row["flagged"] = report.injection
        row["rules_only"] = report.rule_score >= 0.5
        row["classifier_only"] = report.classifier_score >= 0.5
        row["rules"] = sorted({finding.rule for finding in report.findings})
        row["hard"] = row["label"] == "benign" and bool(HARD_NEGATIVE.search(row["text"]))


def figures(subset: list[dict[str, Any]], key: str = "flagged") -> dict[str, Any]:
    attacks = [row for row in subset if row["label"] == "malicious"]
    benign = [row for row in subset if row["label"] == "benign"]
    caught = sum(row[key] for row in attacks)
    alarms = sum(row[key] for row in benign)
    result: dict[str, Any] = {"attacks": len(attacks), "benign": len(benign)}
    if attacks:
        result["recall"] = round(caught / len(attacks), 3)
        # With 1-9 attacks a language's recall says little: the interval shows how little.
        result["recall_95ci"] = wilson(caught, len(attacks))
    if benign:
        result["false_positive_rate"] = round(alarms / len(benign), 3)
    return result


def wilson(successes: int, trials: int, z: float = 1.96) -> list[float]:
    """The Wilson score interval of a proportion (95% by default)."""
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    spread /= 1 + z * z / trials
    return [round(max(0.0, centre - spread), 3), round(min(1.0, centre + spread), 3)]


def at_false_positive_rate(subset: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    """The threshold that flags at most `rate` of the benign rows, and the recall there."""
    benign = sorted((row["score"] for row in subset if row["label"] == "benign"), reverse=True)
    allowed = int(len(benign) * rate)
    threshold = benign[allowed] + 1e-9 if allowed < len(benign) else 0.0
    attacks = [row for row in subset if row["label"] == "malicious"]
    caught = sum(row["score"] >= threshold for row in attacks)
    return {
        "threshold": round(threshold, 4),
        "recall": round(caught / len(attacks), 3) if attacks else None,
        "false_positive_rate": round(sum(score >= threshold for score in benign) / len(benign), 3),
    }


def quality(rows: list[dict[str, Any]]) -> dict[str, Any]:
    score_rows(rows)
    heldout = [row for row in rows if row["split"] == "heldout"]
    hard = [row for row in heldout if row["hard"]]
    by = lambda key: {  # noqa: E731
        value: figures([row for row in heldout if row[key] == value])
        for value in sorted({row[key] for row in heldout})
    }
    return {
        "heldout": {
            **figures(heldout),
            "hard_negatives": figures(hard),
            "at_1pct_fpr": at_false_positive_rate(heldout, 0.01),
            "at_2pct_fpr": at_false_positive_rate(heldout, 0.02),  # the goal's operating point
            "at_5pct_fpr": at_false_positive_rate(heldout, 0.05),
            "rules_only": figures(heldout, "rules_only"),
            "classifier_only": figures(heldout, "classifier_only"),
            "by_family": by("family"),
            "by_language": by("lang"),
            # The non-English rows pooled: per language there are too few attacks to read.
            "non_english": figures([row for row in heldout if row["lang"] != "en"]),
        },
        "train_in_sample": figures([row for row in rows if row["split"] == "train"]),
    }


def timings(function: Callable[[], object], runs: int) -> dict[str, float]:
    """Wall-clock and this thread's CPU time per call. On a shared machine the wall-clock
    tail measures the neighbours as much as the guard; CPU time is what the guard costs."""
    function()  # warm caches (fold table, compiled rules, token encodings)
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        function()
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {**_percentiles("wall", wall), **_percentiles("cpu", cpu)}


def _percentiles(name: str, samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        f"{name}_p50_ms": round(statistics.median(samples), 3),
        f"{name}_p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
    }


def sample_text(rows: list[dict[str, Any]], size: int) -> str:
    benign = [row["text"] for row in rows if row["family"] == "llmbench-benign"]
    pieces: list[str] = []
    total = 0
    index = 0
    while total < size:
        piece = benign[index % len(benign)]
        pieces.append(piece)
        total += len(piece) + 2
        index += 7  # a spread of categories, not one run of support tickets
    return "\n\n".join(pieces)[:size]


def cost(rows: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    from llmbench.core.guard.input_guard import scan_text
    from llmbench.core.guard.output_guard import check_output

    two_kb, thirty_two_kb = sample_text(rows, 2048), sample_text(rows, 32768)
    adversarial = ("QWxhZGRpbjpvcGVuIHNlc2FtZQ" * 1300)[:32768]
    system_prompt = {"role": sample_text(rows[::-1], 2048)}  # other rows, reversed order
    answer_2kb = two_kb + " Contact jane.doe@example.com or +1 415 555 0100."
    return {
        "input_2kb": timings(lambda: scan_text(two_kb), runs),
        "input_32kb": timings(lambda: scan_text(thirty_two_kb), runs),
        "input_32kb_adversarial_base64": timings(lambda: scan_text(adversarial), max(runs // 4, 5)),
        "output_2kb": timings(
            lambda: check_output(answer_2kb, static_sections=system_prompt), runs
        ),
        "output_32kb": timings(
            lambda: check_output(thirty_two_kb, static_sections=system_prompt), runs
        ),
        **gateway_step(two_kb, answer_2kb, runs),
    }


def gateway_step(two_kb: str, answer: str, runs: int) -> dict[str, Any]:
    """What the gateway adds per call (gateway/guarding.py): the default policy's input guard
    on a request whose user message is 2 KB (beside a system prompt, not scanned), and the
    output guard on a 2 KB answer, with building the findings' guard_flags entries."""
    from llmbench.config import GuardSettings
    from llmbench.gateway.guarding import Guard

    guard = Guard(GuardSettings())
    context = guard.default
    messages = [
        {"role": "system", "content": "You are a support assistant. Answer in two lines."},
        {"role": "user", "content": two_kb},
    ]
    return {
        "gateway_input_2kb": timings(
            lambda: guard.check_input(messages, context, "gpt-4o-mini"), runs
        ),
        "gateway_output_2kb": timings(lambda: guard.check_output(answer, messages, context), runs),
        **model_check_outside_band(guard, messages, runs),
    }


def model_check_outside_band(
    guard: Any, messages: list[dict[str, str]], runs: int
) -> dict[str, Any]:
    """The same input guard with the model check on and the text's score outside its band:
    what the check adds when it calls no model (the band test on each scanned text)."""
    from dataclasses import replace

    from llmbench.core.guard.input_guard import scan_text
    from llmbench.gateway.guard_check import CheckCall

    async def never(*_args: object, **_kwargs: object) -> Any:
        raise AssertionError("the benchmark's text is outside the band: no judge is called")

    score = scan_text(messages[-1]["content"]).score
    low = max(0.2, round(score + 0.05, 2))
    band = {"check_low": low, "check_high": min(1.0, low + 0.3), "check_model": "llmbench/mock"}
    context = replace(guard.default, policy=replace(guard.default.policy, **band))
    call = CheckCall(never, "bench", {})

    def checked() -> object:
        # Outside the band the coroutine finishes without waiting on anything: run it inline,
        # so the figure is the guard's work and not an event loop's.
        step = guard.check_input_checked(messages, context, "gpt-4o-mini", call)
        try:
            step.send(None)
        except StopIteration as done:
            return done.value
        step.close()
        raise AssertionError("the model check waited: the text is in its band")

    return {"gateway_input_2kb_model_check_outside_band": timings(checked, runs)}


def use_weights(path: Path) -> None:
    """Score with a variant's weights file (scripts/train_guard.py --out PATH) instead of the
    shipped one, with the window it was trained with."""
    from llmbench.core.guard import classifier, input_guard

    model = classifier.read_model(path.read_bytes())
    header = json.loads(gzip.decompress(path.read_bytes()).partition(b"\n")[0])
    classifier.WINDOW = header.get("window", classifier.WINDOW)
    classifier.STRIDE = header.get("stride", classifier.STRIDE)
    input_guard.shipped_model = lambda: model  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--show-errors", choices=["train"], default=None)
    parser.add_argument("--no-cost", action="store_true", help="quality figures only")
    parser.add_argument(
        "--weights", type=Path, help="score with this weights file (a variant), not the shipped one"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    if args.weights:
        use_weights(args.weights)
    rows = load_rows()
    result: dict[str, Any] = {"quality": quality(rows)}
    if not args.no_cost:
        result["cost"] = cost(rows, args.runs)
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["cpus"] = os.cpu_count()
    if args.show_errors:
        result["train_errors"] = [
            {key: row[key] for key in ("id", "label", "score", "rules", "text")}
            for row in rows
            if row["split"] == "train" and row["flagged"] != (row["label"] == "malicious")
        ]
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
