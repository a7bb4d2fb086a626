"""A prompt template that fails at run time for some case is that sample's error, never the run's (issue 10,
item 2): the run completes, the other samples are stored, and a resume does not stop at the same sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.runner import engine
from mendoza.store import Store


def _suite(prompt: str, bad: dict[str, Any], good: dict[str, Any]) -> Suite:
    return Suite(
        name="templates",
        cases=(Case(id="good", vars=good), Case(id="bad", vars=bad), Case(id="good2", vars=good)),
        variants=(Variant(id="echo", model="echo", prompt=prompt),),
        graders=(GraderSpec(type="contains", params={"value": "x"}, name="contains"),),
        repeats=2,
    )


def _errors(db: Path, run_id: str) -> dict[str, set[str | None]]:
    with Store(db, readonly=True) as store:
        found: dict[str, set[str | None]] = {}
        for sample in store.samples.iterate(run_id):
            found.setdefault(sample.case_id, set()).add(sample.error)
        return found


@pytest.mark.parametrize(
    ("prompt", "bad", "good", "reason"),
    [
        ("{{ n + 1 }}", {"n": "n/a"}, {"n": 1}, "TypeError"),  # as reported: a number var that is text
        ("{{ 1 / n }}", {"n": 0}, {"n": 2}, "ZeroDivisionError"),
        ("{{ t.center(w) }}", {"t": "x", "w": "wide"}, {"t": "x", "w": 5}, "TypeError"),  # a method called wrongly
        ("{{ t.upper() }}", {"t": 5}, {"t": "x"}, "has no attribute 'upper'"),  # a method the value lacks
        ("{{ 10 // (n | int) }}", {"n": "0"}, {"n": "3"}, "ZeroDivisionError"),
    ],
)
def test_a_template_error_at_run_time_is_the_samples_error(
    tmp_path: Path, prompt: str, bad: dict[str, Any], good: dict[str, Any], reason: str
) -> None:
    db = tmp_path / "m.db"
    suite = _suite(prompt, bad, good)
    run = run_suite(suite, db=db)  # the old code: an ExceptionGroup traceback, the run left "running"
    assert run.status == "complete" and run.done_samples == 6
    errors = _errors(db, run.id)
    (bad_error,) = errors["bad"]
    assert bad_error is not None and bad_error.startswith("prompt template: ") and reason in bad_error
    assert "\n" not in bad_error
    assert errors["good"] == errors["good2"] == {None}
    again = run_suite(resume=run.id, db=db, retry_errors=True)  # samples the bad case again: no crash
    assert again.status == "complete" and again.done_samples == 6
    assert _errors(db, run.id)["bad"] == {bad_error}


@pytest.mark.parametrize(
    "raised",
    [SecurityError("the template would build a value of 4,000,000,000 items"), OverflowError("too big"),
     MemoryError()],
)
def test_what_a_sandbox_raises_for_a_huge_value_is_the_samples_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raised: BaseException
) -> None:
    # Without a bounded sandbox, "{{ 'x' * 4000000000 }}" would allocate 4 GB here; the renderer's refusal
    # (or MemoryError) is what must become the sample's error.
    real_render = jinja2.Template.render

    def render(template: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        if args and isinstance(args[0], dict) and args[0].get("size") == "huge":
            raise raised
        return real_render(template, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", render)
    db = tmp_path / "m.db"
    run = run_suite(_suite("{{ 'x' * 3 }} {{ size }}", {"size": "huge"}, {"size": "small"}), db=db)
    assert run.status == "complete" and run.done_samples == 6
    errors = _errors(db, run.id)
    assert errors["good"] == {None}
    (bad_error,) = errors["bad"]
    assert bad_error is not None and bad_error.startswith("prompt template: ")
    assert type(raised).__name__ in bad_error or str(raised) in bad_error


@pytest.mark.skipif(
    not isinstance(engine._TEMPLATES, SandboxedEnvironment), reason="only a bounded sandbox refuses it unallocated"
)
def test_a_huge_string_in_a_template_is_the_samples_error(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run = run_suite(_suite("{{ 'x' * n }}", {"n": 4000000000}, {"n": 3}), db=db)
    assert run.status == "complete" and run.done_samples == 6
    (bad_error,) = _errors(db, run.id)["bad"]
    assert bad_error is not None and bad_error.startswith("prompt template: ")
