"""Compare two runs, or two variants of one run, paired by case: the difference in pass rate with its interval
and p-value, then the cases that got better and worse with their exact tests and false-discovery control.
Every figure is ``mendoza.report.compare_variants``'s, as ``mendoza compare`` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.report import Comparison, Verdicts, build_report, compare_variants
from mendoza.viewer.params import BadParameter, choice, integer, text
from mendoza.viewer.render import page
from mendoza.viewer.state import ViewerState, viewer_state
from mendoza.viewer.summary import RateSummary, finite, rate_summary

__all__ = ["CaseChange", "CompareSide", "CompareView", "build_compare", "compare_page"]

View = Literal["adjusted", "auto"]
_VERDICTS: dict[View, Verdicts] = {"adjusted": "human-adjusted", "auto": "automatic"}


@dataclass(frozen=True, slots=True)
class CompareSide:
    """One side of a comparison: a run and one of its variants, its rate over all its cases (``rate``) and
    its mean per-case rate over the paired cases (``paired_rate``)."""

    run: Run
    variant_id: str
    rate: RateSummary
    paired_rate: float | None


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One paired case whose pass rate changed from A to B: the exact test's p-value, its false-discovery
    adjusted q-value and whether it is significant, and the samples to open on each side."""

    case_id: str
    a_passed: int
    a_graded: int
    b_passed: int
    b_graded: int
    a_rate: float
    b_rate: float
    change: float
    p_value: float
    q_value: float
    significant: bool
    a_sample_id: int | None
    b_sample_id: int | None


@dataclass(frozen=True, slots=True)
class CompareView:
    """The comparison page: B minus A over the cases both counted."""

    a: CompareSide
    b: CompareSide
    view: View
    verdicts: Verdicts
    confidence: float
    fdr: float
    paired_cases: int
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    verdict: str
    better: list[CaseChange]
    worse: list[CaseChange]
    better_total: int
    worse_total: int
    better_significant: int
    worse_significant: int
    unchanged: int
    only_a: int
    only_b: int
    limit: int
    runs: list[Run]



def _pick_b(state: ViewerState, run_a: Run, ref_b: str | None) -> Run:
    if ref_b is not None:
        return state.run(ref_b)
    if len(run_a.variant_ids) > 1:
        return run_a
    for other in state.store.runs.of_suite(run_a.suite_name):  # newest first
        if other.created_at < run_a.created_at:
            return other
    raise BadParameter(f"run {run_a.id} has one variant and no earlier run of its suite: choose b to compare")


def _targets(state: ViewerState, run: Run, variant_id: str, adjusted: bool) -> dict[str, int]:
    """Per case of one variant: the sample to open (its first failing one, else its first)."""
    found = {}
    for cell in state.store.outcomes.cell_verdicts(run.id, variant_ids=[variant_id], human=adjusted):
        found[cell.case_id] = cell.first_failing_id if cell.first_failing_id is not None else cell.first_sample_id
    return found


def _side(state: ViewerState, run: Run, variant_id: str, verdicts: Verdicts, paired_rate: float) -> CompareSide:
    report = build_report(state.store, run.id, verdicts=verdicts, judges=False)
    return CompareSide(
        run, variant_id, rate_summary(report.variant(variant_id).rate, report.confidence), finite(paired_rate)
    )


def build_compare(
    state: ViewerState,
    run_a: Run,
    variant_a: str | None,
    run_b: Run,
    variant_b: str | None,
    view: View,
    limit: int,
) -> CompareView:
    """B against A: ``variant_a`` of ``run_a`` (default its first) and ``variant_b`` of ``run_b`` (default:
    the next variant when both are one run, else the same variant id when run B has it, else its first)."""
    va = variant_a or run_a.variant_ids[0]
    if va not in run_a.variant_ids:
        raise BadParameter(f"run {run_a.id} has no variant {va[:60]!r}")
    if variant_b:
        vb = variant_b
    elif run_b.id == run_a.id:
        vb = next((v for v in run_b.variant_ids if v != va), va)
    else:
        vb = va if va in run_b.variant_ids else run_b.variant_ids[0]
    if vb not in run_b.variant_ids:
        raise BadParameter(f"run {run_b.id} has no variant {vb[:60]!r}")
    if run_a.id == run_b.id and va == vb:
        raise BadParameter("compare two runs, or two different variants of one run")
    verdicts = _VERDICTS[view]
    comparison: Comparison = compare_variants(state.store, run_a.id, va, run_b.id, vb, verdicts=verdicts)
    targets_a = _targets(state, run_a, va, view == "adjusted")
    targets_b = _targets(state, run_b, vb, view == "adjusted")
    changes = [
        CaseChange(
            case.case_id,
            case.a_passed,
            case.a_graded,
            case.b_passed,
            case.b_graded,
            case.a_passed / case.a_graded,
            case.b_passed / case.b_graded,
            case.difference,
            case.p_value,
            case.q_value,
            case.significant,
            targets_a.get(case.case_id),
            targets_b.get(case.case_id),
        )
        for case in comparison.cases
        if case.direction != "same"
    ]
    changes.sort(key=lambda change: (not change.significant, -abs(change.change), change.case_id))
    better = [change for change in changes if change.change > 0]
    worse = [change for change in changes if change.change < 0]
    paired = comparison.paired
    return CompareView(
        a=_side(state, run_a, va, verdicts, comparison.a_rate),
        b=_side(state, run_b, vb, verdicts, comparison.b_rate),
        view=view,
        verdicts=verdicts,
        confidence=comparison.confidence,
        fdr=comparison.fdr,
        paired_cases=paired.n,
        difference=finite(paired.difference),
        low=finite(paired.low),
        high=finite(paired.high),
        p_value=finite(paired.p_value),
        verdict=comparison.verdict,
        better=better[:limit],
        worse=worse[:limit],
        better_total=len(better),
        worse_total=len(worse),
        better_significant=len(comparison.changed("better")),
        worse_significant=len(comparison.changed("worse")),
        unchanged=paired.n - len(changes),
        only_a=len(comparison.only_in_a),
        only_b=len(comparison.only_in_b),
        limit=limit,
        runs=state.store.runs.latest(limit=50),
    )


async def compare_page(request: Request) -> Response:
    """``GET /compare?a=RUN&va=VARIANT&b=RUN&vb=VARIANT``: B against A, paired by case."""
    state = viewer_state(request)
    params = request.query_params
    run_a = state.run(text(params, "a") or "latest")
    run_b = _pick_b(state, run_a, text(params, "b"))
    view = build_compare(
        state,
        run_a,
        text(params, "va"),
        run_b,
        text(params, "vb"),
        choice(params, "view", ("adjusted", "auto"), "adjusted"),
        integer(params, "limit", 50, low=1, high=500),
    )
    return page(request, "compare.html", view)
