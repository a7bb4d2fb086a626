"""What the viewer shows of each variant of a run, adapted from the one report (``mendoza.report.build_report``,
which the CLI, its JSON, Markdown and HTML read too): pass rates with their intervals and bands for the
automatic and the human-adjusted verdicts, errors and bounds, breakdowns, pass@k and pass^k, agreement between
the automatic verdicts and the human labels, cost, tokens and latency, and the per step section (each step's
own rate, where failures start, the end-to-end rate beside the product of the step rates). Nothing here
computes a statistic: figures are the report's, sentences ``mendoza.report.wording``'s."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mendoza.core import Run, Suite
from mendoza.report import (
    FailureStart,
    Rate,
    RunReport,
    StepChain,
    StepReport,
    VariantResult,
    build_report,
    step_chain_words,
    step_ran_words,
    variant_notes,
)
from mendoza.store import CellVerdicts, Store
from mendoza.viewer.links import grid_url
from mendoza.viewer.params import STEP_NAME_CHARS

__all__ = [
    "BreakdownSummary",
    "FailureStartRow",
    "PassCurvePoint",
    "RateSummary",
    "StepChainSummary",
    "StepRow",
    "VariantSummary",
    "finite",
    "rate_summary",
    "summarise_report",
    "summarise_run",
]


@dataclass(frozen=True, slots=True)
class RateSummary:
    """A pass rate with its interval (clustered by case, at the suite's confidence), and what it means.

    ``decided`` when the whole interval lies in one band (``band``); otherwise ``between`` names the bands of
    its two ends and ``samples_to_decide`` estimates how many more samples would decide it. ``errored`` and
    ``undecided`` samples are counted as the suite says (``errors``); ``bounds_low`` .. ``bounds_high`` is
    the rate whatever they would have been (None when there are none).
    """

    passed: int
    graded: int
    cases: int
    rate: float | None
    low: float | None
    high: float | None
    decided: bool
    band: str | None
    between: tuple[str, str] | None
    samples_to_decide: int | None
    recommendation: str
    confidence: float
    errors: str
    errored: int
    undecided: int
    bounds_low: float | None
    bounds_high: float | None


def finite(value: float) -> float | None:
    """``value``, or None when it is nan or infinite (no rate to show)."""
    return value if math.isfinite(value) else None


def rate_summary(rate: Rate, confidence: float) -> RateSummary:
    """The viewer's form of a report's ``Rate`` (the same figures, for templates and JSON twins)."""
    result = rate.reliability
    decision = result.band
    if result.graded == 0:
        words = result.recommendation
    elif decision.decided and decision.band is not None:
        words = f"{decision.band[0].upper()}{decision.band[1:]}. {result.recommendation}"
    else:
        words = f"Not decided. {result.recommendation}"
    graded = result.graded > 0
    return RateSummary(
        passed=result.passed,
        graded=result.graded,
        cases=result.cases,
        rate=result.rate,
        low=result.interval.low if graded else None,
        high=result.interval.high if graded else None,
        decided=decision.decided and graded,
        band=decision.band if graded else None,
        between=decision.between if graded else None,
        samples_to_decide=result.samples_to_decide if graded else None,
        recommendation=words,
        confidence=confidence,
        errors=rate.errors,
        errored=rate.outcomes.errored,
        undecided=rate.outcomes.undecided,
        bounds_low=None if rate.bounds is None else finite(rate.bounds.low.estimate),
        bounds_high=None if rate.bounds is None else finite(rate.bounds.high.estimate),
    )


@dataclass(frozen=True, slots=True)
class PassCurvePoint:
    """pass@k and pass^k at one k, averaged over the ``cases`` with at least k counted samples."""

    k: int
    pass_at_k: float
    pass_hat_k: float
    cases: int


@dataclass(frozen=True, slots=True)
class BreakdownSummary:
    """One grader's own rate, or the rate of the cases with one tag."""

    kind: str
    name: str
    cases: int
    rate: RateSummary


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step of a variant (``report.steps.StepReport``): how often it ran (``ran``, the report's words),
    its own pass rate where a grader targets it (automatic verdicts; None otherwise), the runs of it that
    errored, latency, tokens and its share of the variant's cost."""

    name: str
    kind: str
    ran: str
    samples: int
    variant_samples: int
    runs: int
    rate: RateSummary | None
    graders: list[str]
    errors: int
    error_share: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    tokens_in: int
    tokens_out: int
    cost: float | None
    cost_share: float | None


@dataclass(frozen=True, slots=True)
class FailureStartRow:
    """Where some of a variant's samples that did not pass started failing (``report.steps.FailureStart``):
    ``kind`` ``step``, ``final output`` or ``error``; ``share`` of the samples that did not pass. ``grid_url``
    opens the grid on the variant's samples that first failed at that step (None for the final output, the
    errored samples, and a name longer than the grid's filter takes)."""

    name: str
    kind: str
    samples: int
    share: float | None
    grid_url: str | None


@dataclass(frozen=True, slots=True)
class StepChainSummary:
    """The end-to-end rate (automatic verdicts) beside the product of its factors' rates, and the report's
    sentence about them (``words``); ``pattern`` is ``together``, ``apart`` or None (not markedly different)."""

    end_to_end: float | None
    product: float
    factors: list[tuple[str, float]]
    pattern: str | None
    words: str


@dataclass(frozen=True, slots=True)
class VariantSummary:
    """One variant of a run: automatic and human-adjusted pass rates, labels, curves, cost and latency."""

    variant_id: str
    model: str
    samples: int
    errors: int
    undecided: int
    automatic: RateSummary
    adjusted: RateSummary
    labelled: int
    overruled: int
    disagree: int
    kappa: float | None
    curve: list[PassCurvePoint]
    breakdowns: list[BreakdownSummary]
    top_errors: list[tuple[int, str]]
    notes: list[str]
    tokens_in: int
    tokens_out: int
    cost: float | None
    cost_per_pass: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    #: The per step section (empty, and the rest None, when no sample of the variant recorded a step).
    steps: list[StepRow]
    final_output: RateSummary | None
    failed_at: list[FailureStartRow]
    step_chain: StepChainSummary | None


def _step(step: StepReport, confidence: float) -> StepRow:
    return StepRow(
        name=step.name,
        kind=step.kind,
        ran=step_ran_words(step),
        samples=step.samples,
        variant_samples=step.variant_samples,
        runs=step.runs,
        rate=None if step.rate is None else rate_summary(step.rate, confidence),
        graders=list(step.graders),
        errors=step.errors,
        error_share=step.error_share,
        latency_p50_ms=step.latency_p50_ms,
        latency_p95_ms=step.latency_p95_ms,
        tokens_in=step.tokens_in,
        tokens_out=step.tokens_out,
        cost=step.cost,
        cost_share=step.cost_share,
    )


def _failure_start(start: FailureStart, run_id: str, variant_id: str) -> FailureStartRow:
    linked = start.kind == "step" and 0 < len(start.name) <= STEP_NAME_CHARS
    url = grid_url(run_id, [("failed_step", start.name), ("variant", variant_id)]) if linked else None
    return FailureStartRow(start.name, start.kind, start.samples, start.share, url)


def _chain(chain: StepChain | None) -> StepChainSummary | None:
    if chain is None:
        return None
    return StepChainSummary(
        end_to_end=chain.end_to_end_rate,
        product=chain.product,
        factors=list(chain.factors),
        pattern=chain.pattern,
        words=step_chain_words(chain),
    )


def _curve(report: RunReport, variant: VariantResult) -> list[PassCurvePoint]:
    counted = [case.graded for case in report.cases if case.variant_id == variant.variant_id and case.graded]
    points = []
    for k, (at_k, hat_k) in enumerate(zip(variant.pass_at_k, variant.pass_hat_k, strict=True), start=1):
        if math.isnan(at_k):
            break
        points.append(PassCurvePoint(k, at_k, hat_k, sum(1 for n in counted if n >= k)))
    return points


def summarise_report(report: RunReport, cells: Sequence[CellVerdicts]) -> list[VariantSummary]:
    """The viewer's summaries of a report built with human-adjusted verdicts (whose ``other`` rate is the
    automatic one wherever labels exist)."""
    if report.verdicts != "human-adjusted":
        raise ValueError("the viewer summarises a report of human-adjusted verdicts")
    disagree: dict[str, int] = {}
    for cell in cells:
        disagree[cell.variant_id] = disagree.get(cell.variant_id, 0) + cell.disagree
    summaries = []
    for variant in report.variants:
        adjusted = rate_summary(variant.rate, report.confidence)
        automatic = rate_summary(variant.other, report.confidence) if variant.other is not None else adjusted
        breakdowns = [
            BreakdownSummary(kind, item.name, item.cases, rate_summary(item.rate, report.confidence))
            for kind, items in (("grader", variant.by_grader), ("tag", variant.by_tag))
            for item in items
        ]
        summaries.append(
            VariantSummary(
                variant_id=variant.variant_id,
                model=variant.model,
                samples=variant.samples,
                errors=variant.errors,
                undecided=variant.undecided,
                automatic=automatic,
                adjusted=adjusted,
                labelled=variant.labelled,
                overruled=variant.overruled,
                disagree=disagree.get(variant.variant_id, 0),
                kappa=variant.label_kappa,
                curve=_curve(report, variant),
                breakdowns=breakdowns,
                top_errors=[(group.count, group.message) for group in variant.top_errors],
                notes=variant_notes(report, variant),
                tokens_in=variant.tokens_in,
                tokens_out=variant.tokens_out,
                cost=variant.cost,
                cost_per_pass=variant.cost_per_pass,
                latency_p50_ms=variant.latency_p50_ms,
                latency_p95_ms=variant.latency_p95_ms,
                steps=[_step(step, report.confidence) for step in variant.steps],
                final_output=(
                    None if variant.final_output is None else rate_summary(variant.final_output, report.confidence)
                ),
                failed_at=[_failure_start(start, report.run.id, variant.variant_id) for start in variant.failed_at],
                step_chain=_chain(variant.step_chain),
            )
        )
    return summaries


def summarise_run(store: Store, run: Run, suite: Suite) -> list[VariantSummary]:
    """One summary per variant of a run, in suite order (``suite`` is the run's own snapshot)."""
    del suite  # the report reads the run's snapshot itself
    report = build_report(store, run.id, verdicts="human-adjusted", judges=False)
    return summarise_report(report, store.outcomes.cell_verdicts(run.id))
