"""A suite's thresholds checked against a report: each check passes, fails or is inconclusive.

The rule, written once (``judge``): with ``basis: interval`` a check *passes* when the whole confidence
interval lies on the good side of its threshold, *fails* when the whole interval lies on the bad side, and is
*inconclusive* otherwise, with an estimate of how many more samples would likely decide it. A regression gate
fails when a regression is shown (the interval of the paired difference lies below zero) and estimated beyond
the margin: demanding that the whole interval clear the margin as well would miss one real regression of six
times the margin in seven at the README's sizes. Each side is a one-sided test at half the interval's error
level (2.5% at 95%), so an unchanged app fails rarely (3.9% in the simulation of ``tests/report/test_gate.py``)
and an inconclusive result says "we cannot tell yet" instead of crying wolf.
``basis: estimate`` compares point estimates (pass or fail, never inconclusive, fooled by noise).

A variant whose every sample errored fails the gate even when the suite sets no threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mendoza.core import Thresholds
from mendoza.report.comparison import Comparison
from mendoza.report.reliability import reliability
from mendoza.report.summary import RunReport, VariantResult
from mendoza.stats import BAND_NAMES, Interval, normal_quantile

__all__ = [
    "Gate",
    "GateCheck",
    "GateOutcome",
    "evaluate_gate",
    "judge",
    "more_samples_to_decide",
    "regression_gate",
    "threshold_failures",
]

GateOutcome = Literal["pass", "fail", "inconclusive"]

#: The power an inconclusive check's "more samples" aims at: they would decide it 4 times in 5.
_POWER = 0.8


@dataclass(frozen=True)
class GateCheck:
    """One threshold checked on one variant (or one comparison): its outcome, in one line, and for an
    inconclusive one about how many more samples would likely decide it."""

    threshold: str
    subject: str
    outcome: GateOutcome
    message: str
    samples_to_decide: int | None = None


@dataclass(frozen=True)
class Gate:
    """Every check of a report's gate. ``outcome`` is ``fail`` if any check failed, else ``inconclusive`` if
    any was, else ``pass``; ``fails_ci`` applies the suite's (or the command line's) ``on_inconclusive``."""

    checks: list[GateCheck]
    on_inconclusive: Literal["pass", "fail"]

    @property
    def outcome(self) -> GateOutcome:
        """The gate's overall outcome."""
        outcomes = {check.outcome for check in self.checks}
        return "fail" if "fail" in outcomes else "inconclusive" if "inconclusive" in outcomes else "pass"

    @property
    def fails_ci(self) -> bool:
        """Whether the command should exit non-zero."""
        return self.outcome == "fail" or (self.outcome == "inconclusive" and self.on_inconclusive == "fail")

    def lines(self, outcome: GateOutcome) -> list[str]:
        """The messages of the checks with this outcome."""
        return [check.message for check in self.checks if check.outcome == outcome]


def judge(
    low: float,
    high: float,
    estimate: float,
    threshold: float,
    *,
    above: bool,
    by_interval: bool,
    shown_beyond: float | None = None,
) -> GateOutcome:
    """Pass, fail or inconclusive for a quantity that must be at least (``above``) or at most ``threshold``,
    measured as ``estimate`` with the interval ``[low, high]``.

    It passes when the whole interval lies on the good side of the threshold. It fails when the whole
    interval lies beyond ``shown_beyond`` (default: the threshold itself) on the bad side and the estimate is
    beyond the threshold: a regression gate passes ``shown_beyond=0``, so it fails when a regression is
    shown (the interval excludes no change) and is estimated beyond the margin."""
    if not by_interval:
        return "pass" if (estimate >= threshold if above else estimate <= threshold) else "fail"
    edge = threshold if shown_beyond is None else shown_beyond
    if above:
        good_side, bad_side = low >= threshold, high < edge and estimate < threshold
    else:
        good_side, bad_side = high <= threshold, low > edge and estimate > threshold
    return "pass" if good_side else "fail" if bad_side else "inconclusive"


