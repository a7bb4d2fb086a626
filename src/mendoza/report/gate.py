"""Thresholds of a suite checked against a report: what makes ``mendoza run`` / ``compare`` exit non-zero."""

from __future__ import annotations

from collections.abc import Sequence

from mendoza.report.comparison import Comparison
from mendoza.report.summary import RunReport
from mendoza.stats import BAND_NAMES

__all__ = ["threshold_failures"]


def _band_floor(band: str, edges: Sequence[float]) -> float:
    index = BAND_NAMES.index(band)
    return 0.0 if index == 0 else float(edges[index - 1])


def threshold_failures(report: RunReport, regressions: Sequence[Comparison] = ()) -> list[str]:
    """One line per threshold a variant misses; empty when all are met.

    ``regressions`` are comparisons of this run's variants (as B) against a baseline (as A), for
    ``max_regression``. With ``basis: interval`` the interval must clear a threshold, not just the estimate.
    """
    thresholds = report.suite.thresholds
    by_interval = thresholds.basis == "interval"
    gated = set(thresholds.variants or [variant.variant_id for variant in report.variants])
    failures: list[str] = []
    for variant in report.variants:
        if variant.variant_id not in gated:
            continue
        if variant.graded == 0:
            if thresholds.min_pass_rate is not None or thresholds.band is not None:
                failures.append(f"variant '{variant.variant_id}': no graded samples")
            continue
        value = variant.interval.low if by_interval else variant.interval.estimate
        what = "the lower end of its interval" if by_interval else "its pass rate"
        if thresholds.min_pass_rate is not None and value < thresholds.min_pass_rate:
            failures.append(
                f"variant '{variant.variant_id}': {what} {value:.1%} is below min_pass_rate "
                f"{thresholds.min_pass_rate:.1%}"
            )
        if thresholds.band is not None:
            floor = _band_floor(thresholds.band, report.band_edges)
            if value < floor:
                failures.append(
                    f"variant '{variant.variant_id}': {what} {value:.1%} is below the '{thresholds.band}' "
                    f"band, which starts at {floor:.0%}"
                )
    if thresholds.max_regression is not None:
        for comparison in regressions:
            change = comparison.paired.low if by_interval else comparison.paired.difference
            if change < -thresholds.max_regression:
                what = "may have regressed by up to" if by_interval else "regressed by"
                failures.append(
                    f"{comparison.b_label} {what} {-change:.1%} against {comparison.a_label} "
                    f"(max_regression {thresholds.max_regression:.1%})"
                )
    return failures
