"""A smaller suite that says the same (``mendoza cases subset RUN --keep K``): K of a run's cases whose pass rate
estimates the whole suite's, the expected error of that estimate, and the same error for random subsets of K.

**The choice** (``stats.stratified_subset``): the cases are ordered by difficulty (their pass rate over every
variant) and cut into difficulty strata of two picks each; within a stratum they are ordered by discrimination
(``report.items``: the point-biserial correlation with the variants' rates on the other cases). That order is
cut into K groups of equal size and from each the case whose pass rates per variant are closest to its group's
mean is kept. The estimate is the plain pass rate of the kept cases (passed over counted samples): what
``mendoza show`` reports on a run of the smaller suite, with no weights to carry along.

**The expected error** is measured where it can be, never assumed:

* *leave one variant out*: for each variant, the subset is chosen again on the other variants alone, and its
  pass rate on the held-out variant is compared with that variant's rate on every case; the mean absolute error
  over the variants is the figure (with the worst one);
* *across runs*: with other runs of a suite of the same name in the store, the subset chosen on this run (among
  the cases the other run defines the same way) is compared on each of their variants with its rate on all those
  cases;
* *random subsets*: the same errors for ``RANDOM_DRAWS`` subsets of K drawn uniformly (seeded), averaged: what
  the choice is worth;
* *the noise floor* (``stats.noise_floor``): the part of those errors that the held-out samples' own noise
  gives any subset of K, however well chosen (from each case's binomial variance). With a handful of variants
  and a few repeats it is most of the error, and one run's held-out figure moves by about as much: compare the
  subset with random subsets over several runs (or variants) before trusting a difference of a point.

The per variant figures on this run itself (the subset chosen on every variant) are in-sample: optimistic, shown
only beside the measured ones.

Anchor: tinyBenchmarks (Polo et al., 2024, "tinyBenchmarks: evaluating LLMs with fewer examples") estimated
full-benchmark accuracy within about 2% from 100 items, with item response theory fitted on hundreds of models'
answers. This is simpler (no IRT model: strata and a nearest-to-the-mean pick) and judged the same way, against
random subsets of the same size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mendoza.core import Run
from mendoza.errors import ConfigError
from mendoza.report.items import RunCells, run_cells, same_cases, sibling_runs
from mendoza.report.summary import Verdicts
from mendoza.report.wording import percent
from mendoza.stats import item_discrimination, noise_floor, pooled_rates, random_subsets, stratified_subset
from mendoza.store import Store

__all__ = [
    "RANDOM_DRAWS",
    "SUBSET_SCHEMA",
    "HeldOut",
    "SubsetCheck",
    "SubsetReport",
    "choose_cases",
    "choose_subset",
    "points_words",
    "subset_cases",
    "subset_to_dict",
    "subset_words",
]

SUBSET_SCHEMA = "mendoza.subset/1"
#: How many random subsets the chosen one is compared with.
RANDOM_DRAWS = 200

IntMatrix = npt.NDArray[np.intp]


@dataclass(frozen=True)
class HeldOut:
    """One held-out variant (``run/variant`` for another run's): the subset's error on it (its pass rate on the
    subset minus on every case) and the mean absolute error of the random subsets on it."""

    label: str
    full_rate: float
    subset_error: float
    random_error: float
    #: The mean absolute error its samples' own noise alone gives any subset of the size (nan: unknown).
    noise_floor: float = math.nan


@dataclass(frozen=True)
class SubsetCheck:
    """The measured error of the subset's estimate, one way (``leave one variant out`` or ``other runs``)."""

    method: str
    held_out: list[HeldOut]
    #: Mean absolute error of the chosen subsets, and the largest.
    subset_mae: float
    subset_max: float
    #: Mean absolute error of the random subsets, and the 90th percentile of their absolute errors.
    random_mae: float
    random_p90: float
    draws: int
    #: The part of the error no choice of cases removes: the held-out samples' own noise (mean over them; nan
    #: when no case was sampled twice).
    noise_floor: float = math.nan


@dataclass(frozen=True)
class SubsetReport:
    """The chosen cases of a run and what their pass rate is worth."""

    run: Run
    keep: int
    #: The run's cases with a counted sample (the ones a subset is chosen from).
    candidates: int
    #: The chosen cases, in the suite's order.
    case_ids: tuple[str, ...]
    #: Per variant of this run: its rate on every case and on the chosen ones (in-sample).
    in_sample: list[tuple[str, float, float]]
    by_variant: SubsetCheck | None
    across_runs: SubsetCheck | None
    seed: int
    verdicts: Verdicts
    notes: list[str]


def choose_cases(passes: IntMatrix, graded: IntMatrix, keep: int) -> IntMatrix:
    """The rows of ``keep`` cases chosen on these counts (cases x variants): stratified by difficulty and
    discrimination, the nearest to each group's mean rates (``stats.stratified_subset``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(graded > 0, passes / np.maximum(graded, 1), np.nan)
        counted = graded.sum(axis=1)
        difficulty = np.where(counted > 0, passes.sum(axis=1) / np.maximum(counted, 1), 0.0)
    profiles = np.where(np.isnan(rates), difficulty[:, None], rates)
    return stratified_subset(difficulty, item_discrimination(passes, graded), keep, profiles=profiles)


def _check(
    method: str,
    labels: list[str],
    full: list[float],
    chosen: list[float],
    random: list[npt.NDArray[np.float64]],
    floors: list[float],
    draws: int,
) -> SubsetCheck:
    """The errors of the chosen subsets (one per held-out variant) and of the random ones, summed up."""
    errors = np.array(chosen) - np.array(full)
    absolute_random = np.abs(np.concatenate(random))
    absolute_random = absolute_random[np.isfinite(absolute_random)]
    held = [
        HeldOut(label, float(rate), float(error), float(np.nanmean(np.abs(draw))), floor)
        for label, rate, error, draw, floor in zip(labels, full, errors, random, floors, strict=True)
    ]
    known = [floor for floor in floors if math.isfinite(floor)]
    return SubsetCheck(
        method=method,
        held_out=held,
        subset_mae=float(np.mean(np.abs(errors))),
        subset_max=float(np.max(np.abs(errors))),
        random_mae=float(np.mean(absolute_random)),
        random_p90=float(np.percentile(absolute_random, 90)),
        draws=draws,
        noise_floor=float(np.mean(known)) if known else math.nan,
    )


def _leave_one_variant_out(data: RunCells, rows: IntMatrix, keep: int, seed: int, draws: int) -> SubsetCheck | None:
    """Each variant held out in turn: the subset chosen on the others, its error on the held-out one."""
    passes, graded = data.passes[rows], data.graded[rows]
    columns = [v for v in range(passes.shape[1]) if graded[:, v].sum() > 0]
    if len(columns) < 2:
        return None
    full = pooled_rates(passes, graded)
    drawn = random_subsets(len(rows), keep, draws, seed)
    random_rates = pooled_rates(passes, graded, drawn)
    labels, truths, estimates, random, floors = [], [], [], [], []
    for held in columns:
        train = [v for v in columns if v != held]
        chosen = choose_cases(passes[:, train], graded[:, train], keep)
        estimate = pooled_rates(passes[:, [held]], graded[:, [held]], chosen)[0]
        if not math.isfinite(estimate):
            continue
        labels.append(data.variant_ids[held])
        truths.append(float(full[held]))
        estimates.append(float(estimate))
        random.append(random_rates[:, held] - full[held])
        floors.append(float(noise_floor(passes[:, [held]], graded[:, [held]], keep)[0]))
    if not labels:
        return None
    return _check("leave one variant out", labels, truths, estimates, random, floors, draws)


def _other_runs(
    store: Store, data: RunCells, rows: IntMatrix, keep: int, seed: int, draws: int, verdicts: Verdicts
) -> tuple[SubsetCheck | None, list[str]]:
    """The subset chosen on this run (among the cases another run defines the same way), measured on each
    variant of the other runs of the suite."""
    labels, truths, estimates, random, floors = [], [], [], [], []
    skipped = []
    case_ids = tuple(data.case_ids[row] for row in rows)
    for other in sibling_runs(store, data.run):
        theirs = run_cells(store, other.id, verdicts)
        shared = same_cases(data.suite, theirs.suite) & set(theirs.case_ids)
        common = np.array(
            [index for index, case_id in enumerate(case_ids) if case_id in shared],
            dtype=np.intp,
        )
        if len(common) <= keep:
            skipped.append(other.id)
            continue
        chosen = choose_cases(data.passes[rows][common], data.graded[rows][common], keep)
        passes, graded = theirs.rows(tuple(case_ids[index] for index in common))
        full = pooled_rates(passes, graded)
        estimate = pooled_rates(passes, graded, chosen)
        random_rates = pooled_rates(passes, graded, random_subsets(len(common), keep, draws, seed))
        floor = noise_floor(passes, graded, keep)
        for column, variant_id in enumerate(theirs.variant_ids):
            if math.isfinite(full[column]) and math.isfinite(estimate[column]):
                labels.append(f"{other.id}/{variant_id}")
                truths.append(float(full[column]))
                estimates.append(float(estimate[column]))
                random.append(random_rates[:, column] - full[column])
                floors.append(float(floor[column]))
    if not labels:
        return None, skipped
    return _check("other runs", labels, truths, estimates, random, floors, draws), skipped


def choose_subset(
    store: Store,
    run_ref: str,
    keep: int,
    *,
    verdicts: Verdicts = "human-adjusted",
    seed: int = 0,
    draws: int = RANDOM_DRAWS,
) -> SubsetReport:
    """``keep`` cases of a run (an id, a unique prefix, or ``latest``) whose pass rate estimates the whole
    suite's, with the error of that estimate measured by leaving each variant out and on the other runs of the
    suite, beside random subsets of ``keep`` (``draws`` of them, from ``seed``)."""
    run = store.runs.get(run_ref)
    data = run_cells(store, run.id, verdicts)
    rows = np.flatnonzero(data.graded.sum(axis=1) > 0).astype(np.intp)
    if len(rows) < 2:
        raise ConfigError(f"run {run.id} has {len(rows)} case(s) with counted samples: too few to keep a subset of")
    if keep < 1 or keep >= len(rows):
        raise ConfigError(
            f"--keep {keep}: run {run.id} has {len(rows)} cases with counted samples; keep between 1 and "
            f"{len(rows) - 1}"
        )
    passes, graded = data.passes[rows], data.graded[rows]
    chosen = choose_cases(passes, graded, keep)
    full, mine = pooled_rates(passes, graded), pooled_rates(passes, graded, chosen)
    in_sample = [
        (variant_id, float(full[column]), float(mine[column]))
        for column, variant_id in enumerate(data.variant_ids)
        if math.isfinite(full[column])
    ]
    by_variant = _leave_one_variant_out(data, rows, keep, seed, draws)
    across, skipped = _other_runs(store, data, rows, keep, seed, draws, verdicts)
    notes = []
    if by_variant is None:
        notes.append(
            "No leave-one-variant-out check: it needs two variants or more with counted samples (run the suite "
            "with more variants, or keep several runs of it)."
        )
    if skipped:
        notes.append(
            f"{len(skipped)} other run(s) of the suite share {keep} cases or fewer with this one: left out of "
            "the check across runs."
        )
    if len(rows) < len(data.case_ids):
        notes.append(f"{len(data.case_ids) - len(rows)} case(s) with no counted sample were left out of the choice.")
    picked = {data.case_ids[rows[index]] for index in chosen}
    return SubsetReport(
        run=run,
        keep=keep,
        candidates=len(rows),
        case_ids=tuple(case.id for case in data.suite.cases if case.id in picked),
        in_sample=in_sample,
        by_variant=by_variant,
        across_runs=across,
        seed=seed,
        verdicts=verdicts,
        notes=notes,
    )


def subset_cases(store: Store, report: SubsetReport) -> list[dict[str, Any]]:
    """The chosen cases as the run's suite snapshot has them, in its order, each a mapping a ``.jsonl`` cases
    file holds (``config.datasets`` reads it back)."""
    suite = store.runs.suite(report.run.id)
    chosen = set(report.case_ids)
    return [
        {key: value for key, value in case.model_dump(mode="json").items() if value is not None}
        for case in suite.cases
        if case.id in chosen
    ]


def points_words(value: float) -> str:
    """An error in percentage points: ``1.8 pts``."""
    return "-" if not math.isfinite(value) else f"{value * 100:.1f} pts"


def _check_words(check: SubsetCheck, keep: int) -> str:
    what = f"{len(check.held_out)} variants" if check.method == "leave one variant out" else (
        f"{len(check.held_out)} variants of other runs"
    )
    floor = ""
    if math.isfinite(check.noise_floor):
        floor = f"; the held-out samples' own noise alone gives about {points_words(check.noise_floor)}"
    return (
        f"{check.method} ({what}): this subset {points_words(check.subset_mae)} (worst "
        f"{points_words(check.subset_max)}); random subsets of {keep}: {points_words(check.random_mae)} "
        f"(90% of draws within {points_words(check.random_p90)}; {check.draws} draws){floor}"
    )


def subset_words(report: SubsetReport) -> list[str]:
    """The expected error of the subset's pass rate beside random subsets', one line per check, and the
    in-sample rates per variant."""
    lines = [
        f"{report.keep} of {report.candidates} cases, stratified by difficulty and discrimination; expected error "
        "of their pass rate against the whole suite's (mean absolute, in percentage points):"
    ]
    for check in (report.by_variant, report.across_runs):
        if check is not None:
            lines.append("  " + _check_words(check, report.keep))
    if report.by_variant is None and report.across_runs is None:
        lines.append("  not measured: no variant to hold out and no other run of the suite")
    rates = ", ".join(f"{variant} {percent(full)} -> {percent(mine)}" for variant, full, mine in report.in_sample)
    lines.append(f"per variant on this run, all cases -> these (in-sample, optimistic): {rates}")
    return lines


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _check_dict(check: SubsetCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "method": check.method,
        "subset_mae": check.subset_mae,
        "subset_max": check.subset_max,
        "random_mae": check.random_mae,
        "random_p90": check.random_p90,
        "draws": check.draws,
        "noise_floor": _finite(check.noise_floor),
        "held_out": [
            {"variant": held.label, "full_rate": held.full_rate, "subset_error": held.subset_error,
             "random_mae": held.random_error, "noise_floor": _finite(held.noise_floor)}
            for held in check.held_out
        ],
    }


def subset_to_dict(report: SubsetReport) -> dict[str, Any]:
    """The subset as data (schema ``mendoza.subset/1``)."""
    return {
        "schema": SUBSET_SCHEMA,
        "run": {"id": report.run.id, "suite": report.run.suite_name},
        "verdicts": report.verdicts,
        "keep": report.keep,
        "candidates": report.candidates,
        "case_ids": list(report.case_ids),
        "in_sample": [{"variant": v, "full_rate": full, "subset_rate": mine} for v, full, mine in report.in_sample],
        "leave_one_variant_out": _check_dict(report.by_variant),
        "across_runs": _check_dict(report.across_runs),
        "seed": report.seed,
        "notes": report.notes,
    }
