"""Train the input guard's injection classifier and write it into the package.

Run: python scripts/train_guard.py [--epochs 5] [--seed 20] [--out PATH]

Reads tests/benchmarks/guard/corpus.jsonl.gz (built by scripts/guard_data/build_corpus.py;
its manifest names every source and licence) and uses only the families marked "train"; the
held-out families are not read at all here: they are what tests/benchmarks/bench_guard.py
reports on.

The model is logistic regression over the features of core/guard/classifier.py (words, word
pairs, character n-grams of the folded and normalised text), fitted on windows of the text with
AdaGrad and L2; the classes weigh the same, a family weighs the square root of its size, and
each row's windows share one row's weight (a long document does not outweigh a short prompt).
The long benign rows' highest-scoring windows are mined after a first fit and the model is
fitted again with them. Weights are pruned to the MAX_FEATURES largest and stored as integers
with one scale.

The calibration that joins the classifier's logit, the rules' score and the text's length is
fitted on the training families scored *out of family*: the families are cut into FOLDS groups
and each group is scored by a model trained on the others, so the calibration learns how far
to trust the classifier on kinds of text it has not seen. Its bias is then moved so that the
default threshold flags TARGET_FALSE_POSITIVES of those benign rows. (At run time the guard's
score is the higher of this calibrated score and the rules' own weight.)

Pure Python, seeded: the same corpus and seed give the same file byte for byte.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llmbench.core.guard import classifier  # noqa: E402
from llmbench.core.guard.injection_scan import combine, injection_findings  # noqa: E402
from llmbench.core.guard.input_guard import unicode_findings  # noqa: E402

CORPUS = ROOT / "tests" / "benchmarks" / "guard" / "corpus.jsonl.gz"
OUT = ROOT / "llmbench" / "core" / "guard" / classifier.DATA_FILE
MAX_FEATURES = 120_000
MAX_WINDOWS_PER_ROW = 8
MINED_WINDOWS = 8
QUANT_LEVELS = 127
RATE = 0.2
L2 = 1e-2
FOLDS = 4  # calibration is fitted on families scored by a model that did not see them
EPOCHS = 5
TARGET_FALSE_POSITIVES = 0.02


def load_rows() -> list[dict[str, Any]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def window_features(text: str) -> list[dict[str, float]]:
    """The feature vectors of all of a text's windows, each scaled by 1/sqrt(its length) as
    the scorer does."""
    found = classifier.tokens(classifier.prepared(text))
    vectors = []
    for low, high in classifier.windows(len(found)) if found else []:
        counts: Counter[str] = Counter()
        previous = ""
        for index in range(low, high):
            token = found[index][0]
            counts.update(classifier.token_features(token))
            if previous:
                counts[classifier.pair_feature(previous, token)] += 1
            previous = token
        scale = 1.0 / math.sqrt(high - low)
        vectors.append({feature: count * scale for feature, count in counts.items()})
    return vectors


def spread(vectors: list[Any], count: int = MAX_WINDOWS_PER_ROW) -> list[Any]:
    """At most `count` of a row's windows, evenly spread over it."""
    if len(vectors) <= count:
        return vectors
    step = len(vectors) / count
    return [vectors[int(i * step)] for i in range(count)]


def train(
    samples: list[tuple[dict[str, float], int, float]], epochs: int, seed: int
) -> tuple[dict[str, float], float]:
    """Logistic regression by AdaGrad over (features, label, weight) samples."""
    rng = random.Random(seed)
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias, bias_square = 0.0, 1e-8
    rate, l2 = RATE, L2
    order = list(range(len(samples)))
    for epoch in range(epochs):
        rng.shuffle(order)
        loss = 0.0
        for index in order:
            features, label, weight = samples[index]
            z = bias + sum(weights.get(f, 0.0) * v for f, v in features.items())
            p = 1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0)))
            loss -= weight * math.log(max(p if label else 1.0 - p, 1e-12))
            gradient = (p - label) * weight
            for feature, value in features.items():
                g = gradient * value + l2 * weights.get(feature, 0.0)
                squares[feature] = squares.get(feature, 1e-8) + g * g
                weights[feature] = weights.get(feature, 0.0) - rate * g / math.sqrt(
                    squares[feature]
                )
            bias_square += gradient * gradient
            bias -= rate * gradient / math.sqrt(bias_square)
        print(f"epoch {epoch + 1}: loss {loss:.4f}", file=sys.stderr)
    return weights, bias


def prune(weights: dict[str, float]) -> tuple[dict[str, int], float]:
    kept = sorted(weights.items(), key=lambda item: (-abs(item[1]), item[0]))[:MAX_FEATURES]
    largest = max(abs(value) for _, value in kept)
    scale = largest / QUANT_LEVELS
    quantized = {feature: round(value / scale) for feature, value in kept}
    return {f: q for f, q in quantized.items() if q}, scale


