"""Dynamic few-shot: from a pool of examples, the few most similar to the input at hand.

Similarity is lexical, always: the cosine of TF-IDF vectors over lower-case word tokens of the
examples' inputs (the query is an input, so it is compared with inputs), common English
function words left out. An example that shares no word with the query scores 0 and is never
chosen: examples are shown only when they help.

When an embedding function is given, the score blends both: EMBEDDING_WEIGHT times the cosine
of the embeddings (negative cosines count as 0) plus the rest times the lexical cosine. Then an
example with no word in common can still be chosen when its embedding is close, which is what
embeddings are for. Ties keep the pool's order, so the choice is deterministic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from llmbench.core.models import Example
from llmbench.core.prompts.fences import FENCE_TAGS, neutralise_fences, normalise

Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]
EMBEDDING_WEIGHT = 0.5
EXAMPLE_TAG = "example"

_WORD = re.compile(r"[^\W_]+")
# Function words match everything and say nothing about what an example is about.
_STOP_WORD_TEXT = """
a an and are as at be been but by can could did do does for from had has have he her his how i
if in into is it its me my no not of on or our she so than that the their them then there these
they this to too us was we were what when where which who why will with would you your
"""
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def words(text: str) -> list[str]:
    """Lower-case word tokens of text, function words dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [word for word in _WORD.findall(folded) if word not in _STOP_WORDS]


def lexical_scores(pool: Sequence[Example], query: str) -> list[float]:
    """TF-IDF cosine of each example's input with the query, in pool order, each in [0, 1]."""
    documents = [Counter(words(example.input)) for example in pool]
    query_terms = Counter(words(query))
    if not query_terms:
        return [0.0] * len(pool)
    frequency: Counter[str] = Counter()
    for document in documents:
        frequency.update(document.keys())
    # Smoothed IDF (as scikit-learn's): a word in every example still weighs something.
    size = len(documents)

    def weigh(terms: Counter[str]) -> dict[str, float]:
        return {
            term: count * (math.log((1 + size) / (1 + frequency[term])) + 1)
            for term, count in terms.items()
        }

    query_vector = weigh(query_terms)
    query_norm = _norm(query_vector.values())
    scores = []
    for document in documents:
        vector = weigh(document)
        dot = sum(weight * query_vector.get(term, 0.0) for term, weight in vector.items())
        norm = _norm(vector.values())
        scores.append(dot / (norm * query_norm) if dot > 0 else 0.0)
    return scores


def embedding_scores(pool: Sequence[Example], query: str, embed: Embed) -> list[float]:
    """Cosine of each example input's embedding with the query's, negatives as 0."""
    vectors = embed([query, *(example.input for example in pool)])
    if len(vectors) != len(pool) + 1:
        raise ValueError(f"embed returned {len(vectors)} vectors for {len(pool) + 1} texts")
    query_vector = vectors[0]
    return [max(_cosine(query_vector, vector), 0.0) for vector in vectors[1:]]


def similarity(pool: Sequence[Example], query: str, *, embed: Embed | None = None) -> list[float]:
    """Each example's score against the query, in pool order (see the module's docstring)."""
    lexical = lexical_scores(pool, query)
    if embed is None or not pool:
        return lexical
    semantic = embedding_scores(pool, query, embed)
    return [
        (1 - EMBEDDING_WEIGHT) * lex + EMBEDDING_WEIGHT * sem
        for lex, sem in zip(lexical, semantic, strict=True)
    ]


def select_examples(
    pool: Sequence[Example], query: str, k: int, *, embed: Embed | None = None
) -> list[Example]:
    """At most k examples of the pool, the most similar to the query first; none that score 0."""
    if k <= 0 or not pool:
        return []
    scores = similarity(pool, query, embed=embed)
    ranked = sorted(range(len(pool)), key=lambda index: (-scores[index], index))
    return [pool[index] for index in ranked[:k] if scores[index] > 0]


def format_example(example: Example) -> str:
    return (
        f"<{EXAMPLE_TAG}>\nInput: {_safe(example.input)}\nOutput: {_safe(example.output)}\n"
        f"</{EXAMPLE_TAG}>"
    )


def format_examples(examples: Sequence[Example]) -> str:
    """The examples as the prompt shows them: one <example> block each, a blank line apart."""
    return "\n\n".join(format_example(example) for example in examples)


def _safe(text: str) -> str:
    # Developer content, but neither a fence nor an example block may be closed (or opened)
    # from inside one example, even by a look-alike.
    return neutralise_fences(normalise(text).strip(), (*FENCE_TAGS, EXAMPLE_TAG))


def _norm(values: Iterable[float]) -> float:
    return math.sqrt(sum(value * value for value in values))


def _cosine(left: Sequence[float], right: Sequence[float]) -> float:
    if len(left) != len(right):
        raise ValueError(f"embeddings of different sizes: {len(left)} and {len(right)}")
    dot = sum(a * b for a, b in zip(left, right, strict=True))
    norms = _norm(left) * _norm(right)
    return dot / norms if norms else 0.0
