"""The reliability report of a run: per variant the pass rate with an honest interval (errors counted as the
suite says), the bounds whatever the errored and undecided samples would have been, the most common errors,
pass@k and pass^k, the band and whether it is decided, per grader and per tag breakdowns, cost and latency,
warnings about silent garbage; per case k/n with its interval and a flaky marker.

Every figure comes from ``report.reliability.rate_of``; ``build_report`` is what the CLI, its exports, the
gates and the viewer all read, for the verdicts asked for (automatic or human-adjusted)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal

from mendoza.core import OutcomeCounts, Run, Suite
from mendoza.report.common import p50_p95, sample_graders
from mendoza.report.judges import JudgeReport, build_judge_report
from mendoza.report.reliability import Rate, RateRules, Reliability, rate_of
from mendoza.report.steps import FailureStart, RunSteps, StepChain, StepReport
from mendoza.stats import BandDecision, Interval, classify_band, cohen_kappa, wilson_bounds, wilson_interval
from mendoza.store import CellVerdicts, ErrorGroup, OutputSigns, Store

__all__ = [
    "VERDICTS",
    "Breakdown",
    "CaseResult",
    "RunReport",
    "VariantResult",
    "Verdicts",
    "build_report",
    "fixed_design_to_decide",
    "rules_of",
]

Verdicts = Literal["automatic", "human-adjusted"]
VERDICTS: tuple[Verdicts, ...] = ("human-adjusted", "automatic")
"""Which verdicts a figure counts: the graders' alone, or a person's label wherever there is one (the
default: a label overrules the grader). Wherever labels exist, the other figure is shown beside it."""


@dataclass(frozen=True)
class CaseResult:
    """One (variant, case) cell: k passed of n counted (errors counted as the suite says), its Wilson
    interval, and whether it is flaky."""

    variant_id: str
    case_id: str
    passed: int
    graded: int
    errors: int
    interval: Interval
    undecided: int = 0
    samples: int = 0

    @property
    def flaky(self) -> bool:
        """Neither always passes nor always fails."""
        return 0 < self.passed < self.graded


@dataclass(frozen=True)
class Breakdown:
    """The rate of one slice of a variant's samples: one grader's own verdicts, or the cases with one tag."""

    name: str
    cases: int
    rate: Rate


@dataclass(frozen=True)
class VariantResult:
    """One variant's reliability. ``rate`` is the headline (the report's verdicts, the suite's error rule);
    ``other`` the same with the other verdicts, when people labelled some samples. The properties are the
    headline's figures: ``interval`` is clustered by case (a confidence sequence for an adaptive run);
    ``pass_at_k[k-1]`` / ``pass_hat_k[k-1]`` are the unbiased estimates for k = 1..repeats."""

    variant_id: str
    model: str
    rate: Rate
    other: Rate | None
    labelled: int
    overruled: int
    cases: int
    flaky_cases: int
    tokens_in: int
    tokens_out: int
    cost: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    top_errors: list[ErrorGroup]
    by_grader: list[Breakdown]
    by_tag: list[Breakdown]
    warnings: list[str]
    #: Cohen's kappa between the automatic verdicts and the people's labels (None below 2 labels).
    label_kappa: float | None = None
    #: How long grading one sample took (ms), apart from the model call's latency: p50 and p95.
    grading_p50_ms: float | None = None
    grading_p95_ms: float | None = None
    #: ``(grader, sandbox backend, grades)`` for the graders that ran programs (the ``code`` grader).
    sandboxes: list[tuple[str, str, int]] = field(default_factory=list)
    fixed_design_to_decide: int | None = None
    #: Per step name, in the order the steps usually run (``report.steps``); empty when no sample has steps.
    steps: list[StepReport] = field(default_factory=list)
    #: Where the samples that did not pass started failing: at a step, at the final output, in an error.
    failed_at: list[FailureStart] = field(default_factory=list)
    #: The end-to-end rate beside the product of the step rates (two graded factors or more).
    step_chain: StepChain | None = None
    #: The joint rate of the graders with no ``step``, shown beside the steps' (None without steps).
    final_output: Rate | None = None

    @property
    def _reliability(self) -> Reliability:
        return self.rate.reliability

    @property
    def samples(self) -> int:
        """Every sample of the variant, whatever its outcome."""
        return self.rate.outcomes.samples

    @property
    def passed(self) -> int:
        """Samples that passed."""
        return self.rate.outcomes.passed

    @property
    def failed(self) -> int:
        """Samples the graders failed (errored samples are counted apart, in ``errors``)."""
        return self.rate.outcomes.failed

    @property
    def errors(self) -> int:
        """Samples whose call or app errored (no output to grade)."""
        return self.rate.outcomes.errored

    @property
    def undecided(self) -> int:
        """Samples a grader could not decide."""
        return self.rate.outcomes.undecided

    @property
    def graded(self) -> int:
        """The samples the pass rate counts: passed and failed, plus the errored under ``errors: fail``."""
        return self._reliability.graded

    @property
    def pass_rate(self) -> float | None:
        """The headline pass rate, or None when no sample counts."""
        return self._reliability.rate

    @property
    def interval(self) -> Interval:
        """The headline rate's interval."""
        return self._reliability.interval

    @property
    def interval_method(self) -> str:
        """How the interval was computed."""
        return self._reliability.method

    @property
    def pass_at_k(self) -> list[float]:
        """pass@k for k = 1..repeats."""
        return self._reliability.pass_at_k

    @property
    def pass_hat_k(self) -> list[float]:
        """pass^k for k = 1..repeats."""
        return self._reliability.pass_hat_k

    @property
    def band(self) -> BandDecision:
        """The band the interval decides, or the bands it lies between."""
        return self._reliability.band

    @property
    def samples_to_decide(self) -> int | None:
        """About how many more samples would decide the band (0 when decided)."""
        return self._reliability.samples_to_decide

    @property
    def recommendation(self) -> str:
        """What to build around this reliability."""
        return self._reliability.recommendation

    @property
    def error_share(self) -> float | None:
        """Errored samples over all samples."""
        return self.rate.error_share

    @property
    def cost_per_pass(self) -> float | None:
        """The variant's cost divided by its passing samples (None without a cost or a pass)."""
        return self.cost / self.passed if self.cost is not None and self.passed else None

    @property
    def all_errored(self) -> bool:
        """Every sample of the variant errored."""
        return self.samples > 0 and self.errors == self.samples