def rule_score(text: str) -> float:
    return combine(unicode_findings(text) + injection_findings(text))


def fit_calibration(points: list[tuple[float, float, int, int]]) -> classifier.Calibration:
    """Logistic regression of the label on the classifier's logit, the rules' score (as a
    logit) and the log of the text's number of windows (the highest of many windows is high
    by chance alone), on rows scored out of family; classes weigh the same, slopes lightly
    ridged; damped Newton."""
    positives = sum(point[3] for point in points)
    negatives = len(points) - positives
    rows = []
    for logit, rules, windows, label in points:
        x = (logit, classifier.rule_logit(rules), math.log(windows), 1.0)
        rows.append((x, label, 0.5 / positives if label else 0.5 / negatives))
    size = 4
    ridge = 1e-3  # the kinds of evidence may separate the rows: keep the slopes finite

    def loss(theta: list[float]) -> float:
        total = 0.5 * ridge * sum(t * t for t in theta[:-1])
        for x, label, weight in rows:
            z = sum(t * v for t, v in zip(theta, x, strict=True))
            total += weight * (math.log1p(math.exp(-abs(z))) + max(z, 0.0) - label * z)
        return total

    theta = [0.5, 0.5, 0.0, 0.0]
    current = loss(theta)
    for _ in range(100):
        gradient = [ridge * t for t in theta[:-1]] + [0.0]
        hessian = [
            [(ridge if i < size - 1 else 1e-9) if i == j else 0.0 for j in range(size)]
            for i in range(size)
        ]
        for x, label, weight in rows:
            z = sum(t * v for t, v in zip(theta, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0)))
            for i in range(size):
                gradient[i] += weight * (p - label) * x[i]
                for j in range(size):
                    hessian[i][j] += weight * p * (1 - p) * x[i] * x[j]
        step = _solve(hessian, gradient)
        scale = 1.0
        while scale > 1e-6:
            candidate = [t - scale * d for t, d in zip(theta, step, strict=True)]
            value = loss(candidate)
            if value <= current:
                break
            scale /= 2
        else:
            break
        theta, improvement, current = candidate, current - value, value
        if improvement < 1e-10:
            break
    classifier_slope, rules, length, bias = (round(t, 6) for t in theta)
    return classifier.Calibration(classifier_slope, rules, bias, length)


def at_operating_point(
    calibration: classifier.Calibration, points: list[tuple[float, float, int, int, str]]
) -> classifier.Calibration:
    """The calibration with its bias moved so that the default threshold (0.5) flags
    TARGET_FALSE_POSITIVES of the benign rows scored out of family. Fitted with the classes
    weighing the same, 0.5 would be the point where a missed attack and a false alarm cost
    alike; attacks are rarer than that, and a guard that flags one ordinary request in twenty
    is switched off."""
    benign = sorted(
        (
            logit * calibration.classifier
            + classifier.rule_logit(rules) * calibration.rules
            + math.log(max(windows, 1)) * calibration.length
            + calibration.bias
            for logit, rules, windows, label, _ in points
            if not label
        ),
        reverse=True,
    )
    z_at_target = benign[int(len(benign) * TARGET_FALSE_POSITIVES)]
    shift = min(0.0, -z_at_target)  # only ever stricter than the balanced fit
    return classifier.Calibration(
        calibration.classifier, calibration.rules, round(calibration.bias + shift, 6),
        calibration.length,
    )  # fmt: skip


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """matrix⁻¹ · vector by Gauss-Jordan elimination with partial pivoting."""
    size = len(vector)
    augmented = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(augmented[r][column]))
        augmented[column], augmented[pivot] = augmented[pivot], augmented[column]
        for row in range(size):
            if row != column:
                factor = augmented[row][column] / augmented[column][column]
                for k in range(column, size + 1):
                    augmented[row][k] -= factor * augmented[column][k]
    return [augmented[i][size] / augmented[i][i] for i in range(size)]


def write(
    path: Path,
    weights: dict[str, int],
    scale: float,
    bias: float,
    calibration: classifier.Calibration,
) -> None:
    extra = {
        "window": classifier.WINDOW,
        "stride": classifier.STRIDE,
        "trained_on": str(CORPUS.relative_to(ROOT)),
    }
    classifier.write_model(path, weights, scale, round(bias, 6), calibration, extra)


