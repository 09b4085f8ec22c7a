"""The input guard's trained injection classifier: a linear model over words, word pairs and
character n-grams, shipped as data (classifier_weights.bin.gz beside this module, written by
scripts/train_guard.py) and scored in pure Python.

The text is read the way the rules read it (folded, then normalised: core/guard/folding.py,
core/guard/normalize.py) and cut into windows of WINDOW tokens, STRIDE apart; each window's
score is the bias plus the sum of its tokens' weights divided by the square root of its length,
and the text's score is its highest window's, so an instruction buried in a long document is
not diluted by the pages around it. A token's weight (its word and the character n-grams of
`<word>`) is computed once and kept, so a long text costs about one dictionary lookup per
token.

The same file holds the calibration that turns the classifier's logit and the rules' combined
score into the one injection score (`calibrated`), fitted on rows the classifier was not
trained on.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate, islice, pairwise, repeat
from operator import add
from pathlib import Path

from llmbench.core.guard.folding import views
from llmbench.core.guard.normalize import compose, normalize

DATA_FILE = "classifier_weights.bin.gz"
FORMAT = "llmbench-guard-classifier/2"
WINDOW = 64
STRIDE = 32
MAX_TOKEN = 16  # longer runs (CJK text has no spaces) are read in overlapping pieces
_TOKEN = re.compile(r"\w+|[^\w\s]")
_MAX_CACHED = 200_000
_RULE_FLOOR = 0.005  # the rules' score is read as a logit: 0 and 1 are kept finite


class ClassifierFileError(ValueError):
    """The weights file cannot be read; the message names the line."""


def token_features(token: str) -> list[str]:
    """A token's features: the word itself and the character n-grams (3 to 5; 2 to 4 for
    letters outside Latin script, where words are short or unsplit) of `<token>`."""
    features = ["w:" + token]
    if len(token) == 1 and not token.isalnum():
        return features
    marked = f"<{token}>"
    low, high = (3, 5) if token.isascii() else (2, 4)
    for size in range(low, high + 1):
        features.extend("c:" + marked[i : i + size] for i in range(len(marked) - size + 1))
    return features


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of text; runs longer than MAX_TOKEN are cut into overlapping
    pieces so their n-grams do not depend on where a run happens to end."""
    found: list[tuple[str, int, int]] = []
    for match in _TOKEN.finditer(text):
        token, start = match.group(), match.start()
        if len(token) <= MAX_TOKEN:
            found.append((token, start, match.end()))
            continue
        for offset in _piece_offsets(token):
            piece = token[offset : offset + MAX_TOKEN]
            found.append((piece, start + offset, start + offset + len(piece)))
    return found


