"""Measured quality and cost of the input guard, and the cost of the output guard.

Run: python tests/benchmarks/bench_guard.py [--runs 200] [--show-errors tune]

Quality: detection rate (recall) and false-positive rate of the injection score at its
default threshold on a labelled set (tests/data/guard/): bastioncorpus 0.6.0 (MIT, 118
injection rows and 63 hard negatives, see tests/data/guard/README.md) plus 341 benign prompts
written for llmbench (support tickets, coding questions, summaries, long emails and logs, eight
other languages, and hard negatives that say "ignore", "system", "instructions", "developer
mode", carry base64, hex, JWTs and URLs). Every row belongs to a fixed half, "tune" or
"holdout", by a hash of its id: rules and weights were adjusted looking only at the tune
half's errors, and both halves are reported so the held-out figure shows what tuning did not
see. `--show-errors tune` prints the tune half's errors (never the holdout's).

Cost: p50/p99 over --runs of the input guard (scan_text) on a typical ~2 KB request and on a
32 KB one (both benign text with the words that wake the rules up, the realistic worst case),
on a 32 KB adversarial run of base64-like characters, and of the output guard (check_output)
on a 2 KB and a 32 KB answer with a 2 KB system prompt to compare against; and the gateway's
whole guard step (gateway_input_2kb, gateway_output_2kb: policy, flags and redaction included).

Prints JSON. Goals: recall ≥ 0.9 at ≤ 5% false positives; ≤ 1 ms on 2 KB; p99 ≤ 50 ms on 32 KB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "guard"
CANARY = "TKN-5f9c2a71"  # bastioncorpus leaves a {canary} slot for the runner to fill


def load_rows() -> list[dict[str, Any]]:
    rows = []
    for path in (DATA / "bastioncorpus" / "injections.jsonl", DATA / "benign.jsonl"):
        source = "bastioncorpus" if "bastion" in str(path) else "llmbench"
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            row["text"] = row["text"].replace("{canary}", CANARY)
            row["source"] = source
            row["split"] = split_of(row["id"])
            rows.append(row)
    return rows


def split_of(row_id: str) -> str:
    return "tune" if int(hashlib.sha256(row_id.encode()).hexdigest(), 16) % 2 == 0 else "holdout"


def quality(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from llmbench.core.guard.input_guard import scan_text

    def figures(subset: list[dict[str, Any]]) -> dict[str, Any]:
        attacks = [row for row in subset if row["label"] == "malicious"]
        benign = [row for row in subset if row["label"] == "benign"]
        caught = sum(row["flagged"] for row in attacks)
        false_alarms = sum(row["flagged"] for row in benign)
        return {
            "attacks": len(attacks),
            "benign": len(benign),
            "recall": round(caught / len(attacks), 3) if attacks else None,
            "false_positive_rate": round(false_alarms / len(benign), 3) if benign else None,
            "missed": len(attacks) - caught,
            "false_positives": false_alarms,
        }

    for row in rows:
        report = scan_text(row["text"])
        row["flagged"] = report.injection
        row["score"] = report.score
        row["rules"] = sorted({finding.rule for finding in report.findings})
    result: dict[str, Any] = {"all": figures(rows)}
    for split in ("tune", "holdout"):
        result[split] = figures([row for row in rows if row["split"] == split])
    result["bastioncorpus_only"] = figures([r for r in rows if r["source"] == "bastioncorpus"])
    result["by_language_benign_fpr"] = {
        lang: figures([r for r in rows if r["label"] == "benign" and r.get("lang") == lang])[
            "false_positive_rate"
        ]
        for lang in sorted({r.get("lang", "en") for r in rows})
    }
    return result


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
    benign = [row["text"] for row in rows if row["label"] == "benign"]
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
    system_prompt = {"role": sample_text(rows[::-1], 2048)}
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--show-errors", choices=["tune"], default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    rows = load_rows()
    result = {
        "quality": quality(rows),
        "cost": cost(rows, args.runs),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    if args.show_errors:
        result["tune_errors"] = [
            {key: row[key] for key in ("id", "label", "score", "rules", "text")}
            for row in rows
            if row["split"] == "tune" and row["flagged"] != (row["label"] == "malicious")
        ]
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
