"""The report's sentences, written once: what the errors were and what they could change, the band, the
other verdicts, a breakdown's figure. The terminal report, Markdown, HTML and the viewer print these."""

from __future__ import annotations

import math

from mendoza.report.reliability import Rate
from mendoza.report.steps import FailureStart, StepChain, StepReport
from mendoza.report.summary import RunReport, VariantResult

__all__ = [
    "band_words",
    "bounds_words",
    "error_words",
    "failed_at_words",
    "grading_words",
    "other_verdicts_words",
    "percent",
    "rate_words",
    "sandbox_words",
    "step_chain_words",
    "step_ran_words",
    "step_rate_words",
    "variant_notes",
]


def percent(value: float | None) -> str:
    """A rate as ``62.0%``, or ``-`` when there is none."""
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


def rate_words(rate: Rate) -> str:
    """``62.0% [55.1%, 68.4%]``: a rate with its interval."""
    interval = rate.reliability.interval
    return f"{percent(rate.reliability.rate)} [{percent(interval.low)}, {percent(interval.high)}]"


def band_words(rate: Rate) -> str:
    """The band the rate's interval decides, or ``undecided: X / Y``."""
    band = rate.reliability.band
    if rate.reliability.graded == 0:
        return "-"
    if band.decided and band.band is not None:
        return band.band
    return "undecided: " + " / ".join(band.between or ())


def error_words(variant: VariantResult) -> str | None:
    """How many samples errored, what they count as, and the most common errors; None when none did."""
    outcomes = variant.rate.outcomes
    if not outcomes.errored:
        return None
    share = outcomes.errored / outcomes.samples
    counted = "counted as failures" if variant.rate.errors == "fail" else "left out of the rate (errors: exclude)"
    top = "; ".join(f"{group.count}x {group.message}" for group in variant.top_errors[:3])
    return f"{outcomes.errored} of {outcomes.samples} samples errored ({share:.1%}), {counted}: {top}"


def bounds_words(rate: Rate) -> str | None:
    """The rate whatever the errored and undecided samples would have been; None when there are none."""
    if rate.bounds is None:
        return None
    outcomes = rate.outcomes
    unknown = " and ".join(
        part
        for part in (
            f"{outcomes.errored} errored" if outcomes.errored else "",
            f"{outcomes.undecided} undecided" if outcomes.undecided else "",
        )
        if part
    )
    low, high = rate.bounds.low, rate.bounds.high
    return (
        f"whatever the {unknown} samples would have been: {percent(low.estimate)} (all failed) to "
        f"{percent(high.estimate)} (all passed); with the intervals {percent(low.low)} to {percent(high.high)}"
    )


def other_verdicts_words(report: RunReport, variant: VariantResult) -> str | None:
    """The variant's rate by the other verdicts (automatic beside human-adjusted), when people labelled."""
    if variant.other is None:
        return None
    other = "automatic" if report.verdicts == "human-adjusted" else "human-adjusted"
    return (
        f"{other} verdicts: {rate_words(variant.other)} ({band_words(variant.other)}); "
        f"{variant.labelled} samples labelled, {variant.overruled} overruled"
    )


def variant_notes(report: RunReport, variant: VariantResult) -> list[str]:
    """Every sentence the report adds under a variant's figures: its errors, the bounds, the other verdicts,
    and its warnings (each starting ``warning:``)."""
    notes = [
        error_words(variant),
        bounds_words(variant.rate),
        other_verdicts_words(report, variant),
        grading_words(variant),
        *sandbox_words(variant),
    ]
    return [note for note in notes if note] + [f"warning: {warning}" for warning in variant.warnings]


_SANDBOXES = {
    "bwrap": "bubblewrap (no network, a read-only system, only its working directory writable)",
    "rlimits": "process limits only (the weaker fallback: no file system or network isolation)",
}


def sandbox_words(variant: VariantResult) -> list[str]:
    """Where the graders that run programs ran them, one line per grader and backend."""
    return [
        f"grader '{grader}' ran {count} programs in {_SANDBOXES.get(backend, backend)}"
        for grader, backend, count in variant.sandboxes
    ]


#: Grading is mentioned when its p95 takes at least this long (a judge, a program run): the cheap graders'
#: microseconds would only be noise beside the model's latency.
_GRADING_WORTH_SAYING_MS = 100.0


def grading_words(variant: VariantResult) -> str | None:
    """How long grading took, apart from the model's latency, when it is long enough to matter."""
    p50, p95 = variant.grading_p50_ms, variant.grading_p95_ms
    if p50 is None or p95 is None or p95 < _GRADING_WORTH_SAYING_MS:
        return None
    return f"grading took {p50:.0f} ms (p50), {p95:.0f} ms (p95) per sample, apart from the model's latency"


def step_rate_words(step: StepReport) -> str:
    """A step's own pass rate with its interval, or ``-`` when no grader targets it."""
    return "-" if step.rate is None else rate_words(step.rate)


def step_ran_words(step: StepReport) -> str:
    """``45/50 (90.0%)``, with ``, 52 runs`` when the step ran more than once in some sample."""
    runs = f", {step.runs} runs" if step.runs != step.samples else ""
    return f"{step.samples}/{step.variant_samples} ({percent(step.ran_share)}){runs}"


def failed_at_words(failed_at: list[FailureStart]) -> str | None:
    """Where the samples that did not pass started failing, most first; None when every sample passed."""
    if not failed_at:
        return None
    total = sum(start.samples for start in failed_at)
    parts = ", ".join(f"{start.name} {start.samples} ({percent(start.share)})" for start in failed_at)
    return f"{parts} of the {total} samples that did not pass"


def step_chain_words(chain: StepChain) -> str:
    """The end-to-end rate beside the product of the step rates, and what a marked difference means.

    The sample passes when every factor passes, so independent factors would give the product. Above it, the
    factors fail on the same samples; below it, on different samples."""
    factors = " x ".join(f"{name} {percent(rate)}" for name, rate in chain.factors)
    line = (
        f"end-to-end {percent(chain.end_to_end_rate)} vs {percent(chain.product)} if its steps failed "
        f"independently ({factors})"
    )
    if chain.pattern == "together":
        errored = chain.end_to_end.outcomes.errored and chain.end_to_end.errors == "fail"
        line += (
            ": failures are correlated, the samples that fail one step tend to fail others (hard cases, or a step "
            "failing because an earlier one did"
            + ("; errored samples fail every step at once" if errored else "")
            + "), so the step rates overstate how much the chain compounds"
        )
    elif chain.pattern == "apart":
        line += (
            ": the steps tend to fail on different samples, so more samples fail somewhere than independent steps "
            "would give"
        )
    return line