def samples_of(
    rows: list[dict[str, Any]],
    vectors: dict[str, list[dict[str, float]]],
    chosen: dict[str, list[int]] | None = None,
) -> list[tuple[dict[str, float], int, float]]:
    """(features, label, weight) of the chosen windows of each row (by default at most
    MAX_WINDOWS_PER_ROW, evenly spread)."""
    # A family weighs the square root of its size within its class (the synthetic family and
    # the big public ones do not drown the small ones), the two classes weigh the same, and a
    # row's windows share that row's weight.
    sizes = Counter((row["family"], row["label"]) for row in rows)
    class_mass: Counter[str] = Counter()
    for (_, label), size in sizes.items():
        class_mass[label] += math.sqrt(size)
    samples = []
    for row in rows:
        every = vectors[row["id"]]
        indexes = (chosen or {}).get(row["id"]) or spread(list(range(len(every))))
        label = 1 if row["label"] == "malicious" else 0
        size = sizes[(row["family"], row["label"])]
        row_weight = 0.5 * len(rows) / class_mass[row["label"]] / math.sqrt(size)
        weight = row_weight / max(len(indexes), 1)
        samples += [(every[index], label, weight) for index in indexes]
    return samples


def hardest_benign_windows(
    rows: list[dict[str, Any]],
    vectors: dict[str, list[dict[str, float]]],
    weights: dict[str, float],
) -> dict[str, list[int]]:
    """For each long benign row, its evenly spread windows plus the MINED_WINDOWS windows the
    first model scores highest: the scorer keeps a text's worst window, so training must
    see the worst windows of ordinary documents, not only a sample of them."""
    chosen = {}
    for row in rows:
        every = vectors[row["id"]]
        if row["label"] != "benign" or len(every) <= MAX_WINDOWS_PER_ROW:
            continue
        scores = [sum(weights.get(f, 0.0) * v for f, v in vector.items()) for vector in every]
        ranked = sorted(range(len(every)), key=lambda index: -scores[index])
        base = spread(list(range(len(every))))
        chosen[row["id"]] = sorted(set(base) | set(ranked[:MINED_WINDOWS]))
    return chosen


def fit(
    rows: list[dict[str, Any]],
    vectors: dict[str, list[dict[str, float]]],
    epochs: int,
    seed: int,
) -> tuple[dict[str, int], float, float]:
    """Train, mine the hardest windows of long benign rows, train again from the start."""
    weights, _ = train(samples_of(rows, vectors), epochs, seed)
    chosen = hardest_benign_windows(rows, vectors, weights)
    weights, bias = train(samples_of(rows, vectors, chosen), epochs, seed)
    quantized, scale = prune(weights)
    return quantized, scale, bias


def fold_of(family: str) -> int:
    return int(hashlib.sha256(family.encode()).hexdigest(), 16) % FOLDS


def out_of_family_points(
    rows: list[dict[str, Any]], vectors: dict[str, list[dict[str, float]]], epochs: int, seed: int
) -> list[tuple[float, float, int, int, str]]:
    """Each training family scored by a model trained without its fold of families: what the
    classifier says of attacks and prompts of a kind it never saw."""
    points = []
    for fold in range(FOLDS):
        inside = [row for row in rows if fold_of(row["family"]) != fold]
        outside = [row for row in rows if fold_of(row["family"]) == fold]
        if not outside:
            continue
        quantized, scale, bias = fit(inside, vectors, epochs, seed)
        model = classifier.Model(
            {f: q * scale for f, q in quantized.items()}, bias, classifier.Calibration(1, 0, 0)
        )
        for row in outside:
            best = model.score(classifier.prepared(row["text"]))
            label = int(row["label"] == "malicious")
            points.append((best.logit, rule_score(row["text"]), best.windows, label, row["family"]))
    return points


def report(
    points: list[tuple[float, float, int, int, str]], calibration: classifier.Calibration
) -> dict[str, dict[str, Any]]:
    by_family: dict[str, list[int]] = {}
    for logit, rules, windows, label, family in points:
        flagged = calibration.score(logit, rules, windows) >= 0.5
        entry = by_family.setdefault(family, [0, 0, 0, 0])  # attacks, caught, benign, alarms
        entry[0 if label else 2] += 1
        entry[1 if label else 3] += int(flagged)
    return {
        family: {
            "recall": round(caught / attacks, 3) if attacks else None,
            "false_positive_rate": round(alarms / benign, 3) if benign else None,
            "rows": attacks + benign,
        }
        for family, (attacks, caught, benign, alarms) in sorted(by_family.items())
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [row for row in load_rows() if row["split"] == "train"]
    vectors = {row["id"]: window_features(row["text"]) for row in rows}
    points = out_of_family_points(rows, vectors, args.epochs, args.seed)
    calibration = at_operating_point(fit_calibration([point[:4] for point in points]), points)
    quantized, scale, bias = fit(rows, vectors, args.epochs, args.seed)
    write(args.out, quantized, scale, bias, calibration)
    print(
        json.dumps(
            {
                "features": len(quantized),
                "bytes": args.out.stat().st_size,
                "calibration": vars(calibration),
                "out_of_family": report(points, calibration),
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