@dataclass(frozen=True)
class RunReport:
    """Everything ``mendoza show`` reports about a run."""

    run: Run
    suite: Suite
    confidence: float
    band_edges: tuple[float, float, float]
    variants: list[VariantResult]
    cases: list[CaseResult]
    #: The judges behind the verdicts (noise, agreement, trust), when a current grader uses one.
    judges: JudgeReport | None = None
    verdicts: Verdicts = "human-adjusted"

    def variant(self, variant_id: str) -> VariantResult:
        """The result of one variant (``KeyError`` if the run has none by that id)."""
        for result in self.variants:
            if result.variant_id == variant_id:
                return result
        raise KeyError(variant_id)


def rules_of(suite: Suite, run: Run) -> RateRules:
    """The rules a run's rates are counted by: its suite's error rule, confidence and band edges, and
    whether it sampled adaptively."""
    return RateRules(errors=suite.errors, confidence=suite.confidence, edges=suite.band_edges, adaptive=run.adaptive)


def fixed_design_to_decide(rate: float, edges: tuple[float, float, float], confidence: float) -> int | None:
    """The fewest samples a fixed design (one Wilson interval at the end, no peeking) would need for its
    interval at this ``rate`` to lie in one band; None when the rate sits on an edge or needs over 10^7."""
    if math.isnan(rate) or any(math.isclose(rate, edge, abs_tol=1e-12) for edge in edges):
        return None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)

    def decides(n: int) -> bool:
        low, high = wilson_bounds(rate, n, z)
        return classify_band(low, high, edges).decided

    low_n, high_n = 1, 10_000_000
    if not decides(high_n):
        return None
    while low_n < high_n:
        middle = (low_n + high_n) // 2
        low_n, high_n = (low_n, middle) if decides(middle) else (middle + 1, high_n)
    return low_n


def _note_warnings(variant_id: str, notes: list[tuple[str, int]]) -> list[str]:
    """The samples' notes of one variant, one line per kind with how many samples carry it."""
    kinds: dict[str, int] = defaultdict(int)
    for text, count in notes:
        for line in text.splitlines():
            kind = _REPLACED if "replaced by U+FFFD" in line else line
            kinds[kind] += count
    return [f"{count} samples of '{variant_id}': {kind}" for kind, count in sorted(kinds.items())]


