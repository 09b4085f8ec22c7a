"""Train the input guard's injection classifier and write it into the package.

Run: python scripts/train_guard.py [--epochs 5] [--seed 20] [--l2 0.001] [--out PATH]
     python scripts/train_guard.py --validate-only [--misses FILE] [--no-extra] [--no-more]
         [--persona] [--l2 X] [--window N] [--embed]   (variants, compared on validation)
         [--points FILE] [--reuse-points FILE]   (write / read back the validation rows' scores)

Reads tests/benchmarks/guard/corpus.jsonl.gz (built by scripts/guard_data/build_corpus.py),
extra.jsonl.gz and more.jsonl.gz (training families only, built by build_extra.py and
build_more.py beside it; the manifests beside them name every source and licence), and with
--persona persona.jsonl.gz too (ordinary role-play and instruction-style requests, built by
build_persona.py: variants T-W7 in tests/benchmarks/guard/README.md, none shipped), and uses
only the families marked "train"; the held-out families are not read at all here: they are
what tests/benchmarks/bench_guard.py reports on.

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

Those out-of-family rows are the *validation* split: variants (data, L2, window, short rows
embedded in prose) are compared on their figures ("validation", and
"validation_corpus_families" on the rows every variant shares), never on the held-out split.
--misses writes their errors to read.

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
# Training families only, built by scripts/guard_data/build_extra.py and build_more.py.
EXTRA = ROOT / "tests" / "benchmarks" / "guard" / "extra.jsonl.gz"
MORE = ROOT / "tests" / "benchmarks" / "guard" / "more.jsonl.gz"
# Ordinary role-play and instruction-style requests only (scripts/guard_data/build_persona.py);
# read with --persona: no variant trained with it has shipped yet.
PERSONA = ROOT / "tests" / "benchmarks" / "guard" / "persona.jsonl.gz"
OUT = ROOT / "llmbench" / "core" / "guard" / classifier.DATA_FILE
MAX_FEATURES = 120_000
MAX_WINDOWS_PER_ROW = 8
MINED_WINDOWS = 8
QUANT_LEVELS = 127
RATE = 0.2
L2 = 1e-3  # chosen on validation among 3e-4, 5e-4, 1e-3, 3e-3, 1e-2, 3e-2
FOLDS = 4  # calibration is fitted on families scored by a model that did not see them
EPOCHS = 5
TARGET_FALSE_POSITIVES = 0.02
# (classifier logit, rules' score, windows, label, family, row id) of a row scored out of family
Point = tuple[float, float, int, int, str, str]


def load_rows(extra: bool = True, more: bool = True, persona: bool = False) -> list[dict[str, Any]]:
    rows = []
    paths = [CORPUS, *([EXTRA] if extra else []), *([MORE] if more and extra else [])]
    for path in paths + ([PERSONA] if persona and extra else []):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle]
    return rows


# Neutral prose that short rows are embedded in (--embed): an instruction planted in a document
# is read in windows that also hold the document's words.
FILLER = (
    "The quarterly report covers sales in the northern region and the new warehouse.",
    "Minutes of the meeting: the committee approved the budget for the library wing.",
    "Our support team answers within two working days; urgent issues go to the on-call line.",
    "The recipe needs two cups of flour, a pinch of salt and three eggs.",
    "Shipping to Canada takes five to seven days, and returns are free within thirty days.",
    "The article explains how solar panels convert sunlight into electricity.",
    "Please find attached the invoice for March; payment is due at the end of the month.",
    "The hiking trail is closed in winter because of snow on the upper ridge.",
    "Version 2.3 fixes the login timeout and speeds up the export to spreadsheet files.",
    "The museum opens at nine on weekdays and at ten on Sundays.",
)  # fmt: skip
EMBED_SHARE = 0.3  # of the short rows, seeded


def embedded(rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Copies of a share of the short rows (both classes), each inside a few sentences of
    FILLER, in the same family (the out-of-family scoring stays out of family)."""
    rng = random.Random(seed)
    extra = []
    for row in rows:
        if len(row["text"].split()) > 40 or rng.random() >= EMBED_SHARE:
            continue
        before = " ".join(rng.sample(FILLER, rng.randint(1, 4)))
        after = " ".join(rng.sample(FILLER, rng.randint(0, 3)))
        text = f"{before}\n\n{row['text']}\n\n{after}".strip()
        extra.append({**row, "id": row["id"] + ":embedded", "text": text})
    return extra


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
    calibration: classifier.Calibration, points: list[Point]
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
            for logit, rules, windows, label, *_ in points
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
) -> list[Point]:
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
            if row["id"].endswith(":embedded"):
                continue  # a training copy: the rows scored are the same with or without them
            best = model.score(classifier.prepared(row["text"]))
            label = int(row["label"] == "malicious")
            rules = rule_score(row["text"])
            points.append((best.logit, rules, best.windows, label, row["family"], row["id"]))
    return points


