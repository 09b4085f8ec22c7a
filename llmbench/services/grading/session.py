"""One reviewer grading a queue, key by key: what each key does to the grade being built, when a
grade is written, and how undo takes it back. No UI and no waiting: each step returns the writes
to queue (`Write`, `Delete`), which the caller submits to the store's writer at once.

A grade is complete when every dimension has a level and the verdict (y / n) is given, in any
order: digits set the active dimension's level and move on to the next unset one, y / n set the
verdict, and the key that completes the grade writes it and moves to the next item. So a y / n
pressed after the digits lands on the item just scored, never on the next one, and no grade is
written without its verdict. (Pairwise: a / b / = is the whole grade.) Undo takes back one step
at a time, deleting the grade a step wrote.

A grade counts as done once the writer says it landed (`landed`); a write the file refused
(`refused`) leaves the item ungraded, so the count never runs ahead of the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from llmbench.core.grading.rubrics import Dimension
from llmbench.services.grading.queues import Entry, Pair, Queue
from llmbench.store.grading.grades import GradeHandle, NewGrade


@dataclass(frozen=True)
class Draft:
    """The grade being built for one entry."""

    scores: dict[str, int] = field(default_factory=dict)
    verdict: str | None = None
    note: str = ""
    active: int = 0  # index of the active dimension
    written: bool = False  # handed to the writer
    saved: bool = False  # in the file: the writer committed it

    @property
    def started(self) -> bool:
        """Anything typed that a grade of this item would carry."""
        return bool(self.scores or self.verdict or self.note)

    def kept(self) -> dict[str, Any]:
        """What a draft of this grade in progress holds."""
        return {"scores": dict(self.scores), "verdict": self.verdict, "note": self.note}


@dataclass(frozen=True)
class Write:
    grade: NewGrade
    handle: GradeHandle
    key: str  # the entry's key: where `landed` and `refused` report back


@dataclass(frozen=True)
class Delete:
    handle: GradeHandle


Effect = Write | Delete


@dataclass(frozen=True)
class _Step:
    position: int
    key: str
    draft: Draft
    handle: GradeHandle | None  # the grade this step wrote, if it wrote one


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    per_minute: float | None
    minutes_left: float | None


class GradingSession:
    def __init__(
        self,
        queue: Queue,
        *,
        clock: Callable[[], float] = time.monotonic,
        kept: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """`kept`: grades in progress kept as drafts by an earlier session, by item key."""
        self.queue = queue
        self.clock = clock
        self.position = queue.start
        self.drafts: dict[str, Draft] = {}
        self.handles: dict[str, GradeHandle] = {}
        self.spent: dict[str, float] = {}
        self._undo: list[_Step] = []
        self._shown_at = clock()
        self._started = self._shown_at
        self._written_in_session: list[str] = []
        for entry in queue.entries:
            if isinstance(entry, Pair):
                continue
            stored = queue.mine.get((entry.kind, entry.id))
            if stored is not None:
                scores = {k: v for k, v in stored.scores.items() if isinstance(v, int)}
                unset = self._first_unset(scores)
                active = unset if unset is not None else 0
                self.drafts[entry.key] = Draft(
                    scores, stored.verdict, stored.note, active, written=True, saved=True
                )
        for key, body in (kept or {}).items():
            self._restore(key, body)

    # -- where we are ----------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        return self.queue.entries

    @property
    def current(self) -> Entry | None:
        if 0 <= self.position < len(self.entries):
            return self.entries[self.position]
        return None

    @property
    def finished(self) -> bool:
        return self.position >= len(self.entries)

    def draft(self, entry: Entry | None = None) -> Draft:
        entry = entry if entry is not None else self.current
        return self.drafts.get(entry.key, Draft()) if entry is not None else Draft()

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        return self.queue.rubric.dimensions

    @property
    def active_dimension(self) -> Dimension | None:
        if not self.dimensions or isinstance(self.current, Pair):
            return None
        return self.dimensions[min(self.draft().active, len(self.dimensions) - 1)]

    @property
    def awaiting_verdict(self) -> bool:
        """Every dimension is set on the current item and only its verdict is missing."""
        entry, draft = self.current, self.draft()
        return (
            entry is not None
            and not isinstance(entry, Pair)
            and draft.verdict is None
            and self._first_unset(draft.scores) is None
        )

    def progress(self) -> Progress:
        done = sum(1 for e in self.entries if self.drafts.get(e.key, Draft()).saved)
        total = len(self.entries)
        graded_here = len(self._written_in_session)
        minutes = (self.clock() - self._started) / 60
        rate = graded_here / minutes if graded_here and minutes > 0 else None
        left = (total - done) / rate if rate else None
        return Progress(done, total, rate, left)

    # -- keys ------------------------------------------------------------------------------

    def level(self, key: str) -> list[Effect]:
        """A level key (a digit) for the active dimension."""
        entry, dimension = self.current, self.active_dimension
        if entry is None or dimension is None:
            return []
        level = dimension.level_for_key(key)
        if level is None:
            return []
        draft = self.draft()
        scores = {**draft.scores, dimension.name: level.score}
        index = self.dimensions.index(dimension)
        following = self._first_unset(scores, after=index)
        if following is None and draft.written and index < len(self.dimensions) - 1:
            following = index + 1  # regrading walks every dimension before it rewrites
        if following is not None:
            self._change(replace(draft, scores=scores, active=following))
            return []
        if draft.verdict is None:  # complete but for its verdict: y / n finishes this item
            self._change(replace(draft, scores=scores, active=index))
            return []
        return self._complete(replace(draft, scores=scores, active=index))

    def verdict(self, verdict: str) -> list[Effect]:
        entry = self.current
        if entry is None or isinstance(entry, Pair):
            return []
        draft = replace(self.draft(), verdict=verdict)
        if self._first_unset(draft.scores) is None:
            return self._complete(draft)
        self._change(draft)
        return []

    def prefer(self, side: str) -> list[Effect]:
        """Pairwise: 'left', 'right' or 'tie'. Recorded as a / b / tie of the pair's own order
        (a = the lower result id), with the side each was shown on."""
        entry = self.current
        if not isinstance(entry, Pair) or side not in ("left", "right", "tie"):
            return []
        shown_a = (side == "left") == entry.left_is_a
        verdict = "tie" if side == "tie" else ("a" if shown_a else "b")
        return self._complete(replace(self.draft(), verdict=verdict))

    def note(self, text: str) -> list[Effect]:
        """A note on the current item; written at once when its grade already was."""
        if self.current is None:
            return []
        draft = replace(self.draft(), note=text)
        if draft.written:
            return self._complete(draft, advance=False)
        self._change(draft)
        return []

    # -- what the writer says ------------------------------------------------------------------

    def landed(self, key: str, handle: GradeHandle) -> None:
        """The grade written with `handle` is in the file: the item counts as done."""
        draft = self.drafts.get(key)
        if draft is not None and self.handles.get(key) is handle:
            self.drafts[key] = replace(draft, saved=True)

    def refused(self, key: str, handle: GradeHandle) -> None:
        """The file refused the grade written with `handle`: the item is ungraded again, with
        what was typed kept on screen so it can be given again once the file takes writes."""
        draft = self.drafts.get(key)
        if draft is None or self.handles.get(key) is not handle:
            return
        del self.handles[key]
        self.drafts[key] = replace(draft, written=False, saved=False)
        if key in self._written_in_session:
            self._written_in_session.remove(key)

    def _restore(self, key: str, body: Mapping[str, Any]) -> None:
        names = {dimension.name for dimension in self.dimensions}
        scores = body.get("scores")
        scores = {
            name: value
            for name, value in (scores.items() if isinstance(scores, Mapping) else ())
            if name in names and isinstance(value, int)
        }
        verdict = body.get("verdict") if body.get("verdict") in ("pass", "fail") else None
        note = body.get("note") if isinstance(body.get("note"), str) else ""
        stored = self.drafts.get(key, Draft())
        unset = self._first_unset(scores)
        self.drafts[key] = replace(
            stored,
            scores=scores or stored.scores,
            verdict=verdict or stored.verdict,
            note=str(note) or stored.note,
            active=unset if unset is not None else 0,
        )

    def dimension_step(self, step: int) -> None:
        if self.current is None or not self.dimensions or isinstance(self.current, Pair):
            return
        draft = self.draft()
        active = (draft.active + step) % len(self.dimensions)
        self._change(replace(draft, active=active), undoable=False)

    def move(self, step: int) -> None:
        """j / k: the next or previous item, grading nothing."""
        self._go(max(0, min(self.position + step, len(self.entries))))

    def skip(self) -> None:
        self._undo.append(_Step(self.position, self._key(), self.draft(), None))
        self._go(min(self.position + 1, len(self.entries)))

    def undo(self) -> list[Effect]:
        if not self._undo:
            return []
        step = self._undo.pop()
        self._go(step.position)
        self.drafts[step.key] = step.draft
        if step.handle is None:
            return []
        if step.key in self._written_in_session:
            self._written_in_session.remove(step.key)
        if self.handles.get(step.key) is step.handle:
            del self.handles[step.key]
        return [Delete(step.handle)]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    # -- inner workings --------------------------------------------------------------------

    def _key(self) -> str:
        entry = self.current
        return entry.key if entry is not None else ""

    def _first_unset(self, scores: dict[str, int], after: int = -1) -> int | None:
        names = [d.name for d in self.dimensions]
        for index in list(range(after + 1, len(names))) + list(range(0, after + 1)):
            if names[index] not in scores:
                return index
        return None

    def _change(self, draft: Draft, *, undoable: bool = True) -> None:
        if undoable:
            self._undo.append(_Step(self.position, self._key(), self.draft(), None))
        self.drafts[self._key()] = draft

    def _complete(self, draft: Draft, *, advance: bool = True) -> list[Effect]:
        entry = self.current
        assert entry is not None
        now = self.clock()
        seconds = self.spent.get(entry.key, 0.0) + (now - self._shown_at)
        self.spent[entry.key] = seconds
        self._shown_at = now
        handle = GradeHandle()
        self._undo.append(_Step(self.position, entry.key, self.draft(), handle))
        # Saved (counted as done) once the writer says so; a regrade keeps counting meanwhile.
        self.drafts[entry.key] = replace(draft, written=True, saved=self.draft().saved)
        self.handles[entry.key] = handle
        if entry.key not in self._written_in_session:
            self._written_in_session.append(entry.key)
        grade = self._grade(entry, draft, seconds)
        if advance:
            self._go(self.position + 1, count_time=False)
        return [Write(grade, handle, entry.key)]

    def _grade(self, entry: Entry, draft: Draft, seconds: float) -> NewGrade:
        rubric_id = self.queue.rubric.id or 0
        if isinstance(entry, Pair):
            return NewGrade(
                rubric_id=rubric_id,
                reviewer=self.queue.reviewer,
                scores={"pair_a": entry.a.id, "pair_b": entry.b.id, "left": entry.left.id},
                verdict=draft.verdict,
                note=draft.note,
                seconds=round(seconds, 2),
                mode="pairwise",
                result_id=entry.a.id,
            )
        return NewGrade(
            rubric_id=rubric_id,
            reviewer=self.queue.reviewer,
            scores=dict(draft.scores),
            verdict=draft.verdict,
            note=draft.note,
            seconds=round(seconds, 2),
            mode=self.queue.mode,
            call_id=entry.id if entry.kind == "call" else None,
            result_id=entry.id if entry.kind == "result" else None,
        )

    def _go(self, position: int, *, count_time: bool = True) -> None:
        now = self.clock()
        if count_time and self.current is not None:
            key = self.current.key
            self.spent[key] = self.spent.get(key, 0.0) + (now - self._shown_at)
        self._shown_at = now
        self.position = position
