"""How far reviewers agree on a rubric (and the judge with them): percent agreement,
Krippendorff's alpha and Cohen's kappa per dimension, and the items that pull agreement down."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.grading import agreement
from llmbench.core.grading.rubrics import GradingRubric
from llmbench.services.grading.item_names import item_names
from llmbench.store.db import Store
from llmbench.store.grading import grades as grades_repo
from llmbench.store.grading import queue as queue_repo
from llmbench.store.grading.grades import StoredGrade


def _value(grade: StoredGrade, dimension: str) -> int | None:
    value = grade.scores.get(dimension)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def disagreement_scores(
    ratings: Sequence[StoredGrade], rubric: GradingRubric, judges: dict[str, bool] | None = None
) -> dict[str, float]:
    """Items whose reviewers disagree (or whose judge contradicts the humans), with how much:
    the sum over dimensions of their share of alpha's observed disagreement, plus 1 for a split
    verdict."""
    by_item: dict[str, list[StoredGrade]] = defaultdict(list)
    for grade in ratings:
        by_item[f"{grade.kind}:{grade.item_id}"].append(grade)
    found: dict[str, float] = {}
    for key, grades in by_item.items():
        total = 0.0
        for dimension in rubric.dimensions:
            values = [v for g in grades if (v := _value(g, dimension.name)) is not None]
            level = "interval" if dimension.ordinal else "nominal"
            spread = agreement.unit_disagreement(values, level)
            total += spread / ((len(dimension.levels) - 1) ** 2 if dimension.ordinal else 1)
        verdicts = {g.verdict for g in grades if g.verdict}
        if len(verdicts) > 1:
            total += 1.0
        judged = (judges or {}).get(key)
        if judged is not None and verdicts and {("pass" if judged else "fail")} != verdicts:
            total += 1.0
        if total > 0:
            found[key] = total
    return found


@dataclass(frozen=True)
class PairKappa:
    first: str
    second: str
    items: int
    kappa: float | None


@dataclass(frozen=True)
class DimensionAgreement:
    dimension: str
    ordinal: bool
    items: int  # graded by two or more reviewers
    ratings: int
    percent: float | None
    alpha_nominal: float | None
    alpha_ordinal: float | None
    kappas: tuple[PairKappa, ...]  # weighted (quadratic) for ordinal scales


@dataclass(frozen=True)
class AgreementReport:
    rubric: GradingRubric
    reviewers: tuple[str, ...]
    dimensions: tuple[DimensionAgreement, ...]
    verdict: DimensionAgreement | None
    judge_items: int
    judge_agreement: float | None
    """Share of items where the judge's verdict matches the humans' majority verdict."""
    disagreements: tuple[tuple[str, float], ...]  # item key, how much, worst first
    item_names: Mapping[str, str] = field(default_factory=dict)
    """Each disagreement's item as a reviewer recognises it (services.grading.item_names)."""


def agreement_report(store: Store, rubric_id: int) -> AgreementReport:
    db = store.read()
    rubric = grades_repo.grading_rubric(db, rubric_id)
    if rubric is None:
        raise LookupError(f"no rubric #{rubric_id}")
    ratings = grades_repo.latest_ratings(db, rubric_id)
    judges = queue_repo.judge_verdicts(db, rubric_id)
    reviewers = tuple(sorted({g.reviewer for g in ratings}))
    by_item: dict[str, dict[str, StoredGrade]] = defaultdict(dict)
    for grade in ratings:
        by_item[f"{grade.kind}:{grade.item_id}"][grade.reviewer] = grade
    dimensions = tuple(
        _dimension_agreement(
            dimension.name,
            dimension.ordinal,
            {
                key: {
                    r: v for r, g in graders.items() if (v := _value(g, dimension.name)) is not None
                }
                for key, graders in by_item.items()
            },
            reviewers,
        )
        for dimension in rubric.dimensions
    )
    verdicts = {
        key: {r: g.verdict for r, g in graders.items() if g.verdict}
        for key, graders in by_item.items()
    }
    verdict = (
        _dimension_agreement("verdict", False, verdicts, reviewers)
        if any(verdicts.values())
        else None
    )
    matches = []
    for key, judged in judges.items():
        human = list(verdicts.get(key, {}).values())
        if human:
            majority = max(set(human), key=human.count)
            matches.append(majority == ("pass" if judged else "fail"))
    ranked = sorted(
        disagreement_scores(ratings, rubric, judges).items(), key=lambda kv: (-kv[1], kv[0])
    )
    return AgreementReport(
        rubric=rubric,
        reviewers=reviewers,
        dimensions=dimensions,
        verdict=verdict,
        judge_items=len(matches),
        judge_agreement=sum(matches) / len(matches) if matches else None,
        disagreements=tuple(ranked),
        item_names=item_names(store, [key for key, _amount in ranked]),
    )


def _dimension_agreement(
    name: str, ordinal: bool, values: dict[str, dict[str, Any]], reviewers: Sequence[str]
) -> DimensionAgreement:
    units = [list(by_reviewer.values()) for by_reviewer in values.values()]
    kappas = []
    for index, first in enumerate(reviewers):
        for second in reviewers[index + 1 :]:
            both = [v for v in values.values() if first in v and second in v]
            kappa = (
                agreement.cohen_kappa(
                    [v[first] for v in both],
                    [v[second] for v in both],
                    weights="quadratic" if ordinal else "none",
                )
                if both
                else None
            )
            kappas.append(PairKappa(first, second, len(both), kappa))
    return DimensionAgreement(
        dimension=name,
        ordinal=ordinal,
        items=sum(len(unit) >= 2 for unit in units),
        ratings=sum(len(unit) for unit in units),
        percent=agreement.percent_agreement(units),
        alpha_nominal=agreement.krippendorff_alpha(units, "nominal"),
        alpha_ordinal=agreement.krippendorff_alpha(units, "ordinal") if ordinal else None,
        kappas=tuple(kappas),
    )