def _piece_offsets(token: str) -> range:
    return range(0, len(token) - MAX_TOKEN // 4, MAX_TOKEN * 3 // 4)


def token_words(text: str) -> list[str]:
    """The tokens of tokens(text) without their spans, found by the regex engine in one call
    (the scorer's path: tokens() walks every match in Python)."""
    words = _TOKEN.findall(text)
    lengths = list(map(len, words))
    if not words or max(lengths) <= MAX_TOKEN:
        return words
    expanded: list[str] = []
    start = 0
    for index in [i for i, length in enumerate(lengths) if length > MAX_TOKEN]:
        expanded += words[start:index]
        word = words[index]
        expanded += [word[offset : offset + MAX_TOKEN] for offset in _piece_offsets(word)]
        start = index + 1
    expanded += words[start:]
    return expanded


def windows(count: int) -> list[tuple[int, int]]:
    """[start, end) token ranges of the windows over `count` tokens (one when it fits)."""
    if count <= WINDOW:
        return [(0, count)]
    spans = [(start, start + WINDOW) for start in range(0, count - WINDOW + 1, STRIDE)]
    if spans[-1][1] < count:
        spans.append((count - WINDOW, count))
    return spans


_PAIR = "b:{} {}"


def pair_feature(previous: str, token: str) -> str:
    return _PAIR.format(previous, token)


def rule_logit(rule_score: float) -> float:
    """The rules' combined score as a logit, kept finite at 0 and 1."""
    clipped = min(max(rule_score, _RULE_FLOOR), 1.0 - _RULE_FLOOR)
    return math.log(clipped / (1.0 - clipped))


@dataclass(frozen=True)
class Calibration:
    """score = sigmoid(classifier · logit + rules · logit(rule score) + length · ln(windows)
    + bias): the highest of many windows is high by chance alone, and `length` (negative)
    takes that back."""

    classifier: float
    rules: float
    bias: float
    length: float = 0.0

    def score(self, classifier_logit: float, rule_score: float, windows: int = 1) -> float:
        z = (
            self.classifier * classifier_logit
            + self.rules * rule_logit(rule_score)
            + self.length * math.log(max(windows, 1))
            + self.bias
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class WindowScore:
    logit: float
    low: int
    """Token range [low, high) of the highest-scoring window."""
    high: int
    windows: int = 1
    """How many windows the text was read in."""

    @property
    def probability(self) -> float:
        return 1.0 / (1.0 + math.exp(-max(min(self.logit, 40.0), -40.0)))


def token_span(text: str, low: int, high: int) -> tuple[int, int]:
    """Character span of tokens [low, high) of `text` (asked for only when a window is
    reported, so the common path never builds the list of spans). Long runs count as the
    pieces tokens() cuts them into; the matches are skipped over by islice, not walked."""
    if high <= low:
        return 0, 0
    words = _TOKEN.findall(text)
    counts = [1 if len(word) <= MAX_TOKEN else len(_piece_offsets(word)) for word in words]
    ends = list(accumulate(counts))
    first, last = bisect_right(ends, low), bisect_right(ends, high - 1)
    matches = list(islice(_TOKEN.finditer(text), first, last + 1))
    start = matches[0].start() + _piece_start(words[first], low - (ends[first] - counts[first]))
    piece = high - 1 - (ends[last] - counts[last])
    end_word = words[last]
    end = matches[-1].start() + _piece_start(end_word, piece) + min(len(end_word), MAX_TOKEN)
    return start, min(end, matches[-1].end())


def _piece_start(word: str, piece: int) -> int:
    return 0 if len(word) <= MAX_TOKEN else _piece_offsets(word)[piece]


class Model:
    def __init__(self, weights: dict[str, float], bias: float, calibration: Calibration) -> None:
        self.weights = weights
        self.bias = bias
        self.calibration = calibration
        self._token_weights: dict[str, float] = {}
        # Pairs keyed by (previous, token): a tuple hashes from its words' cached hashes, where
        # a "b:previous token" string would be built and hashed anew, twice as slow.
        self._pair_weights = {
            tuple(feature[2:].split(" ", 1)): weight
            for feature, weight in weights.items()
            if feature.startswith("b:")
        }

    def token_weight(self, token: str) -> float:
        cached = self._token_weights.get(token)
        if cached is not None:
            return cached
        weights = self.weights
        total = sum(weights.get(feature, 0.0) for feature in token_features(token))
        if len(self._token_weights) < _MAX_CACHED:
            self._token_weights[token] = total
        return total

    def score(self, text: str) -> WindowScore:
        """The highest window's logit in `text` (already folded and normalised), with its
        token range (token_span gives its characters)."""
        words = token_words(text)
        if not words:
            return WindowScore(self.bias, 0, 0)
        # map() over C-level callables: about twice as fast as the same in comprehensions.
        singles = list(map(self._token_weights.get, words))
        if None in singles:
            singles = [
                self.token_weight(w) if v is None else v
                for w, v in zip(words, singles, strict=True)
            ]
        pairs = [0.0, *map(self._pair_weights.get, pairwise(words), repeat(0.0))]
        prefix = [0.0, *accumulate(map(add, singles, pairs))]
        ranges = windows(len(words))
        best_logit, best = -math.inf, (0, 0)
        for low, high in ranges:
            # The pair of the window's first token belongs to the window before.
            total = prefix[high] - prefix[low] - pairs[low]
            logit = self.bias + total / math.sqrt(high - low)
            if logit > best_logit:
                best_logit, best = logit, (low, high)
        return WindowScore(best_logit, best[0], best[1], len(ranges))


def read_model(data: bytes) -> Model:
    """A model from the bytes of a weights file: gzip of one header line of JSON (format,
    count, scale, bias, calibration), then `count` features one a line, then `count` signed
    bytes, each feature's weight in units of the header's scale. Read with a few C-level
    passes (a text of 120,000 lines parsed line by line took half a second)."""
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as error:
        raise ClassifierFileError(f"{DATA_FILE}: not a gzip file ({error})") from error
    head, _, body = raw.partition(b"\n")
    try:
        header = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ClassifierFileError(f"{DATA_FILE}:1: header is not JSON ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else header
        raise ClassifierFileError(f"{DATA_FILE}:1: format {found!r}, not {FORMAT}")
    missing = [key for key in ("count", "scale", "bias", "calibration") if key not in header]
    if missing:
        raise ClassifierFileError(f"{DATA_FILE}:1: header lacks {', '.join(missing)}")
    count = int(header["count"])
    if len(body) < count or (count and body[-count - 1 : -count] != b"\n"):
        raise ClassifierFileError(
            f"{DATA_FILE}: {count:,} weights announced, the file ends before them"
        )
    names = body[: len(body) - count - 1].decode("utf-8").split("\n") if count else []
    if len(names) != count:
        raise ClassifierFileError(
            f"{DATA_FILE}: {len(names):,} features for {count:,} weights (line "
            f"{2 + min(len(names), count):,} is where they part)"
        )
    scale = float(header["scale"])
    values = array("b", body[len(body) - count :])
    weights = dict(zip(names, map(scale.__mul__, values), strict=True))
    calibration = Calibration(**header["calibration"])
    return Model(weights, float(header["bias"]), calibration)


def write_model(
    path: Path,
    weights: dict[str, int],
    scale: float,
    bias: float,
    calibration: Calibration,
    extra: dict[str, object] | None = None,
) -> None:
    """Write a weights file read_model reads (integer weights in -127..127)."""
    names = sorted(weights)
    header = {
        "format": FORMAT,
        "count": len(names),
        "scale": scale,
        "bias": bias,
        "calibration": vars(calibration),
        **(extra or {}),
    }
    body = (
        "\n".join(names).encode("utf-8") + b"\n" + array("b", (weights[n] for n in names)).tobytes()
    )
    content = json.dumps(header, sort_keys=True).encode("utf-8") + b"\n" + body
    # No file name and no time in the gzip header: the same model is the same bytes.
    with path.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as handle:
        handle.write(content)


@cache
def shipped_model() -> Model:
    """The model shipped in the package, read once on first use."""
    data = resources.files(__package__).joinpath(DATA_FILE).read_bytes()
    return read_model(data)


def prepared(text: str) -> str:
    """What the classifier reads: the text folded as the rules read it, with its disguises
    undone (training uses the same function, so the two always agree)."""
    return prepared_view(text)[0]


def prepared_view(text: str) -> tuple[str, Callable[[int], int]]:
    """prepared(text) and a map from its positions to positions in text."""
    _, origin, folded = views(text)
    normalized = normalize(folded)
    if normalized is None:
        return folded, origin
    return normalized.text, compose(normalized, origin)
