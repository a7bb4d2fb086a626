"""What design gets a feature to a target reliability, at what cost and how much human work (``mendoza
design``): the policies a finished run supports (``report/policies.py``), each replayed on its stored samples,
with its reliability and interval, expected cost, latency and automation rate; the frontier; a recommendation.

Every figure comes from here. A policy's reliability interval is the report's clustered interval
(``stats.mean_interval`` over the policy's outcomes, clustered by case), so a single variant's figure here is
its headline in ``mendoza show`` (with errors counted as failures). Policies are compared with the best single
variant *paired*: a bootstrap that resamples cases, the same resample for every policy
(``stats.paired_bootstrap_differences``), never samples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from mendoza.config.grader_specs import check_runtime
from mendoza.core import GraderSpec, HumanReview, Run, Suite
from mendoza.errors import ConfigError
from mendoza.report.policies import Check, Policy, Trial, audit, best_of, cascade, person_only, single, vote
from mendoza.stats import BAND_NAMES, Interval, classify_band, mean_interval, paired_bootstrap_differences
from mendoza.store import Store

__all__ = ["BandReach", "Design", "DesignReport", "build_design", "evaluate_policies"]

#: The shares of outputs an audit policy sends to a person at random.
AUDIT_SHARES = (0.1, 0.25, 0.5)
#: At most this many thresholds of a scoring check are tried (its scores' quantiles).
MAX_THRESHOLDS = 8


@dataclass(frozen=True, slots=True)
class Design:
    """One policy measured on a run."""

    name: str
    kind: str
    variants: tuple[str, ...]
    reliability: Interval
    #: The policy minus the best single variant, paired over cases (bootstrap percentile interval).
    versus_best: tuple[float, float, float]
    cost: float
    latency_p50_ms: float
    latency_p95_ms: float
    human_share: float
    band: str
    band_decided: bool
    on_frontier: bool
    requests: int
    cases: int

    @property
    def automation(self) -> float:
        """The share of requests no person sees."""
        return 1.0 - self.human_share


@dataclass(frozen=True, slots=True)
class BandReach:
    """Which design reaches a band most cheaply: shown (its interval lies above the band's edge), or only by
    its estimate; None when no design's estimate gets there."""

    band: str
    edge: float
    shown: Design | None
    estimated: Design | None


@dataclass(frozen=True, slots=True)
class DesignReport:
    """The designs of a run, the frontier, the recommendation for ``target`` and what the replay could not say."""

    run: Run
    checks: tuple[str, ...]
    human: HumanReview
    designs: list[Design]
    best_single: str
    target: float | None
    recommended: Design | None
    reach: str
    notes: list[str]
    edges: tuple[float, float, float]

    def bands(self) -> list[BandReach]:
        """For each band above the lowest, the cheapest design shown to reach it and the cheapest whose
        estimate does (cheapest: cost a request, then the share sent to a person)."""
        found = []
        for name, edge in zip(BAND_NAMES[1:], self.edges, strict=True):
            shown, _ = _recommend(self.designs, edge)
            likely = _cheapest(d for d in self.designs if d.reliability.estimate >= edge)
            found.append(BandReach(name, edge, shown if shown is not None and shown.reliability.low >= edge
                                   else None, likely))
        return found


def _trials(store: Store, run: Run, checks: Sequence[str]) -> dict[str, dict[str, list[Trial]]]:
    """variant -> case -> trials by repeat, with each run-time check's current verdict and score."""
    verdicts: dict[str, dict[tuple[str, str, int], Check]] = {}
    for name in checks:
        verdicts[name] = {
            (grade.variant_id, grade.case_id, grade.repeat): Check(grade.passed, grade.score)
            for grade in store.grades.current(run.id, name)
        }
    table: dict[str, dict[str, list[Trial]]] = defaultdict(lambda: defaultdict(list))
    for fact in store.samples.facts(run.id):
        key = (fact.variant_id, fact.case_id, fact.repeat)
        found = {name: verdicts[name].get(key, Check(None, None)) for name in checks}
        table[fact.variant_id][fact.case_id].append(
            Trial(fact.passed is True and not fact.errored, fact.errored, fact.output, fact.cost or 0.0,
                  fact.latency_ms, found)
        )
    return table


def _checks(specs: Sequence[GraderSpec], named: Sequence[str]) -> tuple[str, ...]:
    by_name = {spec.name: spec for spec in specs}
    for name in named:
        if name not in by_name:
            known = ", ".join(by_name) or "none"
            raise ConfigError(f"no grader named '{name}' in this run (its graders: {known})")
        check_runtime(by_name[name])
    return tuple(dict.fromkeys([*(spec.name for spec in specs if spec.runtime), *named]))


def _thresholds(table: dict[str, dict[str, list[Trial]]], variant: str, check: str) -> list[float]:
    scores = sorted({
        score for trials in table[variant].values() for trial in trials
        if (score := trial.checks[check].score) is not None
    })
    if len(scores) < 3:
        return []
    picks = np.quantile(np.asarray(scores, dtype=np.float64), np.linspace(0.1, 0.9, MAX_THRESHOLDS))
    return sorted({round(float(value), 4) for value in picks})


def enumerate_policies(
    variants: Sequence[str], checks: Sequence[str], human: HumanReview, repeats: int,
    thresholds: dict[tuple[str, str], list[float]],
) -> list[Policy]:
    """Every policy a run with these variants, run-time checks and repeats supports."""
    policies = [single(variant) for variant in variants]
    if variants:
        policies.append(person_only(variants[0], human))
    for first in variants:
        others = [variant for variant in variants if variant != first]
        policies.extend(cascade(first, (other,), None, None) for other in others)  # fallbacks
        policies.extend(audit(first, share, human) for share in AUDIT_SHARES)
        for check in checks:
            policies.append(cascade(first, (), check, human))
            for other in others:
                policies.append(cascade(first, (other,), check, None))
                policies.append(cascade(first, (other,), check, human))
            for threshold in thresholds.get((first, check), []):
                policies.append(cascade(first, (), check, human, threshold))
                policies.extend(cascade(first, (other,), check, None, threshold) for other in others)
            for k in range(2, repeats + 1):
                policies.append(best_of(first, k, check))
        for k in range(3, repeats + 1, 2):
            policies.append(vote(first, k))
            # A person unless enough of the k agree: from unanimity down to a bare majority.
            policies.extend(vote(first, k, human, agree) for agree in range(k, k // 2, -1))
    return policies


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def evaluate_policies(
    policies: Sequence[Policy],
    table: dict[str, dict[str, list[Trial]]],
    confidence: float,
    edges: tuple[float, float, float],
    seed: int = 0,
) -> list[Design]:
    """Replay each policy on every case that all its variants have, and measure it (see the module)."""
    cases = sorted(set.intersection(*(set(by_case) for by_case in table.values()))) if table else []
    measured = []
    per_case_rows = []
    for policy in policies:
        scores: list[float] = []
        clusters: list[str] = []
        costs: list[float] = []
        latencies: list[float] = []
        humans: list[float] = []
        per_case = []
        for case in cases:
            outcomes = policy.replay({variant: table[variant][case] for variant in policy.variants})
            if not outcomes:
                per_case.append(np.nan)
                continue
            per_case.append(sum(outcome.success for outcome in outcomes) / len(outcomes))
            for outcome in outcomes:
                scores.append(outcome.success)
                clusters.append(case)
                costs.append(outcome.cost)
                latencies.append(outcome.latency_ms)
                humans.append(outcome.human)
        measured.append((policy, scores, clusters, costs, latencies, humans))
        per_case_rows.append(per_case)
    if not measured:
        return []
    matrix = np.asarray(per_case_rows, dtype=np.float64).reshape(len(measured), len(cases))
    singles = [index for index, (policy, *_) in enumerate(measured) if policy.kind == "single"]
    best = max(singles, key=lambda index: float(np.nanmean(matrix[index]))) if singles else 0
    complete = ~np.isnan(matrix).any(axis=0)
    differences = paired_bootstrap_differences(matrix[:, complete], best, confidence, seed=seed)
    designs = []
    for index, (policy, scores, clusters, costs, latencies, humans) in enumerate(measured):
        interval = mean_interval(scores, clusters, confidence) if scores else Interval(np.nan, 0.0, 1.0)
        decision = classify_band(interval.low, interval.high, edges)
        estimate = float(np.nanmean(matrix[index, complete] - matrix[best, complete])) if complete.any() else 0.0
        low, high = differences[index]
        designs.append(
            Design(
                name=policy.name,
                kind=policy.kind,
                variants=policy.variants,
                reliability=interval,
                versus_best=(estimate, low, high),
                cost=sum(costs) / len(costs) if costs else 0.0,
                latency_p50_ms=_percentile(latencies, 50),
                latency_p95_ms=_percentile(latencies, 95),
                human_share=sum(humans) / len(humans) if humans else 0.0,
                band=(decision.band or "") if decision.decided else " / ".join(decision.between or ()),
                band_decided=decision.decided,
                on_frontier=False,
                requests=len(scores),
                cases=len(set(clusters)),
            )
        )
    return _mark_frontier(designs)


def _dominates(a: Design, b: Design) -> bool:
    better_or_equal = (
        a.reliability.estimate >= b.reliability.estimate and a.cost <= b.cost and a.human_share <= b.human_share
    )
    strictly = (
        a.reliability.estimate > b.reliability.estimate or a.cost < b.cost or a.human_share < b.human_share
    )
    return better_or_equal and strictly


def _mark_frontier(designs: list[Design]) -> list[Design]:
    """Flag the designs no other design beats on reliability, cost and human share at once; of designs that
    come to exactly the same figures (a threshold that escalates the same samples), only the first, simplest
    one."""
    marked = []
    seen: set[tuple[float, float, float]] = set()
    for design in designs:
        figures = (round(design.reliability.estimate, 9), round(design.cost, 9), round(design.human_share, 9))
        best = figures not in seen and not any(_dominates(other, design) for other in designs)
        seen.add(figures)
        marked.append(replace(design, on_frontier=best))
    return marked


def _cheapest(designs: Iterable[Design]) -> Design | None:
    return min(designs, key=lambda d: (d.cost, d.human_share, -d.reliability.estimate), default=None)


def _recommend(designs: list[Design], target: float | None) -> tuple[Design | None, str]:
    """The cheapest design shown to reach ``target`` (its interval above it), else the cheapest whose
    estimate reaches it, else none."""
    if target is None:
        return None, ""
    shown = _cheapest(d for d in designs if d.reliability.low >= target)
    if shown is not None:
        return shown, "shown"
    likely = _cheapest(d for d in designs if d.reliability.estimate >= target)
    if likely is not None:
        return likely, "estimate"
    return None, "none"


def build_design(
    store: Store,
    run_ref: str,
    *,
    checks: Sequence[str] = (),
    target: float | None = None,
    human: HumanReview | None = None,
    seed: int = 0,
) -> DesignReport:
    """Every design the run supports, measured; the recommendation for ``target`` (see the module)."""
    run = store.runs.get(run_ref)
    suite: Suite = store.runs.suite(run.id)
    specs = store.grades.grader_set(run.id)
    names = _checks(specs, checks)
    review = human or suite.human or HumanReview()
    table = _trials(store, run, names)
    variants = [variant for variant in run.variant_ids if variant in table]
    notes: list[str] = []
    repeats = min((len(trials) for by_case in table.values() for trials in by_case.values()), default=0)
    if repeats < suite.repeats:
        notes.append(f"some cases have only {repeats} of {suite.repeats} repeats: votes use at most {repeats}")
    if repeats < 3:
        notes.append("votes need at least 3 repeats per case: run with more repeats to see them")
    if not names:
        notes.append(
            "no run-time check: mark a grader that needs no reference answer with 'runtime: true' (or give "
            "--check NAME) to see cascades, human review of flagged outputs and best-of-k"
        )
    thresholds = {(variant, check): _thresholds(table, variant, check) for variant in variants for check in names}
    policies = enumerate_policies(variants, names, review, repeats, thresholds)
    designs = evaluate_policies(policies, table, suite.confidence, suite.band_edges, seed)
    singles = [design for design in designs if design.kind == "single"]
    best = max(singles, key=lambda design: design.reliability.estimate).name if singles else ""
    recommended, reach = _recommend(designs, target)
    return DesignReport(run, names, review, designs, best, target, recommended, reach, notes, suite.band_edges)
