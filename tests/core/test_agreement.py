"""Agreement statistics against worked examples published with the methods themselves."""

from __future__ import annotations

import pytest

from llmbench.core.grading.agreement import (
    cohen_kappa,
    disagreement_weights,
    distances_for,
    kappa_from_table,
    krippendorff_alpha,
    percent_agreement,
    unit_disagreement,
)

# Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability", Annenberg School for
# Communication, University of Pennsylvania (repository.upenn.edu/asc_papers/43), section C:
# four observers, twelve units, values 1-5, missing data marked None. The paper reports
# alpha = 0.743 (nominal), 0.815 (ordinal), 0.849 (interval).
_ = None
OBSERVERS = (
    (1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _),
    (1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3),
    (_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _),
    (1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _),
)
UNITS = [[value for value in unit if value is not None] for unit in zip(*OBSERVERS, strict=True)]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_2011_missing_data_example(level: str, published: float) -> None:
    alpha = krippendorff_alpha(UNITS, level)  # type: ignore[arg-type]
    assert alpha is not None and round(alpha, 3) == published


def test_krippendorff_2011_binary_two_observers() -> None:
    """Krippendorff (2011), section A: two observers, ten units, binary data; alpha = 0.095."""
    first = (0, 1, 0, 0, 0, 0, 0, 0, 1, 0)
    second = (1, 1, 1, 0, 0, 1, 0, 0, 0, 0)
    alpha = krippendorff_alpha(list(zip(first, second, strict=True)), "nominal")
    assert alpha is not None and round(alpha, 3) == 0.095
    assert percent_agreement(list(zip(first, second, strict=True))) == pytest.approx(0.6)


def test_alpha_ignores_units_with_a_single_rating_and_is_none_without_pairs() -> None:
    assert krippendorff_alpha([[1], [2], [3]]) is None
    assert krippendorff_alpha([*UNITS, [4]]) == krippendorff_alpha(UNITS)
    # No variation at all: nothing for chance to explain.
    assert krippendorff_alpha([[2, 2], [2, 2]]) is None
    assert krippendorff_alpha([[1, 1], [2, 2], [3, 3]], "ordinal") == pytest.approx(1.0)


def test_fleiss_1981_psychiatric_diagnosis_kappa() -> None:
    """Fleiss, J. L. (1981). Statistical Methods for Rates and Proportions, 2nd ed., Wiley,
    Table 13.1: 100 subjects, two raters, three diagnoses; p_o = 0.89, p_e = 0.66,
    kappa = 0.23 / 0.34 = 0.676."""
    table = [[75, 1, 4], [5, 4, 1], [0, 0, 10]]
    kappa = kappa_from_table(table)
    assert kappa is not None and round(kappa, 3) == 0.676


def test_cohen_1968_weighted_kappa_illustration() -> None:
    """Cohen, J. (1968). Weighted kappa. Psychological Bulletin 70(4), 213-220, Table 1:
    proportions of 200 cases, Judge B on the rows; disagreement weights 1 (personality
    disorder-neurosis), 3 (personality disorder-psychosis), 6 (neurosis-psychosis).
    Unweighted kappa = 0.29 / 0.59 = 0.492; weighted kappa = 1 - 0.90 / 1.38 = 0.348."""
    table = [[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]]
    weights = [[0, 1, 3], [1, 0, 6], [3, 6, 0]]
    assert round(kappa_from_table(table) or 0, 3) == 0.492
    assert round(kappa_from_table(table, weights) or 0, 3) == 0.348


def test_kappa_from_rating_lists_matches_its_table() -> None:
    """Wikipedia's "Cohen's kappa" worked example: 50 proposals, yes/yes 20, yes/no 5,
    no/yes 10, no/no 15; p_o = 0.7, p_e = 0.5, kappa = 0.4."""
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert round(cohen_kappa(first, second) or 0, 3) == 0.4
    # With two categories every weighting gives the same kappa.
    for weights in ("linear", "quadratic"):
        assert cohen_kappa(first, second, weights=weights) == pytest.approx(0.4)  # type: ignore[arg-type]


def test_weighted_kappa_by_hand() -> None:
    """Three ordered levels; first rater (1,1,2,2,3,3), second (1,2,2,3,3,1).
    Marginals 1/3 each, so chance weight sums are (sum of v) / 9: linear 8/9, quadratic 12/9.
    Observed: linear (1 + 1 + 2) / 6, quadratic (1 + 1 + 4) / 6.
    Linear kappa = 1 - (4/6) / (8/9) = 0.25; quadratic = 1 - (6/6) / (12/9) = 0.25;
    plain: p_o = 3/6, p_e = 1/3, kappa = 0.25."""
    first, second = (1, 1, 2, 2, 3, 3), (1, 2, 2, 3, 3, 1)
    assert cohen_kappa(first, second) == pytest.approx(0.25)
    assert cohen_kappa(first, second, weights="linear") == pytest.approx(0.25)
    assert cohen_kappa(first, second, weights="quadratic") == pytest.approx(0.25)
    # Near misses cost less than far ones under weights: one far miss versus one near miss.
    far = cohen_kappa((1, 2, 3, 1, 2, 3), (1, 2, 3, 3, 2, 3), weights="linear")
    near = cohen_kappa((1, 2, 3, 1, 2, 3), (1, 2, 3, 2, 2, 3), weights="linear")
    assert far is not None and near is not None and near > far
    assert disagreement_weights(3, "quadratic")[0] == [0.0, 1.0, 4.0]


def test_kappa_refuses_mismatched_or_unknown_input() -> None:
    with pytest.raises(ValueError, match="same units"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="outside"):
        cohen_kappa([1, 9], [1, 2], categories=[1, 2])
    with pytest.raises(ValueError, match="square"):
        kappa_from_table([[1, 2]])
    assert cohen_kappa([], []) is None
    assert cohen_kappa([1, 1], [1, 1]) is None


def test_percent_agreement_for_many_raters() -> None:
    # Three raters agree fully on one unit and two of three on another: 6/6 and 2/6 pairs.
    assert percent_agreement([[1, 1, 1], [1, 1, 2]]) == pytest.approx((1 + 2 / 6) / 2)
    assert percent_agreement([[1]]) is None


def test_unit_disagreement_ranks_the_units_that_pull_alpha_down() -> None:
    distances = distances_for(UNITS, "ordinal")
    ranked = sorted(
        range(len(UNITS)),
        key=lambda i: -unit_disagreement(UNITS[i], "ordinal", distance=distances),
    )
    assert ranked[0] == 5  # unit 6 got 1, 2, 3 and 4 from the four observers
    assert unit_disagreement([3, 3, 3]) == 0.0
    assert unit_disagreement([1, 3], "interval") == 4.0
