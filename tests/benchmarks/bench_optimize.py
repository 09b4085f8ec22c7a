"""The optimizer's figure on the demo database (issue #24): every prompt's candidates tested
offline, and the projected monthly saving of those that hold quality as a share of the month's
spend, for the whole demo and for its optimizer prompt (`extract-order`, on the built-in
models) alone. The seed's "30-50% without sacrificing quality" is the bar.

Run: python tests/benchmarks/bench_optimize.py [--calls 20000]

Offline: a candidate whose run needs a hosted model (the story's prompts run on gpt-4o, Claude
and Gemini) is judged by a run already recorded that compared it with the production version
(the story's extract-invoice run, the support-reply bake-off of demo/optimize_runs.py), through
the same migration report and rule as a fresh run; without one it is listed as not tested and
counts for nothing. The exact cache's replay needs no run and counts, its answers kept as long
as the gateway's cache keeps them (24 h). A version that began serving inside the month is
projected at its pace over the days it served; the held candidates of one prompt stack (each
saves its share of what the others leave). Prints each verdict, then JSON: {"calls", "spend",
"saving", "share", "by_prompt": {prompt: saving}, "extract_order": {"spend", "saving",
"share"}, "verdicts": {"holds", "does not hold", "not tested"}}.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["LLMBENCH_HOME"] = folder  # the demo's chain key, not the user's
        from llmbench.config import GatewaySettings, Settings
        from llmbench.demo.build import build_demo
        from llmbench.demo.optimize_demo import NAME
        from llmbench.services.optimize.candidates import find_candidates
        from llmbench.services.optimize.overview import Overview, describe, overview
        from llmbench.store.db import open_db

        summary = build_demo(Path(folder) / "demo.db", calls=args.calls, now=NOW)
        settings = Settings(gateway=GatewaySettings(max_retries=0))
        with open_db(summary.path, create=False) as store:
            whole = overview(store, settings, now=NOW, offline=True)
        print(describe(whole))
        own = [verdict for verdict in whole.verdicts if verdict.prompt == NAME]
        with open_db(summary.path, create=False) as store:
            extract_spend = find_candidates(store, NAME, now=NOW).usage.cost
        alone = Overview(extract_spend, tuple(own))
        print(
            json.dumps(
                {
                    "calls": summary.calls,
                    "spend": round(whole.spend, 4),
                    "saving": round(whole.saving, 4),
                    "share": round(whole.share, 4),
                    "by_prompt": {k: round(v, 4) for k, v in whole.prompt_savings().items()},
                    "extract_order": {
                        "spend": round(alone.spend, 4),
                        "saving": round(alone.saving, 4),
                        "share": round(alone.share, 4),
                    },
                    "verdicts": dict(Counter(verdict.status for verdict in whole.verdicts)),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
