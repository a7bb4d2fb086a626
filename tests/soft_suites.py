"""Small suites for the soft-eval tests: an app under test that counts its calls, graded by scripted judges."""

from __future__ import annotations

from typing import Any

from mendoza.core import Case, GraderSpec, Suite, Variant

J = "python:tests.graders.judges"
WORDS = ("good", "bad", "great", "grim", "gold", "dull")


def rubric_spec(judge: Any = f"{J}:good_word", name: str = "helpful", **params: Any) -> GraderSpec:
    """A rubric grader judged by ``judge`` (default: PASS when the output says 'good')."""
    return GraderSpec(type="rubric", params={"criteria": ["The reply helps"], "judge": judge, **params}, name=name)


def soft_suite(graders: tuple[GraderSpec, ...] | None = None, repeats: int = 2) -> Suite:
    """Two variants: the counted python app (good answers for words starting with g) and a mock that always
    says something good at length."""
    return Suite(
        name="soft",
        cases=tuple(Case(id=word, vars={"word": word}) for word in WORDS),
        variants=(
            Variant(id="app", model=f"{J}:app_under_test"),
            Variant(id="chatty", model="mock", params={"output": "a good and rather long answer about {{ word }}"}),
        ),
        graders=graders if graders is not None else (GraderSpec(type="contains", params={"value": "good"},
                                                                 name="says-good"),),
        repeats=repeats,
    )
