"""promptfoo's reference-overlap checks, scored as promptfoo scores them: `rouge-n` (js-rouge's
ROUGE-1 F1 on Penn Treebank tokens, case-sensitive), `bleu` (promptfoo's own BLEU-4: lower-cased
whitespace words, clipped n-gram precisions against the best reference, every zero precision
smoothed to 1e-7, orders longer than the output left out, a brevity penalty against the
reference closest in length) and `levenshtein`
(edit distance at most `threshold` characters, 5 by default).

js-rouge splits a summary into sentences before tokenising it (a full stop is its own token at
the end of a sentence, not inside one); `sentences` follows its rules for the common cases
(terminal punctuation before a capital, a digit or a quote; line breaks; abbreviations such as
"Dr." or "e.g." and single-letter initials never end a sentence), not every heuristic of its
6,000-line segmenter: tests/core/test_reference_metrics.py pins the agreement on 900 pairs
scored by js-rouge 3.2.3 itself.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from llmbench.core.evaluation.similarity import levenshtein_distance

DEFAULT_ROUGE_THRESHOLD = 0.75  # promptfoo's default for rouge-n
DEFAULT_BLEU_THRESHOLD = 0.5  # promptfoo's default for bleu
DEFAULT_LEVENSHTEIN_DISTANCE = 5  # promptfoo's default for levenshtein
BLEU_SMOOTHING = 1e-7  # promptfoo replaces a zero n-gram precision with this
BLEU_MAX_N = 4

# Words a full stop follows without ending a sentence (js-rouge's abbreviation lists).
_ABBREVIATIONS = frozenset(
    (
        "jr", "mr", "mrs", "ms", "dr", "prof", "sr", "sen", "corp", "rep", "gov", "atty", "supt",
        "det", "rev", "col", "gen", "lt", "cmdr", "adm", "capt", "sgt", "cpl", "maj", "miss",
        "misses", "mister", "sir", "esq", "mstr", "phd", "adj", "adv", "asst", "bldg", "brig",
        "comdr", "hon", "messrs", "mlle", "mme", "op", "ord", "pvt", "reps", "res", "sens", "sfc",
        "surg", "arc", "al", "exp", "rd", "st", "dist", "mt", "fy", "pd", "pl", "plz", "tce", "llb",
        "md", "bl", "ma", "ba", "lit", "ex", "e.g", "i.e", "circa", "ca", "cca", "vs", "v.s", "etc",
        "esp", "ft", "b.c", "a.d", "co", "dept", "univ", "assn", "bros", "inc", "ltd", "ala",
        "ariz", "ark", "cal", "calif", "colo", "conn", "del", "fed", "fla", "fl", "ga", "ida",
        "ind", "ia", "la", "kan", "kans", "ken", "ky", "mich", "minn", "mont", "neb", "nebr", "nev",
        "okla", "penna", "penn", "pa", "dak", "tenn", "tex", "ut", "vt", "va", "wash", "wis",
        "wisc", "wy", "wyo", "usafa", "alta", "ont", "que", "sask", "yuk", "ave", "blvd", "cl",
        "ct", "cres", "hwy", "u.s", "u.s.a", "e.u", "a.m", "p.m", "jan", "feb", "mar", "apr", "jun",
        "jul", "aug", "sep", "sept", "oct", "nov", "dec"
    )
)  # fmt: skip
_SENTENCE_END = re.compile(r"""([.!?]+["'”’)\]]*)(\s+)(?=["'“‘(\[]?[A-Z0-9])""")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_CONTRACTIONS = tuple(
    re.compile(rf"(?i)\b{pattern}\b")
    for pattern in (
        r"(can)(not)",
        r"(d)('ye)",
        r"(gim)(me)",
        r"(gon)(na)",
        r"(got)(ta)",
        r"(lem)(me)",
        r"(more)('n)",
        r"(wan)(na)(?= )",
        r"('t)(is)",
        r"('t)(was)",
    )
)


def sentences(text: str) -> list[str]:
    """text split into sentences the way js-rouge's segmenter splits it in the common cases."""
    found: list[str] = []
    for line in _LINE_BREAKS.split(text):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            end = match.end(1)
            words = line[start : match.start(1)].split()
            last = words[-1].lower() if words else ""
            # "Dr." or "e.g." or an initial ("J. Smith") does not end a sentence.
            if match.group(1).startswith(".") and (
                last.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last)
            ):
                continue
            found.append(line[start:end].strip())
            start = match.end()
        found.append(line[start:].strip())
    return [sentence for sentence in found if sentence]


