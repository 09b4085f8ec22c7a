"""How `llmbench/mock` answers the input guard's model check (core/guard/model_check.py), so the
check runs offline, in tests and in the demo: deterministically, by the guard's own rules.

The verdict is "injection" when one of the guard's rules (core/guard/injection_rules.toml, on
the text and its decoded and normalised views) matches the text, naming the first rule that
did; "benign" otherwise. A text in the band that only the trained classifier found suspicious
is therefore judged benign, and one a rule matched but whose score stayed below the threshold
(a weak signal such as "from now on") an injection: the mock's verdicts are a fixed function
of the text, not a judgement, which is all a test or a first look needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from llmbench.core.guard.model_check import Verdict, checked_text, verdict_answer


def guard_verdict(messages: Sequence[Mapping[str, object]]) -> str | None:
    """The mock's answer to a verdict prompt; None when the messages are not one."""
    text = checked_text(messages)
    if text is None:
        return None
    # Imported here: the rules load on first use, and most mock calls are no verdict prompt.
    from llmbench.core.guard.injection_scan import injection_findings

    signals = [finding for finding in injection_findings(text) if finding.score > 0]
    if signals:
        verdict = Verdict(True, f"the text matches the guard's rule {signals[0].rule}")
    else:
        verdict = Verdict(False, "no rule of the guard matches the text")
    return verdict_answer(verdict)
