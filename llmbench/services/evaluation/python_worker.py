"""The Python process that runs a run's `python` checks, one at a time, for as long as the run
lasts (services.evaluation.scripts starts it, talks to it and replaces it when it hangs or dies).

It is started as `python -I -c WORKER_SOURCE`: isolated mode (no user site, no PYTHON*
variables, the script's folder not on the path), no llmbench import. Requests and answers are
JSON lines on a private pipe; the check's own prints go to stderr, so they cannot corrupt the
protocol. Each check runs its code afresh (a file is executed again, inline code is compiled
again), so one check's module-level state is not another's.
"""

from __future__ import annotations

WORKER_SOURCE = r"""
import json, os, sys, traceback

protocol_in = os.fdopen(int(sys.argv[1]), "r", encoding="utf-8")
protocol_out = os.fdopen(int(sys.argv[2]), "w", encoding="utf-8")
sys.stdin = open(os.devnull, encoding="utf-8")
sys.stdout = sys.stderr

def run(request):
    source = request["source"]
    namespace = {"__name__": "__llmbench_check__"}
    if source.get("path"):
        path = source["path"]
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in sys.path:
            sys.path.insert(0, folder)
        namespace["__file__"] = path
        with open(path, encoding="utf-8") as file:
            code = compile(file.read(), path, "exec")
        name = source.get("function") or "get_assert"
    else:
        code = compile(source["code"], "<assertion>", "exec")
        name = "main"
    exec(code, namespace)
    function = namespace.get(name)
    if not callable(function):
        raise LookupError(f"no function {name}() in {source.get('path') or 'the assertion'}")
    return function(request["output"], request["context"])

for line in protocol_in:
    request = json.loads(line)
    try:
        answer = {"ok": True, "result": run(request)}
        text = json.dumps(answer, default=str)
    except BaseException as error:  # the check's own error (even sys.exit), reported, not fatal
        lines = traceback.format_exception_only(type(error), error)
        text = json.dumps({"ok": False, "error": "".join(lines).strip()})
    protocol_out.write(text + "\n")
    protocol_out.flush()
"""
