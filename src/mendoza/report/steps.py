"""The report per step: for each step name of each variant (in the order the steps usually run), how often it
ran, its own pass rate with a clustered interval where a grader targets it (``step: NAME``), its error share,
latency, tokens and cost; where the variant's failures start; and the end-to-end rate beside the product of
the step rates.

Rules, each stated once here:

* **A step's pass rate** counts the verdicts of the current sample graders that target it, automatic
  verdicts (a person's label judges the whole sample, not one step), through ``reliability.rate_of`` like
  every rate of the report. With one such grader the counts are its own (``store.outcomes.grader_cells``, as
  the per grader breakdown). With several, the step passes a sample only when every one of them passes it
  (``core.combined_verdict``, the rule of a sample's verdict), counted per sample from the grades that count
  (``store.grades.current``). A sample that errored counts as errored for the step (a failure under
  ``errors: fail``); a sample in which the step did not run is failed by its grader ("did not run"), so a step
  rate is the share of samples in which the step produced an output its graders accept.
* **The final output** is the factor the graders with no ``step`` make (their joint rate, as above).
* **End-to-end beside the product.** A sample passes (automatic verdict) when every current sample grader
  passes it, so it passes exactly when every factor (each graded step, and the final output when graders
  target it) passes. If the factors failed independently, the end-to-end rate would be the product of their
  rates. It is compared only when there are two factors or more, and called different when the product lies
  outside the end-to-end rate's interval and at least ``MARKED_DIFFERENCE`` from it. Above the product: the
  factors fail on the same samples (hard cases, or a later step failing because an earlier one did); below:
  they fail on different samples.
* **Where failures start** counts ``samples.failed_step`` (``core.first_failing_step``, set when the sample
  was graded) per step, over the variant's samples that did not pass by automatic verdicts (failed or
  errored); the failed samples with no failing step failed at the final output; errored samples (the call or
  the app raised, so no step was recorded) are their own row.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from mendoza.core import GraderSpec, OutcomeCounts, Run, combined_verdict
from mendoza.report.common import p50_p95, sample_graders
from mendoza.report.reliability import Rate, RateRules, rate_of
from mendoza.store import StepSummary, Store

__all__ = [
    "FINAL_OUTPUT",
    "MARKED_DIFFERENCE",
    "FailureStart",
    "RunSteps",
    "StepChain",
    "StepReport",
    "VariantSteps",
]

#: The name of the final output where a table of steps shows it (the factor of the graders with no ``step``).
FINAL_OUTPUT = "final output"
#: The least difference between the end-to-end rate and the product of the step rates called marked (and
#: only when the product also lies outside the end-to-end rate's interval).
MARKED_DIFFERENCE = 0.05


@dataclass(frozen=True)
class StepReport:
    """One step name of one variant.

    ``samples`` of the variant's ``variant_samples`` ran it, ``runs`` times in all (a step may run several
    times in a sample), ``errors`` of those runs failed. ``rate`` is its own pass rate (None when no grader
    targets it; ``graders`` names those that do). Latency is over every run of the step; ``cost_share`` is
    its cost over the variant's total sample cost (None when either is unknown or zero). ``position`` is the
    step's mean place among a sample's steps (0: first; None for a step a grader targets that never ran)."""

    name: str
    kind: str
    samples: int
    variant_samples: int
    runs: int
    errors: int
    rate: Rate | None
    graders: list[str]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    tokens_in: int
    tokens_out: int
    cost: float | None
    cost_share: float | None
    position: float | None

    @property
    def ran_share(self) -> float | None:
        """The share of the variant's samples that ran the step."""
        return self.samples / self.variant_samples if self.variant_samples else None

    @property
    def error_share(self) -> float | None:
        """The share of the step's runs that failed (an error on its span)."""
        return self.errors / self.runs if self.runs else None

    @property
    def pass_rate(self) -> float | None:
        """The step's own pass rate, or None without a grader (or without a counted sample)."""
        return None if self.rate is None else self.rate.reliability.rate


@dataclass(frozen=True)
class FailureStart:
    """Where some of a variant's samples that did not pass started failing: at a step (``kind`` ``step``,
    ``name`` the step's), at the final output (no step failed), or in an error of the call or the app
    (``error``). ``share`` is over the variant's samples that did not pass (automatic verdicts)."""

    name: str
    kind: Literal["step", "final output", "error"]
    samples: int
    share: float | None


