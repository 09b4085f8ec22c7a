#!/usr/bin/env bash
# Interop check: llmbench's `export otel` against a real Arize Phoenix (issue #21).
#
# Starts Phoenix (PyPI `arize-phoenix`, pinned below) from a throwaway virtualenv on free
# loopback ports with its data in a temp folder, builds a demo database with llmbench, sends
# its calls to Phoenix with `llmbench export otel`, then asks Phoenix's own REST and GraphQL
# APIs whether they arrived (scripts/interop_phoenix_check.py) and prints a JSON verdict on
# stdout. Everything it started or made is removed on exit, whatever the outcome.
#
# Usage: scripts/interop_phoenix.sh > verdict.json
#   LLMBENCH=/path/to/llmbench  use this llmbench (default: a fresh venv of this checkout
#                               with the [otel] extra, in the temp folder)
#   CALLS=5000                  demo size: the demo makes its conversations (tool loops whose
#                               steps nest) from about 5,000 calls on
#   PHOENIX_VERSION=20.26.1     the Phoenix release to install
#   PYTHON=python3.11           the interpreter both venvs are made with
#   PHOENIX_VENV=/path          use (or make, and keep) Phoenix's venv there instead
#   BODIES=1                    export with --bodies (the demo's made-up messages and answers)
#                               and check them too; BODIES=0: metadata only
# Needs: bash, curl, Python 3.11, and PyPI (or a mirror pip is set up for).
# Exit status: 0 when every check passed, 1 when one failed, 2 when a step could not run.
set -euo pipefail

PHOENIX_VERSION="${PHOENIX_VERSION:-20.26.1}"
CALLS="${CALLS:-5000}"
PYTHON="${PYTHON:-python3.11}"
BODIES="${BODIES:-1}"
# Phoenix files spans under the project the x-project-name header names (else "default").
PROJECT="llmbench-interop"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/llmbench-phoenix.XXXXXX")"
PHOENIX_PID=""