_REPLACED = "text UTF-8 cannot store (lone UTF-16 surrogates) was stored with U+FFFD in its place"


def _warnings(
    variant_id: str, signs: OutputSigns | None, rate: Rate, errors: list[ErrorGroup], notes: list[tuple[str, int]]
) -> list[str]:
    """Signs of silent garbage in one variant, each one line with counts."""
    warnings = _note_warnings(variant_id, notes)
    if rate.outcomes.samples and rate.outcomes.errored == rate.outcomes.samples:
        first = f": {errors[0].message}" if errors else ""
        warnings.append(f"every sample of '{variant_id}' errored ({rate.outcomes.errored}){first}")
    if signs is not None and signs.empty:
        warnings.append(f"{signs.empty} of {signs.answered} answered samples of '{variant_id}' are empty")
    if signs is not None and signs.distinct_outputs == 1 and signs.cases > 1:
        warnings.append(
            f"all {signs.answered} answered samples of '{variant_id}' have the same output across {signs.cases} "
            "cases: the graders may be grading a constant"
        )
    if rate.outcomes.undecided:
        warnings.append(
            f"{rate.outcomes.undecided} samples of '{variant_id}' are undecided (a grader could not decide): "
            "the rate leaves them out; the bounds show what they could change"
        )
    return warnings


def _by_tag(suite: Suite, cells: dict[str, OutcomeCounts], repeats: int, rules: RateRules) -> list[Breakdown]:
    tagged: dict[str, list[OutcomeCounts]] = defaultdict(list)
    for case in suite.cases:
        if case.id in cells:
            for tag in case.tags:
                tagged[tag].append(cells[case.id])
    return [
        Breakdown(tag, len(found), rate_of(found, repeats=repeats, rules=rules, curve_intervals=False))
        for tag, found in sorted(tagged.items())
    ]


def _by_grader(store: Store, run: Run, rules: RateRules) -> dict[str, list[Breakdown]]:
    """Each sample grader's own rate per variant (automatic verdicts: a label overrules the combined verdict,
    not one grader's)."""
    specs = sample_graders(store, run.id)
    if len(specs) < 2:
        return {}
    cells: dict[tuple[str, str], list[OutcomeCounts]] = defaultdict(list)
    for cell in store.outcomes.grader_cells(run.id, [(spec.name, spec.definition_hash()) for spec in specs]):
        cells[(cell.variant_id, cell.grader)].append(cell.counts)
    found: dict[str, list[Breakdown]] = defaultdict(list)
    for variant_id in run.variant_ids:
        for spec in specs:
            counts = cells.get((variant_id, spec.name), [])
            found[variant_id].append(
                Breakdown(
                    spec.name, len(counts), rate_of(counts, repeats=run.repeats, rules=rules, curve_intervals=False)
                )
            )
    return found


def _sandboxes(store: Store, run: Run) -> dict[str, list[tuple[str, str, int]]]:
    """Per variant, where its graders that run programs ran them: ``(grader, backend, grades)``."""
    graders = [(spec.name, spec.definition_hash()) for spec in store.grades.grader_set(run.id) if spec.type == "code"]
    found: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for variant_id, grader, backend, count in store.outcomes.detail_counts(run.id, graders, "backend"):
        found[variant_id].append((grader, backend, count))
    return found


def _label_kappas(store: Store, run_id: str) -> dict[str, float | None]:
    """Per variant, Cohen's kappa between the automatic verdicts and the people's labels of its samples."""
    pairs: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for pair in store.labels.pairs(run_id):
        pairs[pair.variant_id].append((pair.automatic, pair.human))
    kappas: dict[str, float | None] = {}
    for variant_id, found in pairs.items():
        value = cohen_kappa([a for a, _ in found], [h for _, h in found]) if len(found) >= 2 else math.nan
        kappas[variant_id] = None if math.isnan(value) else value
    return kappas