@dataclass(frozen=True)
class StepChain:
    """The end-to-end rate (automatic verdicts) beside the product of its factors' rates: each graded step
    and, when graders target it, the final output (``factors``: name and rate, in step order)."""

    end_to_end: Rate
    factors: list[tuple[str, float]]
    product: float

    @property
    def end_to_end_rate(self) -> float | None:
        """The end-to-end pass rate (automatic verdicts)."""
        return self.end_to_end.reliability.rate

    @property
    def pattern(self) -> Literal["together", "apart"] | None:
        """``together`` when the end-to-end rate is markedly above the product (the factors fail on the same
        samples), ``apart`` when markedly below (on different samples), None when not markedly different."""
        rate = self.end_to_end_rate
        interval = self.end_to_end.reliability.interval
        if rate is None or abs(rate - self.product) < MARKED_DIFFERENCE:
            return None
        if interval.low <= self.product <= interval.high:
            return None
        return "together" if rate > self.product else "apart"


@dataclass(frozen=True)
class VariantSteps:
    """A variant's step section: its steps, where its failures start, the end-to-end comparison."""

    steps: list[StepReport]
    failed_at: list[FailureStart]
    chain: StepChain | None
    #: The joint rate of the graders with no ``step`` (the final output's factor), when there are any.
    final_output: Rate | None


_EMPTY = VariantSteps([], [], None, None)


class RunSteps:
    """The stored figures of a run's steps, read once per report; ``variant`` makes one variant's section."""

    def __init__(self, store: Store, run: Run, rules: RateRules) -> None:
        self._store = store
        self._run = run
        self._rules = rules
        self._summaries: dict[str, list[StepSummary]] = defaultdict(list)
        for summary in store.steps.summary(run.id):
            self._summaries[summary.variant_id].append(summary)
        self._failed_at: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self._targets: dict[str | None, list[GraderSpec]] = {}
        self._cells: dict[str | None, dict[str, list[OutcomeCounts]]] = {}
        if not self._summaries:
            return  # a run without steps: no step section anywhere, and no more queries
        for variant_id, name, count, errored in store.steps.failed_at(run.id):
            self._failed_at[variant_id].append((name, count, errored))
        for spec in sample_graders(store, run.id):
            self._targets.setdefault(spec.step, []).append(spec)
        several = any(len(specs) > 1 for specs in self._targets.values())
        verdicts = _verdicts_by_sample(store, run.id) if several else {}
        for target, specs in self._targets.items():
            self._cells[target] = _factor_cells(store, run.id, specs, verdicts)

    def variant(self, variant_id: str, variant_samples: int, automatic: Rate) -> VariantSteps:
        """The step section of one variant with ``variant_samples`` samples, whose end-to-end rate by automatic
        verdicts is ``automatic``; empty when none of its samples recorded a step."""
        summaries = self._summaries.get(variant_id)
        if not summaries:
            return _EMPTY
        durations: dict[str, list[float]] = defaultdict(list)
        for name, ms in self._store.steps.durations(self._run.id, variant_id):
            durations[name].append(ms)
        total_cost = self._store.steps.sample_costs(self._run.id, variant_id)
        steps = [
            self._step(summary, variant_samples, durations.get(summary.name, []), total_cost) for summary in summaries
        ]
        seen = {summary.name for summary in summaries}
        for target in self._targets:
            if target is not None and target not in seen:  # graded, never ran: its grader failed every sample
                steps.append(self._unrun_step(target, variant_id, variant_samples))
        final = self._rate(None, variant_id)
        return VariantSteps(
            steps, self._failure_starts(variant_id, automatic.outcomes), _chain(steps, final, automatic), final
        )

    def _rate(self, target: str | None, variant_id: str) -> Rate | None:
        if target not in self._targets:
            return None
        counts = self._cells[target].get(variant_id, [])
        return rate_of(counts, repeats=self._run.repeats, rules=self._rules, curve_intervals=False)

    def _graders(self, target: str | None) -> list[str]:
        return [spec.name for spec in self._targets.get(target, [])]

    def _step(
        self, summary: StepSummary, variant_samples: int, durations: list[float], total_cost: float | None
    ) -> StepReport:
        p50, p95 = p50_p95(durations)
        share = summary.cost / total_cost if summary.cost is not None and total_cost else None
        return StepReport(
            name=summary.name,
            kind=summary.kind,
            samples=summary.samples,
            variant_samples=variant_samples,
            runs=summary.runs,
            errors=int(summary.errors or 0),
            rate=self._rate(summary.name, summary.variant_id),
            graders=self._graders(summary.name),
            latency_p50_ms=p50,
            latency_p95_ms=p95,
            tokens_in=int(summary.tokens_in),
            tokens_out=int(summary.tokens_out),
            cost=summary.cost,
            cost_share=share,
            position=summary.first_position,
        )

    def _unrun_step(self, name: str, variant_id: str, variant_samples: int) -> StepReport:
        return StepReport(
            name=name,
            kind="other",
            samples=0,
            variant_samples=variant_samples,
            runs=0,
            errors=0,
            rate=self._rate(name, variant_id),
            graders=self._graders(name),
            latency_p50_ms=None,
            latency_p95_ms=None,
            tokens_in=0,
            tokens_out=0,
            cost=None,
            cost_share=None,
            position=None,
        )

    def _failure_starts(self, variant_id: str, outcomes: OutcomeCounts) -> list[FailureStart]:
        not_passed = outcomes.failed + outcomes.errored
        if not not_passed:
            return []
        at_steps = self._failed_at.get(variant_id, [])
        # An errored sample that failed at a step (an app that crashed in it) counts at that step.
        final = max(0, outcomes.failed - sum(count - errored for _, count, errored in at_steps))
        elsewhere = max(0, outcomes.errored - sum(errored for _, _, errored in at_steps))
        found = [FailureStart(name, "step", count, count / not_passed) for name, count, _ in at_steps]
        if final:
            found.append(FailureStart(FINAL_OUTPUT, "final output", final, final / not_passed))
        if elsewhere:
            found.append(FailureStart("errored", "error", elsewhere, elsewhere / not_passed))
        return found


