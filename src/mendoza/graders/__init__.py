"""Graders: turn one output into a verdict (passed, score in [0, 1], explanation).

The deterministic graders live here, one module per family: ``text`` (equals, contains, contains_any,
contains_all, regex, length), ``structured`` (json, numeric) and ``python_function`` (python); the soft ones,
judged by a model, are ``rubric`` and ``pairwise`` (with ``judge``, ``judge_parsing`` and ``judge_prompts``).
Suites name them through ``mendoza.registry``; a ``not`` in front of any (``GraderSpec.negate``) flips the
verdict.
"""

from __future__ import annotations

from mendoza.graders.base import BoundGrader, Grader, GraderParams, ModelCache, Verdict, bind_grader, render_param
from mendoza.graders.judge import Judge, JudgeSpec
from mendoza.graders.pairwise import PairOutcome, Pairwise
from mendoza.graders.python_function import PythonFunction
from mendoza.graders.rubric import Criterion, Rubric
from mendoza.graders.structured import Json, Numeric
from mendoza.graders.text import Contains, ContainsAll, ContainsAny, Equals, Length, Regex

__all__ = [
    "BoundGrader",
    "Contains",
    "ContainsAll",
    "ContainsAny",
    "Criterion",
    "Equals",
    "Grader",
    "GraderParams",
    "Json",
    "Judge",
    "JudgeSpec",
    "Length",
    "ModelCache",
    "Numeric",
    "PairOutcome",
    "Pairwise",
    "PythonFunction",
    "Regex",
    "Rubric",
    "Verdict",
    "bind_grader",
    "render_param",
]