def more_samples_to_decide(
    interval: Interval, threshold: float, cases: int, repeats: int, confidence: float
) -> int | None:
    """About how many more samples (whole cases of ``repeats`` each) would decide a check whose interval
    straddles ``threshold``, if the estimate held: the interval's half-width shrinks as one over the root of
    the cases, and the design aims at 80% power (the sizing ``mendoza plan`` does, with this run's own
    variance). None when the estimate sits on the threshold (no sample size decides it)."""
    gap = abs(interval.estimate - threshold)
    halfwidth = (interval.high - interval.low) / 2
    if cases < 1 or not math.isfinite(gap) or gap < 1e-12 or halfwidth <= 0:
        return None
    z_alpha = normal_quantile(0.5 + confidence / 2)
    z_power = normal_quantile(_POWER)
    needed = math.ceil(cases * ((z_alpha + z_power) * (halfwidth / z_alpha) / gap) ** 2)
    if needed > 10**9:
        return None
    return max(1, needed - cases) * max(1, repeats)


def _band_floor(band: str, edges: Sequence[float]) -> float:
    index = BAND_NAMES.index(band)
    return 0.0 if index == 0 else float(edges[index - 1])


def _inconclusive_tail(more: int | None) -> str:
    return f"; about {more:,} more samples would likely decide it" if more else ""


def _floor_check(
    variant: VariantResult, name: str, floor: float, label: str, report: RunReport, by_interval: bool
) -> GateCheck:
    """A check that the variant's pass rate is at least ``floor``."""
    subject = variant.variant_id
    if variant.graded == 0:
        return GateCheck(name, subject, "fail", f"variant '{subject}': no sample counts towards its pass rate")
    interval = variant.interval
    outcome = judge(interval.low, interval.high, interval.estimate, floor, above=True, by_interval=by_interval)
    shown = f"{interval.estimate:.1%} [{interval.low:.1%}, {interval.high:.1%}]"
    if outcome == "pass":
        return GateCheck(name, subject, outcome, f"variant '{subject}': {shown} meets {label}")
    if outcome == "fail":
        where = "its interval lies below" if by_interval else "it is below"
        return GateCheck(name, subject, outcome, f"variant '{subject}': {shown}: {where} {label}")
    more = more_samples_to_decide(interval, floor, variant.cases, report.run.repeats, report.confidence)
    message = f"variant '{subject}': {shown} straddles {label}: not shown either way{_inconclusive_tail(more)}"
    return GateCheck(name, subject, outcome, message, more)


def _error_check(variant: VariantResult, limit: float, report: RunReport, by_interval: bool) -> GateCheck:
    """A check that the variant's share of errored samples is at most ``limit`` (clustered by case)."""
    subject = variant.variant_id
    per_case = [(case.errors, case.samples - case.errors) for case in report.cases if case.variant_id == subject]
    share = reliability(per_case, repeats=report.run.repeats, confidence=report.confidence).interval
    if math.isnan(share.estimate):
        return GateCheck("max_error_rate", subject, "pass", f"variant '{subject}': no samples")
    outcome = judge(share.low, share.high, share.estimate, limit, above=False, by_interval=by_interval)
    shown = f"error rate {share.estimate:.1%} [{share.low:.1%}, {share.high:.1%}]"
    label = f"max_error_rate {limit:.1%}"
    if outcome == "inconclusive":
        more = more_samples_to_decide(share, limit, variant.cases, report.run.repeats, report.confidence)
        message = f"variant '{subject}': {shown} straddles {label}{_inconclusive_tail(more)}"
        return GateCheck("max_error_rate", subject, outcome, message, more)
    verb = "is within" if outcome == "pass" else "exceeds"
    return GateCheck("max_error_rate", subject, outcome, f"variant '{subject}': {shown} {verb} {label}")


