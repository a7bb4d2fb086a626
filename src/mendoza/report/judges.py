"""What a run's judges are worth: their own noise, their agreement with each other, and with people.

- **Noise** (``judge_repeats``): per judged grader, judge and variant, the share of samples on which the judge's
  repeats disagree (pass vs fail) and the variance of judged scores split three ways: within a sample (the
  judge's inconsistency), within a case (the model under test answering differently) and between cases
  (:func:`mendoza.stats.nested_variance`).
- **Agreement between judges** (several ``judges``): per criterion and pair of judges, percent agreement and
  Cohen's kappa on each judge's verdict (the majority of its repeats).
- **Trust**: each judged grader's verdicts against the human labels (Cohen's kappa). The headline pass rate of
  a run rests on its judged graders; the report warns when one has fewer than ``MIN_LABELS`` labels
  (unmeasured) or a kappa below ``POOR_KAPPA`` (poor).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mendoza.core import GraderSpec
from mendoza.graders.judged import JudgeDetail, JudgeRun
from mendoza.graders.kinds import is_judge_type
from mendoza.stats import NestedVariance, cohen_kappa, nested_variance
from mendoza.store import CurrentGrade, Store

__all__ = [
    "MIN_LABELS",
    "POOR_KAPPA",
    "JudgeAgreement",
    "JudgeNoise",
    "JudgeReport",
    "JudgeTrust",
    "TrustStatus",
    "build_judge_report",
    "judge_graders",
    "judge_trust",
    "trust_status",
]

TrustStatus = Literal["unmeasured", "poor", "good"]
"""What a grader's agreement with people amounts to (``trust_status``)."""
POOR_KAPPA = 0.6
"""Below this Cohen's kappa with the human labels, a judge's agreement with people is poor."""
MIN_LABELS = 10
"""With fewer labelled samples than this, a judge's agreement with people counts as unmeasured."""


@dataclass(frozen=True)
class JudgeNoise:
    """One judge of one grader on one variant's samples: how often its repeats disagree, and the variance
    split (``within_sample`` is the judge's own noise)."""

    grader: str
    judge: str
    variant_id: str
    samples: int
    repeated: int
    flipped: int
    variance: NestedVariance
    answers: int
    unreadable: int
    asks: int

    @property
    def flip_rate(self) -> float:
        """Share of the samples judged at least twice whose repeats disagree on pass or fail."""
        return self.flipped / self.repeated if self.repeated else math.nan


@dataclass(frozen=True)
class JudgeAgreement:
    """Two judges of one grader on one criterion (``*``: all criteria pooled): agreement and Cohen's kappa."""

    grader: str
    criterion: str
    judge_a: str
    judge_b: str
    n: int
    agreement: float
    kappa: float


@dataclass(frozen=True)
class JudgeTrust:
    """A judged grader's verdicts against the human labels."""

    grader: str
    judges: list[str]
    labelled: int
    agreement: float
    kappa: float
    status: TrustStatus


@dataclass(frozen=True)
class JudgeReport:
    """The judge section of a run's report."""

    noise: list[JudgeNoise]
    agreement: list[JudgeAgreement]
    trust: list[JudgeTrust]
    warnings: list[str]


def judge_graders(specs: Sequence[GraderSpec]) -> list[GraderSpec]:
    """The graders among ``specs`` that grade each sample with a judge model: the judge-style ones (``rubric``,
    any ``JudgeGrader``, or a plugin's sample grader that declares ``needs_model``)."""
    return [spec for spec in specs if is_judge_type(spec.type)]


def judge_trust(store: Store, run_id: str, spec: GraderSpec, grades: Sequence[CurrentGrade]) -> JudgeTrust:
    """How a judged grader's current verdicts agree with the human labels of the run."""
    humans = store.labels.verdicts(run_id)
    pairs = [(humans[g.sample_id], g.passed) for g in grades if g.passed is not None and g.sample_id in humans]
    details = (JudgeDetail.read(g.detail) for g in grades if g.detail)
    judges = next((list(detail.judges) for detail in details if detail is not None), [])
    agreement = sum(h == j for h, j in pairs) / len(pairs) if pairs else math.nan
    kappa = cohen_kappa([h for h, _ in pairs], [j for _, j in pairs]) if pairs else math.nan
    return JudgeTrust(spec.name, judges, len(pairs), agreement, kappa, trust_status(len(pairs), kappa))


def trust_status(labelled: int, kappa: float) -> TrustStatus:
    """How far a grader's agreement with people goes: unmeasured on fewer than ``MIN_LABELS`` labels (or no
    kappa), poor below ``POOR_KAPPA``, else good."""
    if labelled < MIN_LABELS or math.isnan(kappa):
        return "unmeasured"
    return "poor" if kappa < POOR_KAPPA else "good"


