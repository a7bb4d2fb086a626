"""A grader measured against the human labels of a run, and the pass rate corrected for its errors.

Humans are the reference. On the labelled samples: agreement, Cohen's kappa with a bootstrap interval, the
confusion matrix, sensitivity (share of human passes the grader passes) and specificity (share of human
failures it fails), each with a Wilson interval. Then, per variant and overall, the grader's observed pass rate
over *all* its verdicts and the Rogan-Gladen corrected rate ``(p + spec - 1) / (sens + spec - 1)``, clipped to
[0, 1], with a delta-method interval that carries the uncertainty of the observed rate (clustered by case)
and of the error rates (see :func:`mendoza.stats.rogan_gladen_interval`).

Assumptions, said plainly: the grader's error rates are taken to be the same for every variant (they are
estimated from the labels of all variants pooled), and the labelled samples are taken to be representative.
Labels chosen by the review queue (disagreements and failures first) are not a random sample and bias the error
rates; ``mendoza label RUN --order random`` labels a random sample for an unbiased calibration.

``agreement_verdict`` says in plain words whether the grader can stand in for the people, by the rules the
judge report uses (``report.judges.trust_status``: ``MIN_LABELS``, ``POOR_KAPPA``) and the chance rule below.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from mendoza.core import GraderSpec
from mendoza.errors import ConfigError
from mendoza.report.judges import MIN_LABELS, POOR_KAPPA, judge_graders, trust_status
from mendoza.stats import (
    Confusion,
    Interval,
    clustered_stderr,
    cohen_kappa_interval,
    confusion,
    rogan_gladen_interval,
    wilson_interval,
)
from mendoza.store import Store

__all__ = ["OVERALL", "AgreementVerdict", "Calibration", "CorrectedRate", "agreement_verdict", "calibrate"]

OVERALL = "all"
"""The ``grader`` that means the sample's overall automatic verdict (every current grader passed)."""
_FEW_LABELS = 30


@dataclass(frozen=True)
class CorrectedRate:
    """One variant's (or, as ``*``, all variants') pass rate by the grader and corrected for its errors."""

    variant_id: str
    graded: int
    observed: float
    observed_se: float
    corrected: Interval


@dataclass(frozen=True)
class Calibration:
    """How a grader compares with the human labels of a run (see the module)."""

    run_id: str
    grader: str
    judges: list[str]
    labelled: int
    matrix: Confusion
    kappa: Interval
    sensitivity: Interval
    specificity: Interval
    rates: list[CorrectedRate]
    confidence: float
    notes: list[str]

    @property
    def agreement(self) -> float:
        """Share of labelled samples on which the grader and the humans agree."""
        return self.matrix.agreement


def _chance(matrix: Confusion) -> bool:
    """No better than chance: the grader passes human failures at least as often as human passes (sensitivity
    + specificity <= 1, the same as a Cohen's kappa <= 0)."""
    return matrix.sensitivity + matrix.specificity <= 1.0


def _choose(store: Store, run_id: str, grader: str | None) -> tuple[str, GraderSpec | None]:
    specs = store.grades.grader_set(run_id)
    if grader == OVERALL:
        return OVERALL, None
    if grader is not None:
        for spec in specs:
            if spec.name == grader:
                return spec.name, spec
        names = ", ".join([spec.name for spec in specs] + [OVERALL])
        raise ConfigError(f"no grader '{grader}' in run {run_id} (graders: {names})")
    judged = judge_graders(specs)
    if judged:
        return judged[0].name, judged[0]
    return OVERALL, None


def _rate(variant_id: str, verdicts: list[tuple[str, bool]], matrix: Confusion, confidence: float) -> CorrectedRate:
    scores = [1.0 if passed else 0.0 for _, passed in verdicts]
    clusters = [case_id for case_id, _ in verdicts]
    graded = len(scores)
    if graded == 0:
        return CorrectedRate(variant_id, 0, math.nan, math.nan, Interval(math.nan, 0.0, 1.0))
    observed = sum(scores) / graded
    se = clustered_stderr(scores, clusters).se if len(set(clusters)) >= 2 else math.nan
    if math.isnan(se):
        se = math.sqrt(observed * (1.0 - observed) / graded)
    if matrix.positives == 0 or matrix.negatives == 0:
        return CorrectedRate(variant_id, graded, observed, se, Interval(math.nan, 0.0, 1.0))
    corrected = rogan_gladen_interval(
        observed, se, matrix.sensitivity, matrix.positives, matrix.specificity, matrix.negatives, confidence
    )
    return CorrectedRate(variant_id, graded, observed, se, corrected)


