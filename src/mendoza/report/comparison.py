"""Paired comparison of two variants (of one run, or of two runs) on the same cases.

The overall difference is paired by case: each case's pass rate under B minus under A, with a t interval
and p-value over cases (cases are the unit of replication; repeats only sharpen each case's rate). Per case,
an exact test (Fisher) says whether that case got better or worse, with Benjamini-Hochberg control of the
false discovery rate over all the cases tested. Cases present on one side only are listed, not dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mendoza.core import ErrorPolicy, Run
from mendoza.errors import ConfigError
from mendoza.report.summary import Verdicts
from mendoza.stats import PairedDifference, bh_adjusted, exact_paired_case_test, paired_difference
from mendoza.store import Store

__all__ = ["CaseChange", "Comparison", "compare_counts", "compare_variants", "side_counts", "variant_pairs"]

_NOTHING_PAIRED = PairedDifference(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), 0)


@dataclass(frozen=True)
class CaseChange:
    """One case under A and under B: k/n on each side, the exact test's p-value and its BH-adjusted q."""

    case_id: str
    a_passed: int
    a_graded: int
    b_passed: int
    b_graded: int
    p_value: float
    q_value: float
    significant: bool

    @property
    def difference(self) -> float:
        """B's pass rate minus A's."""
        return self.b_passed / self.b_graded - self.a_passed / self.a_graded

    @property
    def direction(self) -> str:
        """``better``, ``worse`` or ``same`` (by the point estimates)."""
        diff = self.difference
        return "better" if diff > 0 else "worse" if diff < 0 else "same"


@dataclass(frozen=True)
class Comparison:
    """B against A on their common cases. ``difference`` is B minus A."""

    a_label: str
    b_label: str
    a_rate: float
    b_rate: float
    paired: PairedDifference
    confidence: float
    cases: list[CaseChange]
    only_in_a: list[str]
    only_in_b: list[str]
    fdr: float

    @property
    def significant(self) -> bool:
        """The interval of the paired difference excludes zero."""
        return self.paired.low > 0 or self.paired.high < 0

    @property
    def paired_cases(self) -> int:
        """How many cases were counted on both sides."""
        return self.paired.n

    @property
    def verdict(self) -> str:
        """One sentence: is the difference real?"""
        diff = self.paired.difference
        if self.paired.n == 0:
            return f"Nothing to pair: no case of {self.b_label} and {self.a_label} was counted on both sides."
        if not self.significant:
            return (
                f"No real difference shown: {self.b_label} vs {self.a_label} is {diff:+.1%} "
                f"(interval {self.paired.low:+.1%} to {self.paired.high:+.1%} includes 0)."
            )
        word = "better" if diff > 0 else "worse"
        return (
            f"{self.b_label} is really {word} than {self.a_label}: {diff:+.1%} "
            f"(interval {self.paired.low:+.1%} to {self.paired.high:+.1%}, p = {self.paired.p_value:.3g})."
        )

    def changed(self, direction: str) -> list[CaseChange]:
        """Cases that got significantly ``better`` or ``worse`` (after FDR control)."""
        return [case for case in self.cases if case.significant and case.direction == direction]


