"""Compare two runs, or two variants of one run, paired by case: the overall difference in pass rate with its
95% interval (a paired t interval on per-case pass rates), then the cases that got better and worse."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.stats import exact_paired_case_test, paired_difference
from mendoza.store import CellVerdicts
from mendoza.viewer.params import BadParameter, choice, integer, text
from mendoza.viewer.render import page
from mendoza.viewer.state import ViewerState, viewer_state
from mendoza.viewer.summary import RateSummary, rate_summary

__all__ = ["CaseChange", "CompareSide", "CompareView", "build_compare", "compare_page"]

View = Literal["adjusted", "auto"]


@dataclass(frozen=True, slots=True)
class CompareSide:
    """One side of a comparison: a run and one of its variants, its pass rate over the paired cases."""

    run: Run
    variant_id: str
    rate: RateSummary


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One paired case whose pass rate changed from A to B; ``p_value`` is Fisher's exact test on it alone."""

    case_id: str
    a_passed: int
    a_graded: int
    b_passed: int
    b_graded: int
    a_rate: float
    b_rate: float
    change: float
    p_value: float
    a_sample_id: int
    b_sample_id: int


@dataclass(frozen=True, slots=True)
class CompareView:
    """The comparison page: B minus A over the cases both graded."""

    a: CompareSide
    b: CompareSide
    view: View
    paired_cases: int
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    better: list[CaseChange]
    worse: list[CaseChange]
    better_total: int
    worse_total: int
    unchanged: int
    only_a: int
    only_b: int
    limit: int
    runs: list[Run]


def _cells(state: ViewerState, run: Run, variant_id: str, adjusted: bool) -> dict[str, tuple[int, int, int]]:
    """Per case of one variant: (passed, graded, sample to open)."""
    found: dict[str, tuple[int, int, int]] = {}
    cell: CellVerdicts
    for cell in state.store.cell_verdicts(run.id, variant_ids=[variant_id], human=adjusted):
        passed = cell.adjusted_passed if adjusted else cell.passed
        failed = cell.adjusted_failed if adjusted else cell.failed
        if passed + failed:
            target = cell.first_failing_id if cell.first_failing_id is not None else cell.first_sample_id
            found[cell.case_id] = (passed, passed + failed, target)
    return found


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _pick_b(state: ViewerState, run_a: Run, ref_b: str | None) -> Run:
    if ref_b is not None:
        return state.run(ref_b)
    if len(run_a.variant_ids) > 1:
        return run_a
    for other in state.store.list_runs(limit=200):
        if other.suite_name == run_a.suite_name and other.created_at < run_a.created_at:
            return other
    raise BadParameter(f"run {run_a.id} has one variant and no earlier run of its suite: choose b to compare")


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
    adjusted = view == "adjusted"
    cells_a = _cells(state, run_a, va, adjusted)
    cells_b = _cells(state, run_b, vb, adjusted)
    paired = [case_id for case_id in cells_a if case_id in cells_b]
    rates_a = [cells_a[case_id][0] / cells_a[case_id][1] for case_id in paired]
    rates_b = [cells_b[case_id][0] / cells_b[case_id][1] for case_id in paired]
    changes = []
    for case_id, rate_a, rate_b in zip(paired, rates_a, rates_b, strict=True):
        if rate_a != rate_b:
            changes.append((case_id, rate_a, rate_b))
    changes.sort(key=lambda item: (-abs(item[2] - item[1]), item[0]))
    better = [item for item in changes if item[2] > item[1]]
    worse = [item for item in changes if item[2] < item[1]]

    def change(item: tuple[str, float, float]) -> CaseChange:
        case_id, rate_a, rate_b = item
        a_passed, a_graded, a_sample = cells_a[case_id]
        b_passed, b_graded, b_sample = cells_b[case_id]
        p_value = exact_paired_case_test(a_passed, a_graded, b_passed, b_graded)
        return CaseChange(
            case_id,
            a_passed,
            a_graded,
            b_passed,
            b_graded,
            rate_a,
            rate_b,
            rate_b - rate_a,
            p_value,
            a_sample,
            b_sample,
        )

    difference = paired_difference(rates_b, rates_a) if paired else None
    side_a = [(cells_a[case_id][0], cells_a[case_id][1] - cells_a[case_id][0]) for case_id in paired]
    side_b = [(cells_b[case_id][0], cells_b[case_id][1] - cells_b[case_id][0]) for case_id in paired]
    return CompareView(
        a=CompareSide(run_a, va, rate_summary(side_a, run_a.repeats)),
        b=CompareSide(run_b, vb, rate_summary(side_b, run_b.repeats)),
        view=view,
        paired_cases=len(paired),
        difference=_finite(difference.difference) if difference else None,
        low=_finite(difference.low) if difference else None,
        high=_finite(difference.high) if difference else None,
        p_value=_finite(difference.p_value) if difference else None,
        better=[change(item) for item in better[:limit]],
        worse=[change(item) for item in worse[:limit]],
        better_total=len(better),
        worse_total=len(worse),
        unchanged=len(paired) - len(changes),
        only_a=len(cells_a) - len(paired),
        only_b=len(cells_b) - len(paired),
        limit=limit,
        runs=state.store.list_runs(limit=50),
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