cleanup() {
    local status=$?
    if [[ -n "$PHOENIX_PID" ]] && kill -0 "$PHOENIX_PID" 2>/dev/null; then
        # Phoenix runs in a process group of its own (setsid, where there is one): stop the
        # server and anything it started, wait up to 10 s, then make sure nothing is left.
        kill -TERM -- "-$PHOENIX_PID" 2>/dev/null || kill -TERM "$PHOENIX_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$PHOENIX_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$PHOENIX_PID" 2>/dev/null || kill -KILL "$PHOENIX_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

say() { printf '[interop-phoenix] %s\n' "$*" >&2; }
fail() {
    say "$*"
    exit 2
}
now_ms() { "$PYTHON" -c 'import time; print(int(time.time() * 1000))'; }
seconds_since() { "$PYTHON" -c "import time; print(round(time.time() - $1 / 1000, 1))"; }
RUN_START=$(now_ms)

# Two free loopback ports: Phoenix's HTTP port (UI, REST, GraphQL and OTLP/HTTP /v1/traces)
# and its OTLP/gRPC port, which it always opens, so the default 4317 must not clash either.
read -r HTTP_PORT GRPC_PORT < <(
    "$PYTHON" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
for s in sockets:
    s.close()
EOF
)

# --- Phoenix ------------------------------------------------------------------------------
PHOENIX_VENV="${PHOENIX_VENV:-$WORK/phoenix-venv}"
if [[ ! -x "$PHOENIX_VENV/bin/phoenix" ]]; then
    say "installing arize-phoenix==$PHOENIX_VERSION into $PHOENIX_VENV"
    "$PYTHON" -m venv "$PHOENIX_VENV"
    "$PHOENIX_VENV/bin/pip" install "arize-phoenix==$PHOENIX_VERSION" >"$WORK/pip-phoenix.log" 2>&1 \
        || { tail -30 "$WORK/pip-phoenix.log" >&2; fail "pip could not install arize-phoenix"; }
fi
INSTALLED="$("$PHOENIX_VENV/bin/python" -c \
    'from importlib.metadata import version; print(version("arize-phoenix"))')"

mkdir -p "$WORK/phoenix-data"
say "starting Phoenix $INSTALLED on 127.0.0.1:$HTTP_PORT (OTLP/gRPC $GRPC_PORT)"
LAUNCH=()
command -v setsid >/dev/null && LAUNCH=(setsid)
PHOENIX_START=$(now_ms)
PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$HTTP_PORT" PHOENIX_GRPC_PORT="$GRPC_PORT" \
    PHOENIX_WORKING_DIR="$WORK/phoenix-data" PHOENIX_TELEMETRY_ENABLED=false \
    ${LAUNCH[@]+"${LAUNCH[@]}"} "$PHOENIX_VENV/bin/phoenix" serve >"$WORK/phoenix.log" 2>&1 &
PHOENIX_PID=$!

# --- llmbench (while Phoenix starts) ------------------------------------------------------
if [[ -z "${LLMBENCH:-}" ]]; then
    say "installing this checkout ($REPO) with [otel] into a venv of its own"
    "$PYTHON" -m venv "$WORK/llmbench-venv"
    "$WORK/llmbench-venv/bin/pip" install "$REPO[otel]" >"$WORK/pip-llmbench.log" 2>&1 \
        || { tail -30 "$WORK/pip-llmbench.log" >&2; fail "pip could not install llmbench"; }
    LLMBENCH="$WORK/llmbench-venv/bin/llmbench"
fi
# The demo and the export must neither read the user's config nor leave the demo's chain key
# in their OS keyring: llmbench's data and config go to the temp folder, and with no usable
# keyring the key is a 0600 file there too.
export LLMBENCH_HOME="$WORK/llmbench-home" LLMBENCH_DB="$WORK/demo.db"
export PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring

say "building a $CALLS-call demo database"
DEMO_START=$(now_ms)
"$LLMBENCH" demo --db "$WORK/demo.db" --no-tui --calls "$CALLS" >"$WORK/demo.log" 2>&1 \
    || { tail -20 "$WORK/demo.log" >&2; fail "llmbench demo failed"; }
DEMO_S=$(seconds_since "$DEMO_START")
# The calls as recorded, written by llmbench's own export: the checks' expected values.
"$LLMBENCH" logs export --db "$WORK/demo.db" "$WORK/calls.jsonl" 2>/dev/null

# --- wait for Phoenix ---------------------------------------------------------------------
until curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$PHOENIX_PID" 2>/dev/null; then
        tail -40 "$WORK/phoenix.log" >&2
        fail "Phoenix exited before it was up"
    fi
    if (($(now_ms) - PHOENIX_START > 300000)); then
        tail -40 "$WORK/phoenix.log" >&2
        fail "Phoenix was not up after 300 s"
    fi
    sleep 0.5
done
PHOENIX_UP_S=$(seconds_since "$PHOENIX_START")
say "Phoenix up ${PHOENIX_UP_S} s after its start"

# --- export and check ---------------------------------------------------------------------
say "llmbench export otel --endpoint http://127.0.0.1:$HTTP_PORT (BODIES=$BODIES)"
if [[ "$BODIES" == 1 ]]; then BODY_FLAG=(--bodies); else BODY_FLAG=(--no-bodies); fi
EXPORT_START=$(now_ms)
"$LLMBENCH" export otel --db "$WORK/demo.db" --endpoint "http://127.0.0.1:$HTTP_PORT" \
    --header "x-project-name=$PROJECT" "${BODY_FLAG[@]}" 2>"$WORK/export.log" \
    || { cat "$WORK/export.log" >&2; fail "llmbench export otel failed"; }
EXPORT_MS=$(($(now_ms) - EXPORT_START))
cat "$WORK/export.log" >&2
# "sent 5,000 spans to URL"
SENT="$(sed -n 's/^sent \([0-9,]*\) span.*/\1/p' "$WORK/export.log" | tr -d ,)"
[[ -n "$SENT" ]] || fail "could not read the span count from: $(cat "$WORK/export.log")"

"$PYTHON" "$HERE/interop_phoenix_check.py" \
    --url "http://127.0.0.1:$HTTP_PORT" \
    --project "$PROJECT" \
    --calls "$WORK/calls.jsonl" \
    --sent "$SENT" \
    --export-ms "$EXPORT_MS" \
    --phoenix-version "$INSTALLED" \
    "$([[ "$BODIES" == 1 ]] && echo --bodies || echo --no-bodies)" \
    --timing "phoenix_up_s=$PHOENIX_UP_S" "demo_build_s=$DEMO_S" \
    --run-start-ms "$RUN_START"