def regression_check(comparison: Comparison, margin: float, repeats: int, by_interval: bool) -> GateCheck:
    """A check that B did not regress against A by more than ``margin`` (the paired difference B - A must be
    at least ``-margin``)."""
    paired = comparison.paired
    subject = f"{comparison.b_label} vs {comparison.a_label}"
    interval = Interval(paired.difference, paired.low, paired.high)
    if paired.n == 0 or not math.isfinite(paired.difference):
        return GateCheck("max_regression", subject, "inconclusive", f"{subject}: no case was counted on both sides")
    outcome = judge(
        paired.low, paired.high, paired.difference, -margin, above=True, by_interval=by_interval, shown_beyond=0.0
    )
    shown = f"{paired.difference:+.1%} [{paired.low:+.1%}, {paired.high:+.1%}]"
    label = f"max_regression {margin:.1%}"
    if outcome == "pass":
        return GateCheck("max_regression", subject, outcome, f"{subject}: {shown}: no regression beyond {label}")
    if outcome == "fail":
        message = f"{subject}: {shown}: a regression is shown, estimated beyond {label}"
        return GateCheck("max_regression", subject, outcome, message)
    more = more_samples_to_decide(interval, -margin, paired.n, repeats, comparison.confidence)
    message = f"{subject}: {shown} straddles -{margin:.1%}: a regression beyond {label} is neither shown nor ruled out"
    return GateCheck("max_regression", subject, outcome, message + _inconclusive_tail(more), more)


def evaluate_gate(
    report: RunReport,
    regressions: Sequence[Comparison] = (),
    *,
    on_inconclusive: Literal["pass", "fail"] | None = None,
) -> Gate:
    """Every check of ``report``'s suite thresholds (``regressions``: this run's variants as B against a
    baseline as A, for ``max_regression``), plus a failed check for each variant whose every sample errored.
    ``on_inconclusive`` overrides the suite's."""
    thresholds: Thresholds = report.suite.thresholds
    by_interval = thresholds.basis == "interval"
    gated = set(thresholds.variants or [variant.variant_id for variant in report.variants])
    checks: list[GateCheck] = []
    for variant in report.variants:
        if variant.all_errored:
            first = f"; first error: {variant.top_errors[0].message}" if variant.top_errors else ""
            checks.append(
                GateCheck(
                    "errors",
                    variant.variant_id,
                    "fail",
                    f"variant '{variant.variant_id}': every sample errored ({variant.errors}){first}",
                )
            )
        if variant.variant_id not in gated:
            continue
        if thresholds.min_pass_rate is not None:
            label = f"min_pass_rate {thresholds.min_pass_rate:.1%}"
            checks.append(_floor_check(variant, "min_pass_rate", thresholds.min_pass_rate, label, report, by_interval))
        if thresholds.band is not None:
            floor = _band_floor(thresholds.band, report.band_edges)
            label = f"the '{thresholds.band}' band (from {floor:.0%})"
            checks.append(_floor_check(variant, "band", floor, label, report, by_interval))
        if thresholds.max_error_rate is not None:
            checks.append(_error_check(variant, thresholds.max_error_rate, report, by_interval))
    regression = regression_gate(thresholds, regressions, report.run.repeats)
    return Gate(checks + regression.checks, on_inconclusive or thresholds.on_inconclusive)


def regression_gate(
    thresholds: Thresholds,
    comparisons: Sequence[Comparison],
    repeats: int,
    *,
    on_inconclusive: Literal["pass", "fail"] | None = None,
) -> Gate:
    """The ``max_regression`` checks alone of ``comparisons`` (B against A), as ``mendoza compare`` gates."""
    checks = []
    if thresholds.max_regression is not None:
        by_interval = thresholds.basis == "interval"
        checks = [regression_check(c, thresholds.max_regression, repeats, by_interval) for c in comparisons]
    return Gate(checks, on_inconclusive or thresholds.on_inconclusive)


def threshold_failures(report: RunReport, regressions: Sequence[Comparison] = ()) -> list[str]:
    """The messages of the failed checks of ``report``'s gate (empty when none failed)."""
    return evaluate_gate(report, regressions).lines("fail")
