"""Which kind a suite's grader is, by the name it is registered under: the one place that tells them apart.

- ``kind_of``: ``"sample"`` (a ``SampleGrader``: the run grades every sample with it) or ``"pairwise"`` (a
  ``PairwiseGrader``: it compares variants after the run, in ``mendoza rank`` and ``mendoza regrade``);
- ``is_judge_type``: a per-sample grader judged by models (a ``JudgeGrader``, or one that declares
  ``needs_model``), whose verdicts the judge report and the label queue read as ``JudgeDetail``.
"""

from __future__ import annotations

from typing import Any

from mendoza.graders.base import GraderKind, grader_kind
from mendoza.registry import grader_class

__all__ = ["is_judge_grader", "is_judge_type", "kind_of"]


def is_judge_grader(cls: type[Any]) -> bool:
    """Whether a grader class is judge-style: a per-sample grader whose verdict comes from judge models (a
    ``JudgeGrader`` subclass, or any sample grader with ``needs_model = True``)."""
    return grader_kind(cls) == "sample" and bool(getattr(cls, "needs_model", False))


def kind_of(grader_type: str) -> GraderKind:
    """The kind of the grader registered as ``grader_type`` (``PluginError`` if none is)."""
    return grader_kind(grader_class(grader_type))


def is_judge_type(grader_type: str) -> bool:
    """Whether the grader registered as ``grader_type`` is judge-style (``PluginError`` if none is)."""
    return is_judge_grader(grader_class(grader_type))
