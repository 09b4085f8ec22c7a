"""Running the cells of a run through the gateway: what draft comparisons and evaluations share.

A cell renders one template with one case's values, calls one model, is graded (optionally)
and is written at once: its result row, linked to the audit row of its call, and its checks,
in one writer job. So a run that is cancelled or killed keeps every cell it acknowledged, and
a resumed run only needs the cells that have no row yet.

Cells run concurrently up to a bound; the gateway's own per-model limits apply on top. Once
`cancelled()` is true no new cell starts and the cells in flight finish. A cell keeps its slot
until its rows are committed and reported, so a cancel asked for from `progress` stops the very
next cell (the commit costs a few milliseconds next to a model's hundreds). Provider failures
and templates that do not render become error cells; the run goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from llmbench.core.models import ToolCall
from llmbench.core.prompts.templates import Template, TemplateError, render_messages
from llmbench.core.tokens import count_tokens
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayError, GatewayResult
from llmbench.store.audit.feedback import call_id_for_request
from llmbench.store.db import Store
from llmbench.store.evaluation.runs import NewCheck, NewResult, add_checks, add_results

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class CellWatcher(Protocol):
    """Follows cells as they run, for a view that shows them live. Called on the gateway's
    event loop thread: implementations only record, they never block or touch widgets."""

    def started(self, cell: Cell) -> None: ...

    def streams(self, cell: Cell) -> bool:
        """Whether to stream this cell's answer (someone is looking at it); streaming costs a
        few times the CPU of a plain call, so cells out of sight are answered whole."""
        ...

    def chunk(self, cell: Cell, text: str) -> None: ...

    def finished(self, outcome: CellOutcome) -> None: ...


@dataclass(frozen=True)
class Cell:
    """One prompt (version) × model × case × repeat."""

    model: str
    template: Template | TemplateError  # an error makes every cell of that prompt an error
    values: Mapping[str, object]
    params: Mapping[str, Any]
    version_id: int | None
    case_id: int | None
    repeat: int = 0
    expected: str | None = None
    checks: tuple[Any, ...] = ()  # whatever the caller's grader understands
    group: str = ""  # the caller's name for the prompt side ("baseline", "support-reply@3")
    # The case's own grading rule (core.evaluation.transform_spec): the transform every check
    # sees the output through ("" for none), and the threshold of its weighted score.
    transform: str = ""
    threshold: float | None = None

    @property
    def key(self) -> tuple[int | None, str, int | None, int]:
        return (self.version_id, self.model, self.case_id, self.repeat)


@dataclass(frozen=True)
class Answer:
    """What the model did with a cell."""

    ok: bool
    output: str  # the answer, or the error text
    messages: tuple[Mapping[str, Any], ...] = ()
    request_id: str | None = None
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None  # None: unpriced (or not answered)
    tool_calls: tuple[ToolCall, ...] = ()  # the tools the model asked to call, in its order


@dataclass(frozen=True)
class Grade:
    checks: tuple[NewCheck, ...] = ()
    passed: bool | None = None  # None: no checks
    score: float | None = None
    # Why the cell could not be graded (its judge could not be reached): the cell is an error,
    # with this as its text, rather than a failed check. The answer stays in the audit log.
    error: str | None = None


@dataclass(frozen=True)
class CellOutcome:
    cell: Cell
    answer: Answer
    grade: Grade = field(default_factory=Grade)
    result_id: int = 0


Grader = Callable[[Cell, Answer], Awaitable[Grade]]


class CellRunner:
    """The cells of one run, on the gateway's event loop. `outcomes` fills as cells finish,
    so a caller interrupted while waiting can still read them (and `drained()` waits for the
    cells in flight)."""

    def __init__(
        self,
        gateway: Gateway,
        store: Store,
        run_id: int,
        *,
        concurrency: int,
        tags: Mapping[str, str],
        grader: Grader | None = None,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
        watcher: CellWatcher | None = None,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.run_id = run_id
        self.concurrency = max(1, concurrency)
        self.tags = dict(tags)
        self.grader = grader
        self.progress = progress
        self.cancelled = cancelled
        # The watcher sees cells start and finish, and the text of those it watches arrive.
        self.watcher = watcher
        self.outcomes: list[CellOutcome] = []
        self.total = 0
        self._tasks: list[asyncio.Task[CellOutcome | None]] = []

    @property
    def stopping(self) -> bool:
        return self.cancelled is not None and self.cancelled()

    async def run(self, cells: Sequence[Cell]) -> list[CellOutcome]:
        """Every cell not skipped by a cancel; the outcomes in the order they finished."""
        self.total = len(cells)
        limit = asyncio.Semaphore(self.concurrency)
        self._tasks = [asyncio.create_task(self._guarded(cell, limit)) for cell in cells]
        try:
            await asyncio.gather(*self._tasks)
        except BaseException:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            raise
        return list(self.outcomes)

    async def drained(self) -> list[CellOutcome]:
        """Wait for the cells already started (after a cancel, no new one starts)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return list(self.outcomes)

    async def _guarded(self, cell: Cell, limit: asyncio.Semaphore) -> CellOutcome | None:
        async with limit:
            if self.stopping:
                return None
            if self.watcher is not None:
                self.watcher.started(cell)
            answer = await self.answer(cell)
            grade = await self.grader(cell, answer) if self.grader and answer.ok else Grade()
            written = self._write(cell, answer, grade)
            outcome = CellOutcome(cell, answer, grade, await asyncio.wrap_future(written))
            self.outcomes.append(outcome)
            if self.watcher is not None:
                self.watcher.finished(outcome)
            # Still holding the slot: a cancel asked for here stops the next cell from starting.
            if self.progress is not None:
                self.progress(len(self.outcomes), self.total)
        return outcome

    async def answer(self, cell: Cell) -> Answer:
        try:
            if isinstance(cell.template, TemplateError):
                raise cell.template
            messages = render_messages(
                cell.template, cell.values, count=lambda text: count_tokens(text, cell.model)
            )
        except TemplateError as error:
            return Answer(ok=False, output=f"template error: {error}")
        try:
            result = await self._call(cell, messages)
        except GatewayError as error:
            return Answer(
                ok=False, output=str(error), messages=tuple(messages), request_id=error.request_id
            )
        completion = result.completion
        return Answer(
            ok=True,
            output=result.text,
            messages=tuple(messages),
            request_id=result.request_id,
            latency_ms=completion.latency_ms,
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            cost=completion.cost,
            tool_calls=completion.tool_calls,
        )

    async def _call(self, cell: Cell, messages: list[dict[str, Any]]) -> GatewayResult:
        options: dict[str, Any] = {
            "params": dict(cell.params),
            "tags": self.tags,
            "prompt_version_id": cell.version_id,
            "run_id": self.run_id,
            "route": False,
        }
        if self.watcher is None or not self.watcher.streams(cell):
            return await self.gateway.complete(cell.model, messages, **options)
        final: GatewayResult | None = None
        async for piece in self.gateway.stream(cell.model, messages, **options):
            if isinstance(piece, GatewayResult):
                final = piece
            else:
                self.watcher.chunk(cell, piece)
        if final is None:  # the gateway always ends a stream with its result or raises
            raise RuntimeError("the stream ended without a result")
        return final

    def _write(self, cell: Cell, answer: Answer, grade: Grade) -> Future[int]:
        """Queue the cell's rows; the future gives its result id once they are committed."""
        request_id = answer.request_id

        def job(db: Any) -> int:
            # The recorder queued the call's audit row before the gateway returned, and the
            # writer runs jobs in order, so the row is there to link to.
            call_id = call_id_for_request(db, request_id) if request_id else None
            (result_id,) = add_results(
                db,
                self.run_id,
                [
                    NewResult(
                        version_id=cell.version_id,
                        model=cell.model,
                        case_id=cell.case_id,
                        call_id=call_id,
                        output=grade.error if grade.error else answer.output,
                        status="ok" if answer.ok and not grade.error else "error",
                        score=None if grade.error else grade.score,
                        repeat=cell.repeat,
                        tool_calls=tool_calls_json(answer.tool_calls),
                    )
                ],
            )
            add_checks(db, [replace(check, result_id=result_id) for check in grade.checks])
            return result_id

        return self.store.submit(job)


def tool_calls_json(calls: Sequence[ToolCall]) -> str | None:
    """A cell's tool calls as `results.tool_calls` keeps them; None for an answer without."""
    if not calls:
        return None
    return json.dumps([call.as_dict() for call in calls], ensure_ascii=False)


def shown_output(output: str, tool_calls: Sequence[ToolCall]) -> str:
    """A cell's answer as F3 shows it: its text, then each tool call it made as
    `→ name(arguments)`, one a line (the F6 detail's form)."""
    lines = [f"→ {call.name}({call.arguments})" for call in tool_calls]
    return "\n".join([output, *lines] if output else lines)