def _noise(spec: GraderSpec, grades: Sequence[CurrentGrade]) -> list[JudgeNoise]:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    labels: dict[int, str] = {}
    for grade in grades:
        detail = JudgeDetail.read(grade.detail)
        if detail is None:
            continue
        for index, label in enumerate(detail.judges):
            labels.setdefault(index, label)
        by_judge: dict[int, list[JudgeRun]] = defaultdict(list)
        for run in detail.runs:
            by_judge[run.judge].append(run)
        votes = [vote for row in detail.criteria for vote in row.votes]
        for index, runs in by_judge.items():
            row = rows.setdefault(
                (index, grade.variant_id),
                {"scores": [], "samples": [], "cases": [], "n": 0, "repeated": 0, "flipped": 0,
                 "answers": 0, "unreadable": 0, "asks": 0},
            )
            row["n"] += 1
            readable = [(run.score, run.passed) for run in runs if run.score is not None]
            for score, _ in readable:
                row["scores"].append(score)
                row["samples"].append(grade.sample_id)
                row["cases"].append(grade.case_id)
            if len(readable) >= 2:
                row["repeated"] += 1
                row["flipped"] += len({bool(passed) for _, passed in readable}) > 1
            mine = [vote for vote in votes if vote.judge == index]
            row["answers"] += len(mine)
            row["unreadable"] += sum(1 for vote in mine if vote.score is None)
            row["asks"] += sum(vote.asks for vote in mine)
    noise = []
    for (index, variant_id), row in sorted(rows.items(), key=lambda item: (item[0][1], item[0][0])):
        variance = nested_variance(row["scores"], row["samples"], row["cases"])
        noise.append(
            JudgeNoise(spec.name, labels.get(index, f"judge {index}"), variant_id, row["n"], row["repeated"],
                       row["flipped"], variance, row["answers"], row["unreadable"], row["asks"])
        )
    return noise


def _judge_verdicts(detail: JudgeDetail) -> dict[tuple[str, int], bool]:
    """Each judge's verdict per criterion (the majority of its readable repeats), by (criterion, judge)."""
    verdicts: dict[tuple[str, int], bool] = {}
    for row in detail.criteria:
        point = 0.5 if row.pass_point is None else row.pass_point
        scaled = row.scale is not None
        by_judge: dict[int, list[bool]] = defaultdict(list)
        for vote in row.votes:
            if vote.score is None:
                continue
            score = vote.score
            by_judge[vote.judge].append(score >= point - 1e-9 if scaled else score > 0.5)
        for index, passes in by_judge.items():
            verdicts[(row.name, index)] = sum(passes) * 2 > len(passes)
    return verdicts


def _agreement(spec: GraderSpec, grades: Sequence[CurrentGrade]) -> list[JudgeAgreement]:
    pairs: dict[tuple[str, int, int], list[tuple[bool, bool]]] = defaultdict(list)
    labels: dict[int, str] = {}
    for grade in grades:
        detail = JudgeDetail.read(grade.detail)
        if detail is None or len(detail.judges) < 2:
            continue
        judges = detail.judges
        for index, label in enumerate(judges):
            labels.setdefault(index, label)
        verdicts = _judge_verdicts(detail)
        criteria = sorted({criterion for criterion, _ in verdicts})
        for criterion in criteria:
            for a, b in itertools.combinations(range(len(judges)), 2):
                if (criterion, a) in verdicts and (criterion, b) in verdicts:
                    pair = (verdicts[(criterion, a)], verdicts[(criterion, b)])
                    pairs[(criterion, a, b)].append(pair)
                    pairs[("*", a, b)].append(pair)
    rows = []
    for (criterion, a, b), values in sorted(pairs.items()):
        first, second = [x for x, _ in values], [y for _, y in values]
        agreement = sum(x == y for x, y in values) / len(values)
        rows.append(
            JudgeAgreement(spec.name, criterion, labels[a], labels[b], len(values), agreement,
                           cohen_kappa(first, second))
        )
    return rows


def build_judge_report(store: Store, run_id: str) -> JudgeReport | None:
    """The judge section of a run's report, or None when none of the run's current graders uses a judge."""
    judged = judge_graders(store.grades.grader_set(run_id))
    if not judged:
        return None
    noise: list[JudgeNoise] = []
    agreement: list[JudgeAgreement] = []
    trust: list[JudgeTrust] = []
    warnings: list[str] = []
    for spec in judged:
        grades = store.grades.current(run_id, spec.name)
        noise.extend(_noise(spec, grades))
        agreement.extend(_agreement(spec, grades))
        measured = judge_trust(store, run_id, spec, grades)
        trust.append(measured)
        judges = ", ".join(measured.judges) or "a judge model"
        if measured.status == "unmeasured":
            warnings.append(
                f"the pass rate rests on judge grader '{spec.name}' ({judges}), whose agreement with people is "
                f"unmeasured ({measured.labelled} labelled samples): label some with `mendoza label {run_id}` "
                f"and check with `mendoza calibrate {run_id}`"
            )
        elif measured.status == "poor":
            warnings.append(
                f"the pass rate rests on judge grader '{spec.name}' ({judges}), whose agreement with people is "
                f"poor (Cohen's kappa {measured.kappa:.2f} < {POOR_KAPPA} on {measured.labelled} labels): "
                f"see `mendoza calibrate {run_id}` for the corrected pass rate"
            )
    return JudgeReport(noise, agreement, trust, warnings)
