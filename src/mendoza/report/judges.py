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
from mendoza.registry import grader_class
from mendoza.stats import NestedVariance, cohen_kappa, nested_variance
from mendoza.store import CurrentGrade, Store

__all__ = [
    "MIN_LABELS",
    "POOR_KAPPA",
    "JudgeAgreement",
    "JudgeNoise",
    "JudgeReport",
    "JudgeTrust",
    "build_judge_report",
    "judge_graders",
    "judge_trust",
]

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
    status: Literal["unmeasured", "poor", "good"]


@dataclass(frozen=True)
class JudgeReport:
    """The judge section of a run's report."""

    noise: list[JudgeNoise]
    agreement: list[JudgeAgreement]
    trust: list[JudgeTrust]
    warnings: list[str]


def judge_graders(specs: Sequence[GraderSpec]) -> list[GraderSpec]:
    """The graders among ``specs`` that grade each sample with a judge model (``rubric`` and the like)."""
    judged = []
    for spec in specs:
        cls = grader_class(spec.type)
        if cls.needs_model and cls.per_sample:
            judged.append(spec)
    return judged


def judge_trust(store: Store, run_id: str, spec: GraderSpec, grades: Sequence[CurrentGrade]) -> JudgeTrust:
    """How a judged grader's current verdicts agree with the human labels of the run."""
    humans = store.human_verdicts(run_id)
    pairs = [(humans[g.sample_id], g.passed) for g in grades if g.passed is not None and g.sample_id in humans]
    judges = next((list(g.detail.get("judges", [])) for g in grades if g.detail), [])
    agreement = sum(h == j for h, j in pairs) / len(pairs) if pairs else math.nan
    kappa = cohen_kappa([h for h, _ in pairs], [j for _, j in pairs]) if pairs else math.nan
    status: Literal["unmeasured", "poor", "good"]
    if len(pairs) < MIN_LABELS or math.isnan(kappa):
        status = "unmeasured"
    elif kappa < POOR_KAPPA:
        status = "poor"
    else:
        status = "good"
    return JudgeTrust(spec.name, judges, len(pairs), agreement, kappa, status)


def _noise(spec: GraderSpec, grades: Sequence[CurrentGrade]) -> list[JudgeNoise]:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    labels: dict[int, str] = {}
    for grade in grades:
        detail = grade.detail or {}
        if detail.get("kind") != "rubric":
            continue
        for index, label in enumerate(detail.get("judges", [])):
            labels.setdefault(index, str(label))
        by_judge: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for run in detail.get("runs", []):
            by_judge[int(run["judge"])].append(run)
        votes = [vote for row in detail.get("criteria", []) for vote in row.get("votes", [])]
        for index, runs in by_judge.items():
            row = rows.setdefault(
                (index, grade.variant_id),
                {"scores": [], "samples": [], "cases": [], "n": 0, "repeated": 0, "flipped": 0,
                 "answers": 0, "unreadable": 0, "asks": 0},
            )
            row["n"] += 1
            readable = [run for run in runs if run.get("score") is not None]
            for run in readable:
                row["scores"].append(float(run["score"]))
                row["samples"].append(grade.sample_id)
                row["cases"].append(grade.case_id)
            if len(readable) >= 2:
                row["repeated"] += 1
                row["flipped"] += len({bool(run["passed"]) for run in readable}) > 1
            mine = [vote for vote in votes if int(vote.get("judge", -1)) == index]
            row["answers"] += len(mine)
            row["unreadable"] += sum(1 for vote in mine if vote.get("score") is None)
            row["asks"] += sum(int(vote.get("asks", 1)) for vote in mine)
    noise = []
    for (index, variant_id), row in sorted(rows.items(), key=lambda item: (item[0][1], item[0][0])):
        variance = nested_variance(row["scores"], row["samples"], row["cases"])
        noise.append(
            JudgeNoise(spec.name, labels.get(index, f"judge {index}"), variant_id, row["n"], row["repeated"],
                       row["flipped"], variance, row["answers"], row["unreadable"], row["asks"])
        )
    return noise


def _judge_verdicts(detail: dict[str, Any]) -> dict[tuple[str, int], bool]:
    """Each judge's verdict per criterion (the majority of its readable repeats), by (criterion, judge)."""
    verdicts: dict[tuple[str, int], bool] = {}
    for row in detail.get("criteria", []):
        point = float(row.get("pass_point", 0.5))
        scaled = row.get("scale") is not None
        by_judge: dict[int, list[bool]] = defaultdict(list)
        for vote in row.get("votes", []):
            if vote.get("score") is None:
                continue
            score = float(vote["score"])
            by_judge[int(vote["judge"])].append(score >= point - 1e-9 if scaled else score > 0.5)
        for index, passes in by_judge.items():
            verdicts[(str(row["name"]), index)] = sum(passes) * 2 > len(passes)
    return verdicts


def _agreement(spec: GraderSpec, grades: Sequence[CurrentGrade]) -> list[JudgeAgreement]:
    pairs: dict[tuple[str, int, int], list[tuple[bool, bool]]] = defaultdict(list)
    labels: dict[int, str] = {}
    for grade in grades:
        detail = grade.detail or {}
        judges = detail.get("judges", [])
        if detail.get("kind") != "rubric" or len(judges) < 2:
            continue
        for index, label in enumerate(judges):
            labels.setdefault(index, str(label))
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
    judged = judge_graders(store.grader_set(run_id))
    if not judged:
        return None
    noise: list[JudgeNoise] = []
    agreement: list[JudgeAgreement] = []
    trust: list[JudgeTrust] = []
    warnings: list[str] = []
    for spec in judged:
        grades = store.current_grades(run_id, spec.name)
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