def calibrate(
    store: Store,
    run_ref: str,
    grader: str | None = None,
    *,
    confidence: float | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> Calibration:
    """Compare a grader of a run (by name; default its first judged grader, else the overall verdict, ``all``)
    with the run's human labels, and correct each variant's pass rate for the grader's error rates."""
    run = store.runs.get(run_ref)
    level = confidence if confidence is not None else store.runs.suite(run.id).confidence
    name, spec = _choose(store, run.id, grader)
    judges: list[str] = []
    machine: list[tuple[int, str, str, bool]] = []
    if spec is None:
        machine = [(sid, vid, cid, passed) for sid, vid, cid, passed in store.grades.sample_verdicts(run.id)
                   if passed is not None]
    else:
        for grade in store.grades.current(run.id, spec.name):
            if grade.detail and not judges:
                judges = [str(label) for label in grade.detail.get("judges", [])]
            if grade.passed is not None:
                machine.append((grade.sample_id, grade.variant_id, grade.case_id, grade.passed))
    humans = store.labels.verdicts(run.id)
    labelled = [(humans[sid], passed) for sid, _, _, passed in machine if sid in humans]
    matrix = confusion([h for h, _ in labelled], [m for _, m in labelled])
    kappa = cohen_kappa_interval([h for h, _ in labelled], [m for _, m in labelled], confidence=level,
                                 n_boot=n_boot, seed=seed)
    sensitivity = wilson_interval(matrix.true_positive, matrix.positives, level)
    specificity = wilson_interval(matrix.true_negative, matrix.negatives, level)
    by_variant: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for _, variant_id, case_id, passed in machine:
        by_variant[variant_id].append((case_id, passed))
    rates = [_rate(vid, by_variant[vid], matrix, level) for vid in run.variant_ids if vid in by_variant]
    everything = [(f"{vid}\x1f{cid}", passed) for _, vid, cid, passed in machine]
    rates.append(_rate("*", everything, matrix, level))
    notes = []
    if not labelled:
        notes.append(f"no labelled sample has a verdict from '{name}': label some with `mendoza label {run.id}`")
    elif matrix.positives == 0 or matrix.negatives == 0:
        missing = "failures" if matrix.negatives == 0 else "passes"
        notes.append(f"the labels hold no human {missing}: the error rates, and so the correction, are unknown")
    elif _chance(matrix):
        notes.append("the grader is no better than chance against the labels: its pass rate says nothing")
    if labelled and len(labelled) < _FEW_LABELS:
        notes.append(f"only {len(labelled)} labels: every figure here is uncertain (see the intervals)")
    notes.append(
        "the correction assumes the labelled samples are representative and the error rates the same for every "
        "variant; labels picked by the review queue are not a random sample (use `mendoza label --order random`)"
    )
    return Calibration(run.id, name, judges, len(labelled), matrix, kappa, sensitivity, specificity, rates,
                       level, notes)


@dataclass(frozen=True)
class AgreementVerdict:
    """Whether a grader can stand in for the people who labelled: ``status`` and the reason, in one sentence."""

    status: Literal["usable", "poor", "not better than chance", "unmeasured"]
    reason: str

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}"


def agreement_verdict(calibration: Calibration) -> AgreementVerdict:
    """A plain verdict on a calibration: unmeasured with no labels of a kind or fewer than ``MIN_LABELS``; not
    better than chance when sensitivity + specificity <= 1, or when Cohen's kappa's interval reaches 0; poor
    below ``POOR_KAPPA``; else usable."""
    matrix, kappa, n = calibration.matrix, calibration.kappa, calibration.labelled
    if n == 0:
        return AgreementVerdict("unmeasured", f"no labelled sample has a verdict from '{calibration.grader}'")
    if matrix.positives == 0 or matrix.negatives == 0:
        missing = "failures" if matrix.negatives == 0 else "passes"
        return AgreementVerdict("unmeasured", f"the labels hold no human {missing}")
    if _chance(matrix):
        return AgreementVerdict(
            "not better than chance",
            f"it passes human failures as often as human passes (Cohen's kappa {kappa.estimate:.2f})",
        )
    if trust_status(n, kappa.estimate) == "unmeasured":
        return AgreementVerdict(
            "unmeasured", f"{n} labels are too few to measure agreement (at least {MIN_LABELS} are needed)"
        )
    if kappa.low <= 0.0:
        return AgreementVerdict(
            "not better than chance",
            f"Cohen's kappa's {calibration.confidence:.0%} interval reaches 0 ({kappa.low:.2f} to {kappa.high:.2f}); "
            "more labels would narrow it",
        )
    if trust_status(n, kappa.estimate) == "poor":
        return AgreementVerdict("poor", f"Cohen's kappa {kappa.estimate:.2f} is below {POOR_KAPPA}")
    return AgreementVerdict(
        "usable", f"Cohen's kappa {kappa.estimate:.2f} reaches {POOR_KAPPA} and its interval lies above 0"
    )
