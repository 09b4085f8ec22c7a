"""`llmbench collect` as a user runs it: it says where it listens, prints a line per batch,
and Ctrl+C (SIGINT) stops it cleanly with the calls recorded."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from llmbench.store.db import open_db
from tests.support.genai_spans import otlp_json, recorded_spans

# Generous: three suites share two cores in CI; a stop that hangs still fails, with its stacks.
STOP_TIMEOUT_S = 120


def test_collect_records_a_batch_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    database = tmp_path / "collect.db"
    command = "import sys; from llmbench.cli import main; sys.argv[0] = 'llmbench'; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "collect", "--port", "0", "--db", str(database)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/v1/traces", first)
        assert found, first + (process.stderr.read() if process.poll() is not None else "")
        # As an exporter does, the connection is kept alive: Ctrl+C must not wait for it.
        exporter = http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=120)
        exporter.request(
            "POST",
            "/v1/traces",
            body=otlp_json(recorded_spans()).encode(),
            headers={"Content-Type": "application/json"},
        )
        answer = exporter.getresponse()
        answer.read()
        assert answer.status == 200
        batch = process.stdout.readline()
        assert "5 spans: 3 calls added, 2 not GenAI (skipped)" in batch
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            # Where it hangs: faulthandler (PYTHONFAULTHANDLER) prints every thread on SIGABRT.
            process.send_signal(signal.SIGABRT)
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"collect did not stop on Ctrl+C:\n{err[-6000:]}") from None
        assert time.monotonic() - stopping < STOP_TIMEOUT_S
        exporter.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")
    assert "Traceback" not in err
    with open_db(database) as store:
        assert store.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 3
