"""Grading queues: what a reviewer grades next, built by sampling strategies, and where the
session stands (seed, position, grades queued for the writer).

Queue order: items with failed checks first, then flagged or badly rated ones, then items
reviewers disagree on, then the rest (interleaved across model × version when stratified,
shuffled with a recorded seed in blind and pairwise modes).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from llmbench.core.grading.rubrics import GradingRubric
from llmbench.services.grading.agreement import disagreement_scores
from llmbench.store import drafts as drafts_repo
from llmbench.store.db import Store
from llmbench.store.grading import grades as grades_repo
from llmbench.store.grading import queue as queue_repo
from llmbench.store.grading.grades import StoredGrade
from llmbench.store.grading.queue import Candidate, ItemBody
from llmbench.store.views import QueueItem

Mode = Literal["normal", "blind", "pairwise"]
MODES: tuple[Mode, ...] = ("normal", "blind", "pairwise")


@dataclass(frozen=True)
class QueueSpec:
    """How to build a queue; the strategies combine."""

    failed_first: bool = True
    flagged_first: bool = True
    """Flagged by users or low feedback, first; also brings such production calls in."""
    disagreements_first: bool = True
    only_disagreements: bool = False
    """The disagreement queue: only items reviewers (or judge and humans) disagree on."""
    production_share: float = 0.0
    """Add this share (0-1) of production calls, sampled at random with the seed."""
    stratify: bool = False
    """Interleave model × version so every stratum is graded early, not one after another."""
    per_stratum: int | None = None
    only_ungraded: bool = True
    """Leave out what this reviewer already graded."""
    run_ids: tuple[int, ...] = ()

    def describe(self) -> str:
        """One line for the pane: which strategies are on."""
        parts = []
        if self.failed_first or self.flagged_first or self.disagreements_first:
            parts.append("urgent first")
        if self.production_share:
            parts.append(f"{self.production_share:.0%} of production calls")
        if self.stratify:
            parts.append("stratified by model × version")
        parts.append("only ungraded" if self.only_ungraded else "graded ones too")
        return ", ".join(parts)


@dataclass(frozen=True)
class Pair:
    """Two outputs for the same input. `a` has the lower id; `left_is_a` records the side."""

    a: Candidate
    b: Candidate
    left_is_a: bool

    @property
    def key(self) -> str:
        return f"pair:{self.a.id}:{self.b.id}"

    @property
    def left(self) -> Candidate:
        return self.a if self.left_is_a else self.b

    @property
    def right(self) -> Candidate:
        return self.b if self.left_is_a else self.a


Entry = Candidate | Pair


@dataclass(frozen=True)
class Queue:
    rubric: GradingRubric
    reviewer: str
    mode: Mode
    entries: list[Entry]
    seed: int
    start: int
    """Where the reviewer stopped last time (index into entries)."""
    mine: dict[tuple[str, int], StoredGrade] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    """Why an entry is early in the queue: 'failed checks', 'flagged', 'disagreement'."""
    graded_before: int = 0


def build_queue(
    store: Store,
    rubric_id: int,
    reviewer: str,
    mode: Mode = "normal",
    spec: QueueSpec | None = None,
    *,
    seed: int | None = None,
) -> Queue:
    """Read everything a grading session needs but the item bodies (loaded as they come up)."""
    spec = spec or QueueSpec()
    if mode not in MODES:
        raise ValueError(f"unknown grading mode {mode!r}")
    db = store.read()
    rubric = grades_repo.grading_rubric(db, rubric_id)
    if rubric is None:
        raise LookupError(f"no rubric #{rubric_id}")
    state = grades_repo.session_state(db, reviewer, rubric_id, mode)
    if seed is None:
        seed = int(state["seed"]) if "seed" in state else random.SystemRandom().randrange(10**9)
    found = _items(db, rubric_id, spec, seed)
    mine = grades_repo.my_latest_grades(db, rubric_id, reviewer)
    disagreeing = disagreement_scores(
        grades_repo.latest_ratings(db, rubric_id),
        rubric,
        queue_repo.judge_verdicts(db, rubric_id),
    )
    if spec.only_disagreements:
        found = sorted(
            (c for c in found if c.key in disagreeing), key=lambda c: -disagreeing[c.key]
        )
    reasons: dict[str, str] = {}
    for candidate in found:
        if spec.failed_first and candidate.failed_checks:
            reasons[candidate.key] = "failed checks"
        elif spec.flagged_first and candidate.flagged:
            reasons[candidate.key] = "flagged"
        elif (spec.disagreements_first or spec.only_disagreements) and (
            candidate.key in disagreeing
        ):
            reasons[candidate.key] = "disagreement"
    shuffle = random.Random(seed) if mode != "normal" else None
    entries: list[Entry]
    graded_before = 0
    if mode == "pairwise":
        done_pairs = grades_repo.my_pairwise_pairs(db, rubric_id, reviewer)
        pairs = _pairs(found, seed)
        if spec.only_ungraded:
            graded_before = sum((p.a.id, p.b.id) in done_pairs for p in pairs)
            pairs = [p for p in pairs if (p.a.id, p.b.id) not in done_pairs]
        if shuffle is not None:
            shuffle.shuffle(pairs)
        entries = list(pairs)
    else:
        if spec.only_ungraded and not spec.only_disagreements:
            graded_before = sum((c.kind, c.id) in mine for c in found)
            found = [c for c in found if (c.kind, c.id) not in mine]
        entries = list(_order(found, reasons, spec, shuffle, keep=spec.only_disagreements))
    position = state.get("position")
    keys = [entry.key for entry in entries]
    start = keys.index(position) if position in keys else 0
    return Queue(
        rubric=rubric,
        reviewer=reviewer,
        mode=mode,
        entries=entries[start:] + entries[:start],
        seed=seed,
        start=0,
        mine=mine,
        reasons=reasons,
        graded_before=graded_before,
    )


def _items(db: Any, rubric_id: int, spec: QueueSpec, seed: int) -> list[Candidate]:
    """A rubric's items as a queue built with `spec` holds them: the one definition the queue
    and the F4 counts share."""
    return queue_repo.candidates(
        db,
        rubric_id,
        run_ids=spec.run_ids,
        production_share=spec.production_share,
        include_flagged_calls=spec.flagged_first,
        seed=seed,
    )


@dataclass(frozen=True)
class RubricCount:
    """What F4 lists for one rubric, counted over the items of the queue `g` opens."""

    rubric_id: int
    rubric: str
    description: str
    items: int
    graded_by_me: int  # items with a grade of mine (pairwise preferences are not grades)
    graded_by_others: int

    @property
    def remaining(self) -> int:
        """What the queue `g` opens holds (it leaves out what I graded)."""
        return self.items - self.graded_by_me


def rubric_counts(store: Store, reviewer: str, spec: QueueSpec | None = None) -> list[RubricCount]:
    """Per rubric: its items, those `reviewer` graded and those others graded, by the same
    definitions `build_queue` uses, so the list and the queue it opens agree."""
    spec = spec or QueueSpec()
    db = store.read()
    counts = []
    for rubric in grades_repo.grading_rubrics(db):
        rubric_id = rubric.id or 0
        state = grades_repo.session_state(db, reviewer, rubric_id, "normal")
        # A random share of production calls depends on the seed: the queue's own, once opened.
        seed = int(state.get("seed", 0))
        items = {(c.kind, c.id) for c in _items(db, rubric_id, spec, seed)}
        latest = grades_repo.latest_ratings(db, rubric_id)
        mine = {(g.kind, g.item_id) for g in latest if g.reviewer == reviewer}
        others = {(g.kind, g.item_id) for g in latest if g.reviewer != reviewer}
        counts.append(
            RubricCount(
                rubric_id, rubric.name, rubric.description, len(items),
                len(items & mine), len(items & others),
            )
        )  # fmt: skip
    return counts


def next_item(
    store: Store, rubric_id: int, reviewer: str, spec: QueueSpec | None = None
) -> QueueItem | None:
    """The item the queue `g` opens shows first (where the reviewer stopped), with its body."""
    queue = build_queue(store, rubric_id, reviewer, "normal", spec)
    entry = queue.entries[0] if queue.entries else None
    if not isinstance(entry, Candidate):
        return None
    body = item_bodies(store, [entry.key]).get(entry.key)
    if body is None:
        return None
    return QueueItem(
        kind=entry.kind,
        id=entry.id,
        source=body.source,
        prompt=entry.version,
        model=entry.model,
        inputs=body.inputs,
        expected=body.expected,
        output=body.output,
    )


def _order(
    found: list[Candidate],
    reasons: dict[str, str],
    spec: QueueSpec,
    shuffle: random.Random | None,
    *,
    keep: bool,
) -> list[Candidate]:
    if keep:  # the disagreement queue is already ranked, worst first
        return found
    tiers: dict[int, list[Candidate]] = defaultdict(list)
    rank = {"failed checks": 0, "flagged": 1, "disagreement": 2}
    for candidate in found:
        tiers[rank.get(reasons.get(candidate.key, ""), 3)].append(candidate)
    ordered: list[Candidate] = []
    for tier in sorted(tiers):
        items = tiers[tier]
        if shuffle is not None:
            shuffle.shuffle(items)
        if spec.stratify:
            items = stratified(items, spec.per_stratum)
        ordered.extend(items)
    return ordered


def stratified(items: Sequence[Candidate], per_stratum: int | None = None) -> list[Candidate]:
    """Round-robin over model × version, keeping each stratum's own order; at most
    `per_stratum` from each when given."""
    strata: dict[tuple[str, int | None], list[Candidate]] = defaultdict(list)
    for item in items:
        stratum = strata[(item.model, item.version_id)]
        if per_stratum is None or len(stratum) < per_stratum:
            stratum.append(item)
    ordered = []
    columns = list(strata.values())
    for index in range(max((len(c) for c in columns), default=0)):
        ordered.extend(column[index] for column in columns if index < len(column))
    return ordered


def _pairs(found: Sequence[Candidate], seed: int) -> list[Pair]:
    """Results for the same case of the same run (and repeat), two at a time: each arm against
    the next. Which side is shown left is drawn from the seed and the pair, so it is recorded
    and the same on reopening."""
    groups: dict[tuple[int | None, int | None, int], list[Candidate]] = defaultdict(list)
    for candidate in found:
        if candidate.kind == "result" and candidate.case_id is not None:
            groups[(candidate.run_id, candidate.case_id, candidate.repeat)].append(candidate)
    pairs = []
    for members in groups.values():
        members.sort(key=lambda c: c.id)
        for a, b in pairwise(members):
            left_is_a = random.Random(f"{seed}:{a.id}:{b.id}").random() < 0.5
            pairs.append(Pair(a, b, left_is_a))
    return pairs


def item_bodies(store: Store, keys: Sequence[str]) -> dict[str, ItemBody]:
    return queue_repo.item_bodies(store.read(), keys)


def record_session(store: Store, queue: Queue, position: str | None) -> None:
    """Remember the seed and where the reviewer is; queued, never waited for."""
    facts = {"seed": str(queue.seed)}
    if position is not None:
        facts["position"] = position
    store.submit(
        lambda db: grades_repo.record_session(
            db, queue.reviewer, queue.rubric.id or 0, queue.mode, **facts
        )
    )


def submit_grade(
    store: Store,
    grade: grades_repo.NewGrade,
    handle: grades_repo.GradeHandle,
    *,
    draft_key: str | None = None,
) -> Any:
    """Queue one grade for the writer (returns its Future); `handle` learns the row's id. The
    draft it was typed as (`draft_key`: levels, verdict, note) is deleted in the same job, so
    the note is never in neither place nor in both."""

    def job(db: Any) -> int:
        grade_id = grades_repo.insert_grade(db, grade, handle)
        if draft_key is not None:
            drafts_repo.delete_draft(db, draft_key)
        return grade_id

    return store.submit(job)


def submit_ungrade(store: Store, handle: grades_repo.GradeHandle) -> Any:
    """Queue the removal of a grade queued earlier (the writer runs jobs in order)."""
    return store.submit(lambda db: grades_repo.delete_grade(db, handle))
