"""Running `python` and `javascript` checks (core.evaluation.script_spec says what they are and
how their answers read).

Python runs in one worker process per run (python_worker), reused from check to check (about a
millisecond a check instead of the ~20 ms of a new interpreter) and replaced when a check hangs
past its timeout or kills the process: the check fails with that reason, and the next check gets
a fresh worker. JavaScript runs in QuickJS (the `quickjs` wheel, the `js` extra) with a time
and a memory limit, a fresh context per check, with no file, network or process access; where
it is not installed a javascript check is skipped and says so.

Both run off the event loop (a thread each call) and one check at a time per runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.script_spec import (
    ScriptSource,
    inline_javascript,
    inline_python,
)
from llmbench.services.evaluation.python_worker import WORKER_SOURCE

DEFAULT_SCRIPT_TIMEOUT_S = 30.0
JS_MEMORY_LIMIT = 256 * 1024 * 1024
JS_UNAVAILABLE = "no JavaScript engine: install llmbench[js] (the quickjs wheel) to run it"
MAX_ANSWER_CHARS = 1_000_000


class ScriptError(Exception):
    """The code could not give an answer (it raised, hung, or killed its process)."""


class ScriptSkipped(Exception):
    """The code cannot run here (no engine for it); the message says why."""


@dataclass(frozen=True)
class ScriptCall:
    source: ScriptSource
    output: object  # the model's text, or what a transform made of it (any JSON value)
    context: Mapping[str, Any]


class PythonWorker:
    """One `python -I` process answering check calls over a pipe; blocking calls."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._to_worker = -1
        self._from_worker = -1
        self._buffer = b""

    def _start(self) -> None:
        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", WORKER_SOURCE, str(to_read), str(from_write)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_read, from_write),
            close_fds=True,
        )
        os.close(to_read)
        os.close(from_write)
        self._to_worker, self._from_worker = to_write, from_read
        self._buffer = b""

    def call(self, request: Mapping[str, Any]) -> object:
        if self.process is None or self.process.poll() is not None:
            self._start()
        line = (json.dumps(request, default=str) + "\n").encode("utf-8", "surrogatepass")
        try:
            self._write_all(line)
        except OSError as error:
            self.close()
            raise ScriptError(f"the Python process is gone ({error})") from None
        answer = self._read_line()
        data = json.loads(answer)
        if not data.get("ok"):
            raise ScriptError(str(data.get("error") or "the code raised"))
        return data.get("result")

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._to_worker, view)
            view = view[written:]

    def _read_line(self) -> str:
        deadline = time.monotonic() + self.timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(self._from_worker, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.close()
                    raise ScriptError(f"timed out after {self.timeout_s:g} s")
                chunk = os.read(self._from_worker, 65536)
                if not chunk:
                    code = self.close()
                    raise ScriptError(f"the Python process ended (exit code {code})")
                self._buffer += chunk
                if len(self._buffer) > MAX_ANSWER_CHARS:
                    self.close()
                    raise ScriptError("the answer is too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace")

    def close(self) -> int | None:
        process, self.process = self.process, None
        for fd in (self._to_worker, self._from_worker):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_worker = self._from_worker = -1
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        return process.wait()


def _javascript_program(call: ScriptCall) -> str:
    """A program whose value is the JSON text of what the check's function returned."""
    source = call.source
    output = json.dumps(call.output)
    context = json.dumps(call.context, default=str)
    prelude = (
        f"const output = {output}; const context = {context};"
        "const process = {env: {}};"
        "function require(name) { throw new Error('require(' + name + ') is not available to "
        "checks run by llmbench'); }"
    )
    if not source.is_file:
        body = inline_javascript(source.code)
        call_expression = (
            f"(function(output, context, process) {{\n{body}\n}})(output, context, process)"
        )
    else:
        text = Path(source.path).read_text(encoding="utf-8")
        name = json.dumps(source.function)
        call_expression = (
            "(function() { const module = {exports: {}}; let exports = module.exports;"
            f"(function(module, exports) {{\n{text}\n}})(module, exports);"
            "const found = module.exports;"
            f"const name = {name};"
            "let fn = name ? found[name] : (typeof found === 'function' ? found : found.default);"
            "if (typeof fn !== 'function') { return fn; }"
            "return fn(output, context); })()"
        )
    return (
        f"{prelude}\n(function() {{ const result = {call_expression};\n"
        "if (result && typeof result.then === 'function') { throw new Error("
        "'the check returned a Promise: llmbench runs synchronous checks only'); }\n"
        "return JSON.stringify(result === undefined ? null : result); })()"
    )


def run_javascript(call: ScriptCall, timeout_s: float) -> object:
    """The check's answer; ScriptSkipped without QuickJS, ScriptError when the code fails."""
    try:
        import quickjs
    except ImportError:
        raise ScriptSkipped(JS_UNAVAILABLE) from None
    try:
        program = _javascript_program(call)
    except OSError as error:
        raise ScriptError(f"cannot read {call.source.path}: {error.strerror}") from None
    context = quickjs.Context()
    context.set_time_limit(timeout_s)
    context.set_memory_limit(JS_MEMORY_LIMIT)
    try:
        text = context.eval(program)
    except quickjs.JSException as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        if "interrupted" in message.lower():
            message = f"timed out after {timeout_s:g} s"
        raise ScriptError(message) from None
    return json.loads(text) if isinstance(text, str) else text


class ScriptRunner:
    """A run's runner of python and javascript checks: one Python worker, started at the first
    python check and closed with `close()`."""

    def __init__(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s or DEFAULT_SCRIPT_TIMEOUT_S
        self._python = PythonWorker(self.timeout_s)
        self._lock = threading.Lock()

    async def run(self, call: ScriptCall) -> object:
        return await asyncio.to_thread(self.run_blocking, call)

    def run_blocking(self, call: ScriptCall) -> object:
        source = call.source
        if source.kind == "javascript":
            return run_javascript(call, self.timeout_s)
        if source.is_file:
            if not Path(source.path).is_file():
                raise ScriptError(f"no such file: {source.path}")
            wire = {"path": source.path, "function": source.function}
        else:
            wire = {"code": inline_python(source.code)}
        request = {"source": wire, "output": call.output, "context": dict(call.context)}
        with self._lock:
            return self._python.call(request)

    def close(self) -> None:
        with self._lock:
            self._python.close()