def build_report(
    store: Store, run_ref: str, *, verdicts: Verdicts = "human-adjusted", judges: bool = True
) -> RunReport:
    """The report of a run (by id, unique prefix or ``latest``) under its suite's rules, counting the
    ``verdicts`` asked for; ``judges=False`` leaves out the judge section (slow on large judged runs)."""
    run = store.runs.get(run_ref)
    suite = store.runs.suite(run.id)
    rules = rules_of(suite, run)
    human = verdicts == "human-adjusted"
    totals = {row.variant_id: row for row in store.samples.variant_counts(run.id)}
    cells_by_variant: dict[str, list[CellVerdicts]] = defaultdict(list)
    for cell in store.outcomes.cell_verdicts(run.id):
        cells_by_variant[cell.variant_id].append(cell)
    errors_by_variant: dict[str, list[ErrorGroup]] = defaultdict(list)
    for group in store.outcomes.error_groups(run.id):
        errors_by_variant[group.variant_id].append(group)
    signs = {row.variant_id: row for row in store.outcomes.output_signs(run.id)}
    notes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for variant_id, text, count in store.outcomes.note_counts(run.id):
        notes[variant_id].append((text, count))
    kappas = _label_kappas(store, run.id)
    sandboxes = _sandboxes(store, run)
    graders = _by_grader(store, run, rules)
    run_steps = RunSteps(store, run, rules)
    variants: list[VariantResult] = []
    cases: list[CaseResult] = []
    for variant in suite.variants:
        cells = cells_by_variant.get(variant.id, [])
        labelled = sum(cell.labelled for cell in cells)
        chosen = {cell.case_id: (cell.adjusted if human else cell.automatic) for cell in cells}
        for cell in cells:
            counts = chosen[cell.case_id]
            passed, failed = counts.headline(rules.errors)
            cases.append(
                CaseResult(
                    variant.id,
                    cell.case_id,
                    passed,
                    passed + failed,
                    counts.errored,
                    wilson_interval(passed, passed + failed, rules.confidence),
                    counts.undecided,
                    counts.samples,
                )
            )
        rate = rate_of(list(chosen.values()), repeats=run.repeats, rules=rules)
        other = None
        if labelled:
            others = [cell.automatic if human else cell.adjusted for cell in cells]
            other = rate_of(others, repeats=run.repeats, rules=rules, curve_intervals=False)
        automatic = other if human and other is not None else rate  # without labels the two are the same
        steps = run_steps.variant(variant.id, rate.outcomes.samples, automatic)
        counted = [counts.headline(rules.errors) for counts in chosen.values()]
        counted = [(p, f) for p, f in counted if p + f > 0]
        p50, p95 = p50_p95(store.samples.latencies(run.id, variant.id))
        grading_p50, grading_p95 = p50_p95(store.samples.grading_times(run.id, variant.id))
        total = totals.get(variant.id)
        top_errors = errors_by_variant.get(variant.id, [])
        variants.append(
            VariantResult(
                variant_id=variant.id,
                model=variant.model,
                rate=rate,
                other=other,
                labelled=labelled,
                overruled=sum(cell.overruled for cell in cells),
                cases=len(counted),
                flaky_cases=sum(1 for p, f in counted if p and f),
                tokens_in=total.tokens_in if total else 0,
                tokens_out=total.tokens_out if total else 0,
                cost=total.cost if total else None,
                latency_p50_ms=p50,
                latency_p95_ms=p95,
                top_errors=top_errors,
                by_grader=graders.get(variant.id, []),
                by_tag=_by_tag(suite, chosen, run.repeats, rules),
                warnings=_warnings(variant.id, signs.get(variant.id), rate, top_errors, notes.get(variant.id, [])),
                label_kappa=kappas.get(variant.id),
                grading_p50_ms=grading_p50,
                grading_p95_ms=grading_p95,
                sandboxes=sandboxes.get(variant.id, []),
                fixed_design_to_decide=(
                    fixed_design_to_decide(rate.reliability.interval.estimate, rules.edges, rules.confidence)
                    if run.adaptive
                    else None
                ),
                steps=steps.steps,
                failed_at=steps.failed_at,
                step_chain=steps.chain,
                final_output=steps.final_output,
            )
        )
    judge_report = build_judge_report(store, run.id) if judges else None
    return RunReport(run, suite, rules.confidence, rules.edges, variants, cases, judges=judge_report, verdicts=verdicts)
