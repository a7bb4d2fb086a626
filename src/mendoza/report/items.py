"""Item analysis of a finished run: which cases are worth keeping (``mendoza cases analyze``, the viewer's
``/runs/{run}/items``).

Per case (an "item", in test theory's words), over every variant of the run:

* **difficulty**: the case's pass rate over all the variants' samples, with the report's interval
  (``rate_of``), clustered by variant as a run's rate is clustered by case (a case's repeats on one variant are
  alike); with a single variant, over its samples.
* **discrimination**: does the case separate the better variants from the worse ones? The point-biserial
  correlation (``stats.item_discrimination``) between a sample of the case passing and its variant's pass rate
  on the *other* cases (the corrected item-total correlation: the case does not count in the rate it is
  compared with). Near +1: the stronger variants pass it and the weaker fail it; near 0: it says nothing about
  which variant is better; below 0: the weaker variants pass it more often, a sign of a wrong expected answer
  or a grader that rewards the wrong thing. Undefined (None) with one variant, when the case always passes or
  always fails, or when the variants that took it have the same rate on the rest.
  **Across runs**: when the store holds other runs of a suite of the same name (the ``MAX_OTHER_RUNS`` newest),
  every (run, variant) pair counts as one more variant, rated on the cases it shares with this run, and only
  on the cases whose definition (vars, expected answer, tags, messages) is the same as in this run: the
  correlation over all of them is ``discrimination_across_runs``. Flags and the order use it when there is one.
* **flakiness**: the share of the case's variants with two counted samples or more that both passed and
  failed it.
* **saturated**: every variant always passes it (it tells no variant apart).
* **suspect**: no variant ever passes it, and at least one answered: likely a wrong expected answer, the more
  so when the variants fail with one output (``same_output`` counts the failing samples that gave the most
  common output, identical once trimmed of surrounding whitespace; ``same_output_variants`` the variants
  that gave it).

The counts are the report's: each (variant, case) cell's ``OutcomeCounts.headline`` under the suite's error
rule, by human-adjusted verdicts unless asked for the automatic ones.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from mendoza.core import OutcomeCounts, Run, Suite
from mendoza.report.reliability import Rate, RateRules, rate_of
from mendoza.report.summary import Verdicts, rules_of
from mendoza.report.wording import percent, rate_words
from mendoza.stats import item_discrimination
from mendoza.store import Store

__all__ = [
    "FLAKY_SHARE",
    "ITEMS_SCHEMA",
    "MAX_OTHER_RUNS",
    "REVERSED_BELOW",
    "CaseItem",
    "ItemAnalysis",
    "RunCells",
    "VariantAbility",
    "analyse_items",
    "discrimination_words",
    "flakiness_words",
    "items_to_dict",
    "run_cells",
    "same_cases",
    "sibling_runs",
    "suspect_words",
]

ITEMS_SCHEMA = "mendoza.items/1"
#: At most this many other runs of the same suite name are pooled (the newest).
MAX_OTHER_RUNS = 20
#: A case is flagged flaky when at least this share of its variants both passed and failed it.
FLAKY_SHARE = 0.5
#: A case is flagged reversed when its discrimination is below this (the weaker variants pass it more often).
REVERSED_BELOW = -0.2
#: How much of a suspect case's common output is kept.
OUTPUT_CHARS = 200
#: How many case ids a suggestion lists before "and N more".
LISTED_IDS = 10

#: The flags, worst first: the order of the table.
FLAGS = ("suspect", "reversed", "saturated", "flaky")

IntMatrix = npt.NDArray[np.intp]


@dataclass(frozen=True)
class RunCells:
    """A run's counted samples as cases x variants: ``passes[c, v]`` and ``graded[c, v]`` are the headline
    counts (``OutcomeCounts.headline`` under the suite's error rule) of case ``case_ids[c]`` on variant
    ``variant_ids[v]``. ``case_ids`` are the suite's cases with a sample in the run, in the suite's order."""

    run: Run
    suite: Suite
    rules: RateRules
    case_ids: tuple[str, ...]
    variant_ids: tuple[str, ...]
    cells: dict[tuple[str, str], OutcomeCounts]
    passes: IntMatrix
    graded: IntMatrix

    def rows(self, case_ids: tuple[str, ...], only: set[str] | None = None) -> tuple[IntMatrix, IntMatrix]:
        """``passes`` and ``graded`` with one row per case of ``case_ids``: zeros for a case the run lacks, or
        one not in ``only`` when given."""
        row = {case_id: index for index, case_id in enumerate(self.case_ids)}
        passes = np.zeros((len(case_ids), len(self.variant_ids)), dtype=np.intp)
        graded = np.zeros_like(passes)
        for index, case_id in enumerate(case_ids):
            if case_id in row and (only is None or case_id in only):
                passes[index] = self.passes[row[case_id]]
                graded[index] = self.graded[row[case_id]]
        return passes, graded


def run_cells(store: Store, run_id: str, verdicts: Verdicts = "human-adjusted") -> RunCells:
    """The counted samples of a run (by id) as matrices, by the ``verdicts`` asked for."""
    run = store.runs.get(run_id)
    suite = store.runs.suite(run.id)
    rules = rules_of(suite, run)
    human = verdicts == "human-adjusted"
    cells = {(cell.case_id, cell.variant_id): cell.outcomes(human) for cell in store.outcomes.cell_verdicts(run.id)}
    sampled = {case_id for case_id, _ in cells}
    case_ids = tuple(case.id for case in suite.cases if case.id in sampled)
    variant_ids = tuple(run.variant_ids)
    passes = np.zeros((len(case_ids), len(variant_ids)), dtype=np.intp)
    graded = np.zeros_like(passes)
    for row, case_id in enumerate(case_ids):
        for column, variant_id in enumerate(variant_ids):
            counts = cells.get((case_id, variant_id))
            if counts is not None:
                passed, failed = counts.headline(rules.errors)
                passes[row, column], graded[row, column] = passed, passed + failed
    return RunCells(run, suite, rules, case_ids, variant_ids, cells, passes, graded)


def sibling_runs(store: Store, run: Run, most: int = MAX_OTHER_RUNS) -> list[Run]:
    """The other runs (with samples) of a suite named like ``run``'s, newest first, at most ``most``."""
    siblings = (other for other in store.runs.of_suite(run.suite_name) if other.id != run.id and other.done_samples)
    return list(itertools.islice(siblings, most))


def same_cases(suite: Suite, other: Suite) -> set[str]:
    """The ids of the cases both suites define in the same way (vars, expected answer, tags, messages)."""
    mine = {case.id: case for case in suite.cases}
    return {case.id for case in other.cases if case.id in mine and mine[case.id] == case}


@dataclass(frozen=True)
class VariantAbility:
    """A variant's pass rate over every case of the run (the "ability" cases are correlated with)."""

    variant_id: str
    passed: int
    graded: int

    @property
    def rate(self) -> float | None:
        """Passed over counted, or None when nothing counted."""
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class CaseItem:
    """One case of the run, as an item: its difficulty, discrimination, flakiness and what is wrong with it."""

    case_id: str
    #: Its place in the suite (0-based).
    position: int
    #: Its pass rate over every variant's samples, with the report's interval.
    difficulty: Rate
    #: The variants with a counted sample of it.
    variants: int
    #: The point-biserial correlation with the variants' rates on the other cases (None: undefined).
    discrimination: float | None
    #: The same over this run and the other runs of the suite (None: no other run, or undefined).
    discrimination_across_runs: float | None
    #: Variants that both passed and failed it, of those with two counted samples or more.
    flaky_variants: int
    repeated_variants: int
    saturated: bool
    suspect: bool
    #: The answered samples that failed it (counted for suspect cases only).
    failing_outputs: int = 0
    #: How many of those gave the most common output, and from how many variants.
    same_output: int = 0
    same_output_variants: int = 0
    #: That output, trimmed, at most ``OUTPUT_CHARS`` characters.
    common_output: str | None = None

    @property
    def pass_rate(self) -> float | None:
        """The difficulty's estimate (passed over counted), or None when nothing counted."""
        return self.difficulty.reliability.rate

    @property
    def flakiness(self) -> float | None:
        """The share of its repeated variants that both passed and failed it (None without repeats)."""
        return self.flaky_variants / self.repeated_variants if self.repeated_variants else None

    @property
    def separation(self) -> float | None:
        """The discrimination the flags and the order use: across runs when there is one, else this run's."""
        return self.discrimination_across_runs if self.discrimination_across_runs is not None else self.discrimination

    @property
    def flags(self) -> tuple[str, ...]:
        """What is wrong with it, worst first (empty when nothing)."""
        found = []
        if self.suspect:
            found.append("suspect")
        if self.separation is not None and self.separation < REVERSED_BELOW:
            found.append("reversed")
        if self.saturated:
            found.append("saturated")
        if self.flakiness is not None and self.flakiness >= FLAKY_SHARE:
            found.append("flaky")
        return tuple(found)


@dataclass(frozen=True)
class ItemAnalysis:
    """The item analysis of a run: its variants' rates, every case worst first, suggestions and notes."""

    run: Run
    verdicts: Verdicts
    errors: str
    variants: list[VariantAbility]
    #: Worst first: suspect, reversed, saturated, flaky, then the least discriminating.
    items: list[CaseItem]
    #: The other runs of the suite pooled for ``discrimination_across_runs``, newest first.
    other_runs: list[str]
    suggestions: list[str]
    notes: list[str]

    def item(self, case_id: str) -> CaseItem:
        """The item of one case (``KeyError`` if the run has none by that id)."""
        for item in self.items:
            if item.case_id == case_id:
                return item
        raise KeyError(case_id)

    def flagged(self, flag: str) -> list[CaseItem]:
        """The items with ``flag``, in the table's order."""
        return [item for item in self.items if flag in item.flags]


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _difficulty(cells: list[OutcomeCounts], data: RunCells) -> Rate:
    """A case's rate over its variants' cells, clustered by variant; one variant's over its samples."""
    if len(cells) >= 2:
        return rate_of(cells, repeats=data.run.repeats, rules=data.rules, curve_intervals=False)
    units: list[OutcomeCounts] = []
    for cell in cells:
        units += [OutcomeCounts(passed=1)] * cell.passed + [OutcomeCounts(failed=1)] * cell.failed
        units += [OutcomeCounts(errored=1)] * cell.errored + [OutcomeCounts(undecided=1)] * cell.undecided
    return rate_of(units, repeats=1, rules=data.rules, curve_intervals=False)


def _failing_outputs(store: Store, data: RunCells, case_id: str, human: bool) -> tuple[int, int, int, str | None]:
    """Of a case's answered samples that failed: how many, how many gave the most common output (trimmed),
    from how many variants, and that output."""
    outputs: Counter[str] = Counter()
    variants: dict[str, set[str]] = {}
    for record in store.browse.case_samples(data.run.id, case_id, data.variant_ids):
        verdict = record.adjusted_passed if human else record.passed
        if record.error is None and record.output is not None and verdict is False:
            text = record.output.strip()
            outputs[text] += 1
            variants.setdefault(text, set()).add(record.variant_id)
    if not outputs:
        return 0, 0, 0, None
    text, count = max(outputs.items(), key=lambda pair: (pair[1], len(variants[pair[0]]), pair[0]))
    return sum(outputs.values()), count, len(variants[text]), text[:OUTPUT_CHARS]


def _across_runs(store: Store, data: RunCells, others: list[Run], verdicts: Verdicts) -> npt.NDArray[np.float64]:
    """Per case of ``data``, the discrimination over its variants and every variant of the ``others``."""
    passes, graded = [data.passes], [data.graded]
    for other in others:
        theirs = run_cells(store, other.id, verdicts)
        p, g = theirs.rows(data.case_ids, same_cases(data.suite, theirs.suite))
        passes.append(p)
        graded.append(g)
    return item_discrimination(np.hstack(passes), np.hstack(graded))


def _order(item: CaseItem) -> tuple[int, int, float, float, int]:
    flags = item.flags
    severity = FLAGS.index(flags[0]) if flags else len(FLAGS)
    separation = item.separation if item.separation is not None else 0.0
    return (severity, -item.same_output, separation, -(item.flakiness or 0.0), item.position)


def _ids(items: list[CaseItem]) -> str:
    shown = ", ".join(item.case_id for item in items[:LISTED_IDS])
    return shown + (f" and {len(items) - LISTED_IDS} more" if len(items) > LISTED_IDS else "")


def _cases(n: int) -> str:
    return f"{n} case" if n == 1 else f"{n} cases"


def _suggestions(analysis_items: list[CaseItem], repeats: int) -> list[str]:
    """What to do about the flagged cases, one sentence per flag, worst first."""
    if not analysis_items:
        return ["This run has no samples yet: nothing to analyse."]
    by_flag = {flag: [item for item in analysis_items if flag in item.flags] for flag in FLAGS}
    found = []
    suspect = by_flag["suspect"]
    if suspect:
        shared = sum(1 for item in suspect if item.same_output_variants >= 2)
        why = f"; {shared} with one output from several variants, likely a wrong expected answer" if shared else ""
        found.append(f"Check {_cases(len(suspect))} that every variant fails (suspect{why}): {_ids(suspect)}.")
    reversed_ = by_flag["reversed"]
    if reversed_:
        found.append(
            f"Check {_cases(len(reversed_))} that the weaker variants pass more often than the stronger ones "
            f"(discrimination below {REVERSED_BELOW:+.1f}: a wrong expected answer, or a grader that rewards the "
            f"wrong thing): {_ids(reversed_)}."
        )
    saturated = by_flag["saturated"]
    if saturated:
        found.append(
            f"Drop {_cases(len(saturated))} that every variant always passes (saturated: they tell no variant "
            f"apart), or make them harder: {_ids(saturated)}."
        )
    flaky = by_flag["flaky"]
    if flaky:
        found.append(
            f"Add repeats: {_cases(len(flaky))} both passed and failed on at least {FLAKY_SHARE:.0%} of their "
            f"variants (flaky): {_ids(flaky)}. Raise the suite's repeats (now {repeats}) so their rates settle."
        )
    if not found:
        found.append("No case stands out: none is suspect, reversed, saturated or flaky.")
    return found


def _notes(data: RunCells, others: list[Run], verdicts: Verdicts) -> list[str]:
    notes = [
        f"Counted by {verdicts} verdicts; errored samples "
        + ("count as failures." if data.rules.errors == "fail" else "are left out (errors: exclude).")
    ]
    if len(data.variant_ids) < 2:
        notes.append(
            "Discrimination needs two variants or more, and this run has one: run the suite with more variants "
            "(or keep several runs of it) to see which cases tell variants apart."
        )
    if data.run.repeats < 2:
        notes.append("Flakiness needs two samples of a case per variant: this run has one repeat.")
    if others:
        notes.append(
            f"Discrimination across runs pools this run with {len(others)} other run(s) of "
            f"'{data.run.suite_name}' in the store (the {MAX_OTHER_RUNS} newest at most): each of their variants "
            "counts as one more, on the cases whose definition is the same as in this run."
        )
    return notes


def analyse_items(store: Store, run_ref: str, *, verdicts: Verdicts = "human-adjusted") -> ItemAnalysis:
    """The item analysis of a run (an id, a unique prefix, or ``latest``) by the ``verdicts`` asked for."""
    run = store.runs.get(run_ref)
    data = run_cells(store, run.id, verdicts)
    human = verdicts == "human-adjusted"
    discrimination = item_discrimination(data.passes, data.graded)
    others = sibling_runs(store, run)
    across = _across_runs(store, data, others, verdicts) if others else None
    items = []
    for row, case_id in enumerate(data.case_ids):
        cells = [data.cells[(case_id, v)] for v in data.variant_ids if (case_id, v) in data.cells]
        counted = [
            (int(p), int(g)) for p, g in zip(data.passes[row], data.graded[row], strict=True) if g > 0
        ]
        passed = sum(p for p, _ in counted)
        graded = sum(g for _, g in counted)
        repeated = [(p, g) for p, g in counted if g >= 2]
        item = CaseItem(
            case_id=case_id,
            position=row,
            difficulty=_difficulty(cells, data),
            variants=len(counted),
            discrimination=_optional(discrimination[row]),
            discrimination_across_runs=None if across is None else _optional(across[row]),
            flaky_variants=sum(1 for p, g in repeated if 0 < p < g),
            repeated_variants=len(repeated),
            saturated=graded > 0 and passed == graded,
            suspect=False,
        )
        if graded > 0 and passed == 0:
            failing, same, spread, text = _failing_outputs(store, data, case_id, human)
            item = replace(
                item, suspect=failing > 0, failing_outputs=failing, same_output=same,
                same_output_variants=spread, common_output=text,
            )
        items.append(item)
    items.sort(key=_order)
    abilities = [
        VariantAbility(variant_id, int(data.passes[:, column].sum()), int(data.graded[:, column].sum()))
        for column, variant_id in enumerate(data.variant_ids)
    ]
    return ItemAnalysis(
        run=run,
        verdicts=verdicts,
        errors=data.rules.errors,
        variants=abilities,
        items=items,
        other_runs=[other.id for other in others],
        suggestions=_suggestions(items, run.repeats),
        notes=_notes(data, others, verdicts),
    )


def discrimination_words(value: float | None) -> str:
    """``+0.62``, or ``-`` when undefined."""
    return "-" if value is None else f"{value:+.2f}"


def flakiness_words(item: CaseItem) -> str:
    """``2/6``: the variants that both passed and failed it, of those with repeats; ``-`` without repeats."""
    return "-" if item.flakiness is None else f"{item.flaky_variants}/{item.repeated_variants}"


def suspect_words(item: CaseItem) -> str:
    """What a suspect case's failing outputs share: ``5/18 say "Paris" (3 variants)``, how many of its answered
    failing samples gave the most common output, that output (cut at 60 characters) and from how many
    variants; empty for any other case."""
    if not item.suspect or item.common_output is None:
        return ""
    variants = "1 variant" if item.same_output_variants == 1 else f"{item.same_output_variants} variants"
    shown = item.common_output if len(item.common_output) <= 60 else item.common_output[:59] + "…"
    return f'{item.same_output}/{item.failing_outputs} say "{shown}" ({variants})'


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _rate_dict(rate: Rate) -> dict[str, Any]:
    result = rate.reliability
    return {
        "estimate": _number(result.rate),
        "low": _number(result.interval.low) if result.graded else None,
        "high": _number(result.interval.high) if result.graded else None,
        "passed": result.passed,
        "counted": result.graded,
        "method": result.method,
        "words": rate_words(rate),
    }


def items_to_dict(analysis: ItemAnalysis) -> dict[str, Any]:
    """The analysis as data (schema ``mendoza.items/1``): the CLI's ``--json`` and the viewer's JSON twin."""
    return {
        "schema": ITEMS_SCHEMA,
        "run": {"id": analysis.run.id, "suite": analysis.run.suite_name, "status": analysis.run.status},
        "verdicts": analysis.verdicts,
        "error_rule": analysis.errors,
        "variants": [
            {"id": v.variant_id, "pass_rate": v.rate, "passed": v.passed, "counted": v.graded, "words": percent(v.rate)}
            for v in analysis.variants
        ],
        "other_runs": analysis.other_runs,
        "cases": [
            {
                "case_id": item.case_id,
                "flags": list(item.flags),
                "difficulty": _rate_dict(item.difficulty),
                "variants": item.variants,
                "discrimination": item.discrimination,
                "discrimination_across_runs": item.discrimination_across_runs,
                "flakiness": item.flakiness,
                "flaky_variants": item.flaky_variants,
                "repeated_variants": item.repeated_variants,
                "saturated": item.saturated,
                "suspect": item.suspect,
                "failing_outputs": item.failing_outputs,
                "same_output": item.same_output,
                "same_output_variants": item.same_output_variants,
                "common_output": item.common_output,
            }
            for item in analysis.items
        ],
        "suggestions": analysis.suggestions,
        "notes": analysis.notes,
    }
