"""The OpenTelemetry Collector's `file` exporter output as calls: JSON lines, each one OTLP
JSON ExportTraceServiceRequest (https://github.com/open-telemetry/opentelemetry-collector-
contrib/tree/main/exporter/fileexporter, `format: json`, the default). Its GenAI model-call
spans become calls; other spans are skipped.

Read twice: first for which spans are model calls (a parent span ends after its children, so
it is often written on a later line), then for the calls, so each call's parent is linked
wherever the parent's line is. A line that is not such a request, or a model-call span that
cannot be a call, is a problem with its line number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmbench.importers.bounds import NestingError
from llmbench.importers.calls.common import CallOrProblem, ImportProblem
from llmbench.importers.calls.otlp_request import decode_json, spans_of
from llmbench.importers.calls.otlp_spans import SpanLinks, calls_of_spans

Progress = Callable[[int, int], None]


def _requests(path: Path) -> Iterator[tuple[int, int, ExportTraceServiceRequest | ImportProblem]]:
    """(line number, bytes read so far, the line's request or its problem) per non-blank line."""
    read = 0
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        yield 0, 0, ImportProblem(str(path), error.strerror or str(error))
        return
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                read += len(line.encode("utf-8"))
                if not line.strip():
                    continue
                try:
                    yield number, read, decode_json(line)
                except NestingError as error:
                    yield number, read, ImportProblem(f"{path.name}:{number}", str(error))
                except ValueError as error:  # JSONDecodeError, or not an export request
                    reason = getattr(error, "msg", None) or str(error)
                    yield number, read, ImportProblem(f"{path.name}:{number}", reason)
        except UnicodeDecodeError:  # text is decoded a block at a time: no line to name
            yield 0, read, ImportProblem(path.name, "not UTF-8 text")


def iter_otlp_calls(path: Path, progress: Progress | None = None) -> Iterator[CallOrProblem]:
    """One call per model-call span of the file, or a problem per line (or span) it cannot
    read, in file order."""
    links = SpanLinks()
    for _, _, found in _requests(path):
        if isinstance(found, ImportProblem):
            yield found
            continue
        links.add(spans_of(found))
    size = max(path.stat().st_size, 1) if path.is_file() else 1
    for number, read, found in _requests(path):
        if isinstance(found, ImportProblem):
            continue  # reported on the first pass
        batch = calls_of_spans(list(spans_of(found)), links=links)
        yield from batch.calls
        for problem in batch.problems:
            yield ImportProblem(f"{path.name}:{number}", problem)
        if progress:
            progress(read, size)
    if progress:
        progress(size, size)
