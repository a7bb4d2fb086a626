"""Judge-style graders and the typed detail of their verdicts.

A judge-style grader is a per-sample grader whose verdict comes from judge models (``rubric``, or a plugin):
it subclasses ``JudgeGrader`` (or, like plugins written before it, declares ``needs_model = True``). The judge
report (noise, agreement between judges, trust) and the label queue find such graders by their class
(``mendoza.graders.kinds.is_judge_grader``) and read their stored ``detail`` through ``JudgeDetail.read``, so
a new judge-style grader that writes the shape below shows up there with no other edit.

The stored JSON ``detail`` of a judged verdict (what ``rubric`` has always written, so old runs read the same)::

    {"judges": ["openai/gpt-4o", ...],          # one label per judge; votes and runs index into it
     "score": 0.75, "threshold": 0.7 | null, "agreement": 1.0,
     "criteria": [{"name": "polite", "score": 1.0, "scale": 5 | null, "pass_point": 0.5,
                   "votes": [{"judge": 0, "score": 1.0 | null, "asks": 1}, ...]}, ...],
     "runs": [{"judge": 0, "repeat": 0, "score": 0.75 | null, "passed": true | null}, ...]}

Other keys (``rubric`` adds ``kind``, reasons, labels...) are kept in the store and ignored here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mendoza.graders.base import SampleGrader

__all__ = ["JudgeCriterion", "JudgeDetail", "JudgeGrader", "JudgeRun", "JudgeVote"]


class JudgeGrader(SampleGrader):
    """A per-sample grader whose verdict comes from judge models; its ``Verdict.detail`` has the shape that
    ``JudgeDetail`` reads (see the module), so the judge report and the label queue pick it up."""

    needs_model = True


@dataclass(frozen=True, slots=True)
class JudgeVote:
    """One judge's answer on one criterion in one repeat: its score (None: unreadable) and how many asks."""

    judge: int
    score: float | None
    asks: int


@dataclass(frozen=True, slots=True)
class JudgeCriterion:
    """One criterion of a judged verdict: its combined score, its scale (None: pass/fail), its pass point
    (a share of the scale) and every vote on it."""

    name: str
    score: float
    scale: int | None
    pass_point: float | None
    votes: tuple[JudgeVote, ...]


@dataclass(frozen=True, slots=True)
class JudgeRun:
    """One (judge, repeat)'s own verdict on the whole grader (None: one of its answers was unreadable)."""

    judge: int
    repeat: int
    score: float | None
    passed: bool | None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class JudgeDetail:
    """The part of a judged verdict's stored detail that the judge report and the label queue use."""

    judges: tuple[str, ...]
    score: float
    threshold: float | None
    agreement: float
    criteria: tuple[JudgeCriterion, ...]
    runs: tuple[JudgeRun, ...]

    @classmethod
    def read(cls, detail: Mapping[str, Any] | None) -> JudgeDetail | None:
        """The typed detail of a stored judged verdict (old runs' included), or None when there is none or it
        does not have the shape (see the module); missing keys take their defaults."""
        if not isinstance(detail, Mapping):
            return None
        try:
            criteria = tuple(
                JudgeCriterion(
                    name=str(row.get("name", "")),
                    score=float(row.get("score", 0.0)),
                    scale=None if row.get("scale") is None else int(row["scale"]),
                    pass_point=_optional_float(row.get("pass_point")),
                    votes=tuple(
                        JudgeVote(int(vote.get("judge", -1)), _optional_float(vote.get("score")),
                                  int(vote.get("asks", 1)))
                        for vote in row.get("votes", [])
                    ),
                )
                for row in detail.get("criteria", [])
            )
            runs = tuple(
                JudgeRun(int(run["judge"]), int(run.get("repeat", 0)), _optional_float(run.get("score")),
                         None if run.get("passed") is None else bool(run["passed"]))
                for run in detail.get("runs", [])
            )
            return cls(
                judges=tuple(str(label) for label in detail.get("judges", [])),
                score=float(detail.get("score", 0.0)),
                threshold=_optional_float(detail.get("threshold")),
                agreement=float(detail.get("agreement", 1.0)),
                criteria=criteria,
                runs=runs,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        """The stored JSON shape (see the module), for a judge-style grader's ``Verdict.detail``."""
        return {
            "judges": list(self.judges),
            "score": self.score,
            "threshold": self.threshold,
            "agreement": self.agreement,
            "criteria": [
                {
                    "name": row.name,
                    "score": row.score,
                    "scale": row.scale,
                    "pass_point": row.pass_point,
                    "votes": [{"judge": v.judge, "score": v.score, "asks": v.asks} for v in row.votes],
                }
                for row in self.criteria
            ],
            "runs": [
                {"judge": run.judge, "repeat": run.repeat, "score": run.score, "passed": run.passed}
                for run in self.runs
            ],
        }