def treebank_tokens(sentence: str) -> list[str]:
    """One sentence split into Penn Treebank tokens, as js-rouge's tokenizer splits it."""
    text = " ".join(sentence.split())
    if not text:
        return []
    inside_quotes = False

    def quote(match: re.Match[str]) -> str:
        nonlocal inside_quotes
        index = match.start()
        before = text[index - 1] if index else ""
        opening = (
            not inside_quotes
            and (index == 0 or before.isspace() or _is_punctuation(before) or before == "<")
            and before not in ".!?"
            and (index + len(match.group()) < len(text) or index == 0 or before.isspace())
        )
        inside_quotes = opening
        return " `` " if opening else " '' "

    text = re.sub(r'``|\'\'|"', quote, text)
    text = re.sub(r"\.{3}", " ... ", text)
    text = re.sub(r"[:,](?!\d)", r" \g<0> ", text)
    text = re.sub(r"[;@#$%&]", r" \g<0> ", text)
    text = re.sub(r"([^.])(?<!\b[A-Za-z]\.[A-Za-z])(\.)([\])}>'\s]*)$", r"\1 \2\3 ", text)
    text = re.sub(r"[?!]", r" \g<0> ", text)
    text = re.sub(r"[\][(){}<>]", r" \g<0> ", text)
    text = text.replace("--", " -- ")
    text = f" {text} "
    text = re.sub(r"([^'])' ", r"\1 ' ", text)
    text = re.sub(r"'([sSmMdD]) ", r" '\1 ", text)
    text = re.sub(r"('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r" \1 ", text)
    for contraction in _CONTRACTIONS:
        text = contraction.sub(r" \1 \2 ", text)
    return text.split()


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def rouge_tokens(text: str) -> list[str]:
    return [token for sentence in sentences(text) for token in treebank_tokens(sentence)]


def rouge_n(candidate: str, reference: str, n: int = 1) -> float:
    """js-rouge's ROUGE-N F1 (beta 1, case-sensitive) of candidate against reference.
    ValueError for an empty candidate or reference, as js-rouge refuses them."""
    if not candidate.strip():
        raise ValueError("the output is empty")
    if not reference.strip():
        raise ValueError("the reference is empty")
    candidate_grams = _ngrams(rouge_tokens(candidate), n)
    reference_grams = _ngrams(rouge_tokens(reference), n)
    if not candidate_grams or not reference_grams:
        return 0.0
    matches = sum((Counter(candidate_grams) & Counter(reference_grams)).values())
    if matches == 0:
        return 0.0
    precision = matches / len(candidate_grams)
    recall = matches / len(reference_grams)
    return 2 * precision * recall / (precision + recall)


def _ngrams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    if n <= 0 or n > len(words):
        return []
    return [tuple(words[index : index + n]) for index in range(len(words) - n + 1)]


def bleu(candidate: str, references: Sequence[str]) -> float:
    """promptfoo's BLEU-4 of candidate against one or more references, in 0..1 (0 for an empty
    output). ValueError when there is no reference."""
    if not references:
        raise ValueError("bleu needs at least one reference")
    if not candidate.strip():
        return 0.0
    words = candidate.lower().split()
    reference_words = [reference.lower().split() for reference in references]
    # The reference closest in length; on a tie, the shorter one.
    closest = min((len(ref) for ref in reference_words), key=lambda n: (abs(n - len(words)), n))
    orders: list[float] = []  # the precision of each order the output is long enough for
    for n in range(1, BLEU_MAX_N + 1):
        grams = _ngrams(words, n)
        if not grams:
            continue
        counts = Counter(grams)
        best = max(sum((counts & Counter(_ngrams(ref, n))).values()) for ref in reference_words)
        orders.append(best / len(grams))
    # Equal weights over the orders used (promptfoo renormalises its 0.25s over them).
    log_sum = sum(math.log(precision or BLEU_SMOOTHING) for precision in orders) / len(orders)
    penalty = 1.0 if len(words) > closest else math.exp(1 - max(closest, 1) / len(words))
    return penalty * math.exp(log_sum)


def levenshtein(output: str, reference: str) -> int:
    return levenshtein_distance(output, reference)
