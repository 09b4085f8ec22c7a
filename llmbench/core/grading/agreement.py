"""Inter-rater agreement: percent agreement, Cohen's kappa (plain and weighted) and
Krippendorff's alpha (nominal, ordinal, interval), with missing ratings allowed.

Reliability data is given per unit (an item that was graded): the values its raters gave, in
any order, missing ratings simply left out. A statistic that is undefined for the data (fewer
than two ratings on any unit, or no variation at all to correct for) is None, never a made-up
number.

Formulas follow Cohen (1960, 1968) and Krippendorff, "Computing Krippendorff's
Alpha-Reliability" (2011): alpha = 1 - D_o / D_e over the coincidence matrix of pairable values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from itertools import permutations
from typing import Literal

Level = Literal["nominal", "ordinal", "interval"]
Weights = Literal["none", "linear", "quadratic"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval")


def _pairable(units: Iterable[Sequence[Hashable]]) -> list[Sequence[Hashable]]:
    """Units with at least two values: only those carry information about agreement."""
    return [values for values in units if len(values) >= 2]


def percent_agreement(units: Iterable[Sequence[Hashable]]) -> float | None:
    """The share of agreeing rater pairs, averaged over the units that have two or more ratings
    (for two raters: the share of units on which they gave the same value)."""
    pairable = _pairable(units)
    if not pairable:
        return None
    total = 0.0
    for values in pairable:
        pairs = list(permutations(values, 2))
        total += sum(first == second for first, second in pairs) / len(pairs)
    return total / len(pairable)


# -- Cohen's kappa ---------------------------------------------------------------------------


def disagreement_weights(size: int, weights: Weights) -> list[list[float]]:
    """Cohen's (1968) disagreement weights v_ij for `size` ordered categories: 0 on the
    diagonal; 1 off it (plain kappa), |i - j| (linear) or (i - j)^2 (quadratic)."""
    if weights not in ("none", "linear", "quadratic"):
        raise ValueError(f"unknown kappa weights {weights!r}")

    def weight(i: int, j: int) -> float:
        if weights == "none":
            return float(i != j)
        return float(abs(i - j)) if weights == "linear" else float((i - j) ** 2)

    return [[weight(i, j) for j in range(size)] for i in range(size)]


def kappa_from_table(
    table: Sequence[Sequence[float]], weights: Sequence[Sequence[float]] | None = None
) -> float | None:
    """Kappa of a square table of counts or proportions (first rater's categories on the rows),
    with disagreement weights v_ij (None: plain kappa): 1 - sum(v * p_observed) /
    sum(v * p_chance)."""
    size = len(table)
    if any(len(row) != size for row in table):
        raise ValueError("an agreement table must be square")
    weights = weights if weights is not None else disagreement_weights(size, "none")
    total = sum(sum(row) for row in table)
    if total <= 0:
        return None
    rows = [sum(row) / total for row in table]
    columns = [sum(table[i][j] for i in range(size)) / total for j in range(size)]
    observed = sum(weights[i][j] * table[i][j] / total for i in range(size) for j in range(size))
    chance = sum(weights[i][j] * rows[i] * columns[j] for i in range(size) for j in range(size))
    if chance == 0:
        return None
    return 1.0 - observed / chance


def cohen_kappa(
    first: Sequence[Hashable],
    second: Sequence[Hashable],
    *,
    weights: Weights = "none",
    categories: Sequence[Hashable] | None = None,
) -> float | None:
    """Kappa between two raters who rated the same units (`first[i]` and `second[i]` are the
    same unit). Weighted kappa needs the categories in their order; by default the sorted
    values seen."""
    if len(first) != len(second):
        raise ValueError("both raters must rate the same units")
    if not first:
        return None
    order = list(categories) if categories is not None else sorted({*first, *second})  # type: ignore[type-var]
    index = {category: position for position, category in enumerate(order)}
    unknown = {*first, *second} - index.keys()
    if unknown:
        raise ValueError(f"values outside the categories: {sorted(map(str, unknown))}")
    table = [[0.0] * len(order) for _ in order]
    for a, b in zip(first, second, strict=True):
        table[index[a]][index[b]] += 1
    return kappa_from_table(table, disagreement_weights(len(order), weights))


# -- Krippendorff's alpha --------------------------------------------------------------------


def coincidences(units: Iterable[Sequence[Hashable]]) -> Counter[tuple[Hashable, Hashable]]:
    """o_ck: every ordered pair of values within a unit, each weighted 1 / (m_u - 1)."""
    matrix: Counter[tuple[Hashable, Hashable]] = Counter()
    for values in _pairable(units):
        share = 1.0 / (len(values) - 1)
        for pair in permutations(values, 2):
            matrix[pair] += share
    return matrix


def _distance(
    level: Level, totals: dict[Hashable, float], order: list[Hashable]
) -> dict[tuple[Hashable, Hashable], float]:
    """The squared difference function delta^2(c, k) of Krippendorff (2011)."""
    distances: dict[tuple[Hashable, Hashable], float] = {}
    if level == "ordinal":
        position = {value: i for i, value in enumerate(order)}
        cumulative = [0.0]
        for value in order:
            cumulative.append(cumulative[-1] + totals[value])
    for c in order:
        for k in order:
            if level == "nominal":
                distance = float(c != k)
            elif level == "interval":
                distance = (float(c) - float(k)) ** 2  # type: ignore[arg-type]
            else:
                low, high = sorted((position[c], position[k]))
                between = cumulative[high + 1] - cumulative[low]
                distance = (between - (totals[c] + totals[k]) / 2) ** 2
            distances[(c, k)] = distance
    return distances


def krippendorff_alpha(
    units: Iterable[Sequence[Hashable]],
    level: Level = "nominal",
    *,
    order: Sequence[Hashable] | None = None,
) -> float | None:
    """Alpha over units rated by any number of raters, missing ratings left out. Ordinal and
    interval data need values that sort (ordinal) or are numbers (interval); `order` gives the
    ordinal ranks when sorting the values would not."""
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}")
    matrix = coincidences(units)
    totals: dict[Hashable, float] = Counter()
    for (c, _k), weight in matrix.items():
        totals[c] += weight
    n = sum(totals.values())
    if n <= 1:
        return None
    values = list(order) if order is not None else sorted(totals)  # type: ignore[type-var]
    for value in values:
        totals.setdefault(value, 0.0)
    distances = _distance(level, dict(totals), values)
    observed = sum(weight * distances[pair] for pair, weight in matrix.items())
    expected = sum(totals[c] * totals[k] * distances[(c, k)] for c in values for k in values)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * observed / expected


def unit_disagreement(
    values: Sequence[Hashable],
    level: Level = "nominal",
    *,
    distance: dict[tuple[Hashable, Hashable], float] | None = None,
) -> float:
    """How much one unit adds to the observed disagreement (its row of D_o): the mean of
    delta^2 over its pairs. Sorting units by it puts the ones that pulled alpha down first."""
    if len(values) < 2:
        return 0.0
    pairs = list(permutations(values, 2))
    if distance is not None:
        return sum(distance[pair] for pair in pairs) / len(pairs)
    if level == "nominal":
        return sum(a != b for a, b in pairs) / len(pairs)
    return sum((float(a) - float(b)) ** 2 for a, b in pairs) / len(pairs)  # type: ignore[arg-type]


def distances_for(units: Iterable[Sequence[Hashable]], level: Level) -> dict[tuple, float]:
    """The delta^2 table alpha uses for these units (ordinal distances depend on the data)."""
    matrix = coincidences(units)
    totals: dict[Hashable, float] = Counter()
    for (c, _k), weight in matrix.items():
        totals[c] += weight
    return _distance(level, dict(totals), sorted(totals))  # type: ignore[type-var]
