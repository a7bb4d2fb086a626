"""Graders: turn one output into a verdict (passed, score in [0, 1], explanation).

The deterministic graders live here, one module per family: ``text`` (equals, contains, contains_any,
contains_all, regex, length), ``structured`` (json, numeric), ``agents`` (tool_called, trajectory: on a
sample's steps), ``python_function`` (python) and ``code`` (a
program run in a sandboxed process, see ``sandbox``); the soft ones, judged by a model, are ``rubric`` and
``pairwise`` (with ``judge``, ``judge_parsing`` and ``judge_prompts``).
Graders come in two kinds (``mendoza.graders.kinds``): per-sample (``SampleGrader``) and pairwise
(``PairwiseGrader``), both ``Grader``s; judge-style sample graders subclass ``JudgeGrader``. Suites name them
through ``mendoza.registry``; a ``not`` in front of any (``GraderSpec.negate``) flips the verdict.

Each name is imported from its module when first read (``mendoza.lazy_names``): a report that asks which kind a grader
is loads that grader, not every family with its sandbox and judge prompts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mendoza.lazy_names import lazy_names

if TYPE_CHECKING:
    from mendoza.calls import ModelCache
    from mendoza.graders.agents import ToolCalled, Trajectory
    from mendoza.graders.base import (
        BoundGrader,
        BoundPairwise,
        Grader,
        GraderKind,
        GraderParams,
        PairwiseGrader,
        SampleGrader,
        Verdict,
        bind_grader,
        grader_kind,
        render_param,
    )
    from mendoza.graders.code import Code
    from mendoza.graders.judge import Judge, JudgeSpec
    from mendoza.graders.judged import JudgeDetail, JudgeGrader
    from mendoza.graders.kinds import is_judge_grader, is_judge_type, kind_of
    from mendoza.graders.pairwise import PairOutcome, Pairwise
    from mendoza.graders.python_function import PythonFunction
    from mendoza.graders.rubric import Criterion, Rubric
    from mendoza.graders.structured import Json, Numeric
    from mendoza.graders.text import Contains, ContainsAll, ContainsAny, Equals, Length, Regex

__all__ = [
    "BoundGrader",
    "BoundPairwise",
    "Code",
    "Contains",
    "ContainsAll",
    "ContainsAny",
    "Criterion",
    "Equals",
    "Grader",
    "GraderKind",
    "GraderParams",
    "Json",
    "Judge",
    "JudgeDetail",
    "JudgeGrader",
    "JudgeSpec",
    "Length",
    "ModelCache",
    "Numeric",
    "PairOutcome",
    "Pairwise",
    "PairwiseGrader",
    "PythonFunction",
    "Regex",
    "Rubric",
    "SampleGrader",
    "ToolCalled",
    "Trajectory",
    "Verdict",
    "bind_grader",
    "grader_kind",
    "is_judge_grader",
    "is_judge_type",
    "kind_of",
    "render_param",
]

__getattr__, __dir__ = lazy_names(globals())