def compare_counts(
    side_a: Mapping[str, tuple[int, int]],
    side_b: Mapping[str, tuple[int, int]],
    *,
    label_a: str = "A",
    label_b: str = "B",
    confidence: float = 0.95,
    fdr: float = 0.05,
) -> Comparison:
    """B against A from each side's ``case id -> (passed, failed)`` counts, paired on the cases both sides
    counted (cases with no counted sample on a side are left out of it)."""
    a = {case: counts for case, counts in side_a.items() if sum(counts) > 0}
    b = {case: counts for case, counts in side_b.items() if sum(counts) > 0}
    common = sorted(set(a) & set(b))
    rates_a = [a[case][0] / sum(a[case]) for case in common]
    rates_b = [b[case][0] / sum(b[case]) for case in common]
    paired = _NOTHING_PAIRED
    if common:
        paired = paired_difference(rates_b, rates_a, confidence)
        paired = paired._replace(low=max(-1.0, paired.low), high=min(1.0, paired.high))  # a rate moves <= 100%
    p_values = [exact_paired_case_test(a[c][0], sum(a[c]), b[c][0], sum(b[c])) for c in common]
    q_values = bh_adjusted(p_values) if p_values else []
    cases = [
        CaseChange(case, a[case][0], sum(a[case]), b[case][0], sum(b[case]), p, q, q <= fdr)
        for case, p, q in zip(common, p_values, q_values, strict=True)
    ]
    return Comparison(
        a_label=label_a,
        b_label=label_b,
        a_rate=sum(rates_a) / len(rates_a) if rates_a else float("nan"),
        b_rate=sum(rates_b) / len(rates_b) if rates_b else float("nan"),
        paired=paired,
        confidence=confidence,
        cases=cases,
        only_in_a=sorted(set(a) - set(b)),
        only_in_b=sorted(set(b) - set(a)),
        fdr=fdr,
    )


def side_counts(
    store: Store, run_id: str, variant_id: str, *, verdicts: Verdicts, errors: ErrorPolicy
) -> dict[str, tuple[int, int]]:
    """One variant's ``case id -> (passed, failed)`` as a pass rate counts them (see ``OutcomeCounts``)."""
    human = verdicts == "human-adjusted"
    return {
        cell.case_id: (cell.adjusted if human else cell.automatic).headline(errors)
        for cell in store.outcomes.cell_verdicts(run_id, variant_ids=[variant_id])
    }


def compare_variants(
    store: Store,
    run_a: str,
    variant_a: str,
    run_b: str,
    variant_b: str,
    *,
    confidence: float | None = None,
    fdr: float = 0.05,
    verdicts: Verdicts = "human-adjusted",
) -> Comparison:
    """Compare variant ``variant_b`` of run ``run_b`` against ``variant_a`` of run ``run_a`` (which may be the
    same run), paired by case, under run B's suite's rules (its error rule and, unless given, its confidence)."""
    suite = store.runs.suite(run_b)
    errors = suite.errors
    return compare_counts(
        side_counts(store, run_a, variant_a, verdicts=verdicts, errors=errors),
        side_counts(store, run_b, variant_b, verdicts=verdicts, errors=errors),
        label_a=variant_a if run_a == run_b else f"{run_a}:{variant_a}",
        label_b=variant_b if run_a == run_b else f"{run_b}:{variant_b}",
        confidence=suite.confidence if confidence is None else confidence,
        fdr=fdr,
    )


def variant_pairs(
    first: Run, second: Run | None, variants: Sequence[str] = (), variant: str | None = None
) -> list[tuple[str, str]]:
    """Which variants a comparison pairs (A of ``first`` against B of ``second``, or of ``first`` itself):
    ``variants`` (A, B) when given; else ``variant`` on both sides; within one run its two variants; across two
    runs every variant id they share, or their single variants. ``ConfigError`` when that is ambiguous or names
    a variant a run does not have."""
    other = second or first
    if variants:
        if len(variants) != 2:
            raise ConfigError("name two variants to compare: A and B")
        pairs = [(variants[0], variants[1])]
    elif variant:
        pairs = [(variant, variant)]
    elif second is None:
        if len(first.variant_ids) != 2:
            raise ConfigError("name two variants of the run to compare: --variants A B")
        pairs = [(first.variant_ids[0], first.variant_ids[1])]
    else:
        common = [vid for vid in first.variant_ids if vid in second.variant_ids]
        if common:
            pairs = [(vid, vid) for vid in common]
        elif len(first.variant_ids) == len(second.variant_ids) == 1:
            pairs = [(first.variant_ids[0], second.variant_ids[0])]
        else:
            raise ConfigError("the runs share no variant id: say which with --variants A_VARIANT B_VARIANT")
    for a_id, b_id in pairs:
        if a_id not in first.variant_ids or b_id not in other.variant_ids:
            raise ConfigError(f"no variant '{a_id}' in run {first.id} or '{b_id}' in run {other.id}")
    return pairs
