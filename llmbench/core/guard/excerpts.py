"""What guard_flags keep of the text around a finding: enough words for a reviewer to see why it
was flagged, and never any part of a secret or of personal data, the finding's own or a
neighbour's.

Every secret and piece of personal data is found on the whole text first, then masked, and only
then is the excerpt cut out of it. Cutting first and detecting in the piece would miss what the
cut breaks: a card number with its last digit outside the window fails Luhn, a token cut to 20
characters no longer matches its pattern, and the rest would be kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from llmbench.core.guard.output_guard import pii_findings, secret_findings
from llmbench.core.guard.policy import (
    INJECTION_SIGNALS,
    PII_KINDS,
    Finding,
    redact_spans,
    redaction_mark,
)

SENSITIVE_KINDS = frozenset({*PII_KINDS, "secret"})
EXCERPT_CHARS = 80
CONTEXT_CHARS = 24
# Findings whose detail quotes the text they matched (or decoded from it).
_QUOTING_KINDS = frozenset({*INJECTION_SIGNALS, "banned_phrase"})


def sensitive_findings(text: str, known_secrets: Iterable[str] = ()) -> list[Finding]:
    """Every secret and piece of personal data in text, overlaps kept: an excerpt masks the
    union of them, whichever detector the output guard would have preferred."""
    return secret_findings(text, known_secrets) + pii_findings(text)


def mask_sensitive(text: str, known_secrets: Iterable[str] = ()) -> str:
    """text with every secret and piece of personal data replaced by [REDACTED:kind]."""
    return redact_spans(text, sensitive_findings(text, known_secrets)) if text else text


def shorten(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def masked_slice(text: str, start: int, end: int, sensitive: Iterable[Finding]) -> str:
    """text[start:end] with every sensitive span that reaches into it masked; a span the cut
    goes through is masked too, so not one of its characters is kept."""
    inside = [
        Finding(f.rule, f.kind, f.start - start, f.end - start)
        for f in sensitive
        if f.start < end and f.end > start
    ]
    return redact_spans(text[start:end], inside)


def excerpt(text: str, finding: Finding, sensitive: Iterable[Finding]) -> str:
    """What guard_flags keep beside a finding of `text`. A secret or personal data: the words
    around it, itself as [REDACTED:kind]. Anything else (an injection, a leak, a limit): its
    matched text, shortened. Every span of `sensitive` in what is kept is masked."""
    if finding.end <= finding.start or not text:
        return ""
    if finding.kind not in SENSITIVE_KINDS:
        return shorten(masked_slice(text, finding.start, finding.end, sensitive))
    low = max(0, finding.start - CONTEXT_CHARS)
    high = min(len(text), finding.end + CONTEXT_CHARS)
    spans = list(sensitive)
    before = masked_slice(text, low, finding.start, spans)
    after = masked_slice(text, finding.end, high, spans)
    return " ".join(
        f"{'…' if low > 0 else ''}{before}{redaction_mark(finding.kind)}{after}"
        f"{'…' if high < len(text) else ''}".split()
    )


def masked_detail(text: str, finding: Finding, sensitive: Iterable[Finding]) -> str:
    """A finding's detail with no secret or personal data in it. A detail that quotes the
    matched text (injection signals, banned phrases) is quoted again from the masked text; one
    quoting something else (a decoded payload) is masked where it stands."""
    detail = finding.detail
    if not detail or finding.kind not in _QUOTING_KINDS:
        return detail
    if text and finding.end > finding.start:
        quoted = text[finding.start : finding.end]
        if detail in (shorten(quoted), quoted[:EXCERPT_CHARS]):
            spans = list(sensitive)
            if any(f.start < finding.end and f.end > finding.start for f in spans):
                return shorten(masked_slice(text, finding.start, finding.end, spans))
            return detail
    return mask_sensitive(detail)


@dataclass
class ExcerptMaker:
    """Excerpts and details of the findings in a set of texts (by `where`), each text scanned
    for sensitive spans once, and only when a finding in it is written down (or given in
    `found` by a caller that has scanned it already)."""

    sources: Mapping[str, str]
    known_secrets: tuple[str, ...] = ()
    found: dict[str, list[Finding]] = field(default_factory=dict)

    def sensitive(self, where: str) -> list[Finding]:
        spans = self.found.get(where)
        if spans is None:
            text = self.sources.get(where, "")
            spans = sensitive_findings(text, self.known_secrets) if text else []
            self.found[where] = spans
        return spans

    def excerpt(self, finding: Finding) -> str:
        text = self.sources.get(finding.where, "")
        if not text or finding.end <= finding.start:
            return ""
        return excerpt(text, finding, self.sensitive(finding.where))

    def detail(self, finding: Finding) -> str:
        if not finding.detail or finding.kind not in _QUOTING_KINDS:
            return finding.detail
        text = self.sources.get(finding.where, "")
        return masked_detail(text, finding, self.sensitive(finding.where) if text else [])