def _chain(steps: list[StepReport], final: Rate | None, automatic: Rate) -> StepChain | None:
    """The end-to-end rate beside the product of the factors' rates, when there are two factors or more."""
    factors = [(step.name, step.pass_rate) for step in steps]
    factors.append((FINAL_OUTPUT, None if final is None else final.reliability.rate))
    rated = [(name, rate) for name, rate in factors if rate is not None]
    if len(rated) < 2 or automatic.reliability.rate is None:
        return None
    return StepChain(automatic, rated, math.prod(rate for _, rate in rated))


def _verdicts_by_sample(store: Store, run_id: str) -> dict[int, tuple[str, str, dict[str, bool | None]]]:
    """Per sample: its variant, its case, and each current grader's verdict that counts."""
    found: dict[int, tuple[str, str, dict[str, bool | None]]] = {}
    for grade in store.grades.current(run_id):
        entry = found.setdefault(grade.sample_id, (grade.variant_id, grade.case_id, {}))
        entry[2][grade.grader] = grade.passed
    return found


def _factor_cells(
    store: Store,
    run_id: str,
    specs: list[GraderSpec],
    verdicts: dict[int, tuple[str, str, dict[str, bool | None]]],
) -> dict[str, list[OutcomeCounts]]:
    """Per variant, one ``OutcomeCounts`` per case for a factor judged by ``specs``: one grader's own counts,
    or for several the samples every one of them passes (a missing verdict is undecided)."""
    cells = store.outcomes.grader_cells(run_id, [(spec.name, spec.definition_hash()) for spec in specs])
    first = specs[0].name
    by_variant: dict[str, list[OutcomeCounts]] = defaultdict(list)
    if len(specs) == 1:
        for cell in cells:
            by_variant[cell.variant_id].append(cell.counts)
        return by_variant
    names = [spec.name for spec in specs]
    joint: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for variant_id, case_id, grades in verdicts.values():
        verdict = combined_verdict([grades.get(name) for name in names])
        if verdict is not None:
            joint[(variant_id, case_id)][0 if verdict else 1] += 1
    for cell in cells:
        if cell.grader != first:
            continue
        passed, failed = joint.get((cell.variant_id, cell.case_id), (0, 0))
        by_variant[cell.variant_id].append(OutcomeCounts.of(cell.counts.samples, passed, failed, cell.counts.errored))
    return by_variant