def _final(calibration: classifier.Calibration, point: Point) -> float:
    """The guard's score as scan_text computes it: the calibrated score, or the rules' own
    weight when higher."""
    logit, rules, windows = point[:3]
    return max(rules, calibration.score(logit, rules, windows))


def report(points: list[Point], calibration: classifier.Calibration) -> dict[str, dict[str, Any]]:
    by_family: dict[str, list[int]] = {}
    for point in points:
        label, family = point[3], point[4]
        flagged = _final(calibration, point) >= 0.5
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


def validation(points: list[Point], calibration: classifier.Calibration) -> dict[str, Any]:
    """What variants are chosen on (never the held-out split): the training families scored
    out of family, at the default threshold and at the thresholds that flag 2% and 5% of their
    benign rows; recall pooled over rows and averaged over attack families (the synthetic
    family is most of the rows)."""
    scores = [(_final(calibration, p), p[3], p[4]) for p in points]
    benign = sorted((s for s, label, _ in scores if not label), reverse=True)
    result: dict[str, Any] = {}
    for name, threshold in (
        ("default", 0.5),
        ("at_2pct_fpr", benign[int(len(benign) * 0.02)] + 1e-9),
        ("at_5pct_fpr", benign[int(len(benign) * 0.05)] + 1e-9),
    ):
        families: dict[str, list[int]] = {}
        for score, label, family in scores:
            if label:
                entry = families.setdefault(family, [0, 0])
                entry[0] += 1
                entry[1] += int(score >= threshold)
        caught = sum(c for _, c in families.values())
        result[name] = {
            "threshold": round(threshold, 4),
            "recall": round(caught / sum(n for n, _ in families.values()), 3),
            "family_recall": round(sum(c / n for n, c in families.values()) / len(families), 3),
            "false_positive_rate": round(sum(s >= threshold for s in benign) / len(benign), 3),
        }
    return result


def misses(
    rows: list[dict[str, Any]], points: list[Point], calibration: classifier.Calibration
) -> list[dict[str, Any]]:
    """The validation errors at the default threshold (training rows scored out of family)."""
    texts = {row["id"]: row["text"] for row in rows}
    found = []
    for point in points:
        score = _final(calibration, point)
        if (score >= 0.5) != bool(point[3]):
            found.append(
                {"id": point[5], "label": point[3], "score": round(score, 3),
                 "logit": round(point[0], 2), "rules": point[1], "text": texts[point[5]][:600]}
            )  # fmt: skip
    return found


def main() -> None:
    global L2, MAX_FEATURES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--l2", type=float, default=L2, help="ridge of the weights")
    parser.add_argument("--max-features", type=int, default=MAX_FEATURES)
    parser.add_argument("--window", type=int, default=classifier.WINDOW, help="tokens a window")
    parser.add_argument("--no-extra", action="store_true", help=f"without {EXTRA.name}")
    parser.add_argument("--no-more", action="store_true", help=f"without {MORE.name}")
    parser.add_argument("--persona", action="store_true", help=f"with {PERSONA.name} too")
    parser.add_argument("--embed", action="store_true", help="also short rows inside prose")
    parser.add_argument("--validate-only", action="store_true", help="no weights written")
    parser.add_argument("--misses", type=Path, help="write the validation errors here (JSON)")
    parser.add_argument("--points", type=Path, help="write every validation row's scores (JSON)")
    parser.add_argument(
        "--reuse-points", type=Path, help="read them from a --points file of the same variant"
    )  # the out-of-family fits are most of the time; their points are the same numbers
    args = parser.parse_args()
    L2, MAX_FEATURES = args.l2, args.max_features
    classifier.WINDOW, classifier.STRIDE = args.window, args.window // 2
    started = time.perf_counter()
    chosen = load_rows(not args.no_extra, not args.no_more, args.persona)
    rows = [r for r in chosen if r["split"] == "train"]
    if args.embed:
        rows += embedded(rows, args.seed)
    vectors = {row["id"]: window_features(row["text"]) for row in rows}
    if args.reuse_points:
        points = [tuple(point) for point in json.loads(args.reuse_points.read_text())]
    else:
        points = out_of_family_points(rows, vectors, args.epochs, args.seed)
    calibration = at_operating_point(fit_calibration([point[:4] for point in points]), points)
    base = {row["family"] for row in load_rows(False) if row["split"] == "train"}
    result: dict[str, Any] = {
        "calibration": vars(calibration),
        "validation": validation(points, calibration),
        # The same rows whatever data a variant adds: what variants are compared on.
        "validation_corpus_families": validation([p for p in points if p[4] in base], calibration),
        "out_of_family": report(points, calibration),
    }
    if args.misses:
        args.misses.write_text(json.dumps(misses(rows, points, calibration), indent=1) + "\n")
    if args.points:
        args.points.write_text(json.dumps(points) + "\n")
    if not args.validate_only:
        quantized, scale, bias = fit(rows, vectors, args.epochs, args.seed)
        write(args.out, quantized, scale, bias, calibration)
        result |= {"features": len(quantized), "bytes": args.out.stat().st_size}
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
