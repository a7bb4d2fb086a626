"""User templates run in a sandbox: no shell from a prompt, no huge values, wherever templates are rendered."""

from __future__ import annotations

import time
from pathlib import Path

import jinja2
import pytest
from jinja2.exceptions import SecurityError

from mendoza import api
from mendoza.config import load_suite
from mendoza.config.templates import MAX_TEMPLATE_SIZE, user_environment
from mendoza.graders.base import render_param
from mendoza.graders.judge_prompts import compile_template
from mendoza.store import Store

POPEN = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"

BOMBS = [
    "{{ 'x' * 4000000000 }}",
    "{{ 4000000000 * 'x' }}",
    "{{ ['x'] * 4000000000 }}",
    "{{ 9 ** 99999999 }}",
    "{{ '%9999999999s' % 'x' }}",
    "{{ '{:>9999999999}'.format('x') }}",
    "{{ 'x'.ljust(10 ** 10) }}",
    "{{ 'x' | center(10 ** 10) }}",
    "{{ ['x'] | batch(10 ** 10, 'y') | list }}",
    "{{ '%9999999999s' | format('x') }}",
    "{% set ns = namespace(x='xxxxxxxxxx') %}{% for i in range(40) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
    "{% set x = 'ab' %}" + "{% set x = x ~ x %}" * 40 + "{{ x }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",  # CPU only
]


def suite_file(tmp_path: Path, variant: str, graders: str = "") -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        f"suite: s\ncases: [{{id: a, q: hi, expected: hi}}]\nvariants:\n  - {variant}\n{graders}", encoding="utf-8"
    )
    return path


def only_sample(tmp_path: Path, path: Path) -> tuple[str | None, str | None, tuple[str | None, ...]]:
    with Store(tmp_path / "m.db") as store:
        run = api.run_suite(load_suite(path), db=store)
        [sample] = list(store.samples.iterate(run.id))
    return sample.output, sample.error, tuple(grade.error for grade in sample.grades)


def test_the_environment_is_a_sandbox() -> None:
    with pytest.raises(SecurityError):
        user_environment().from_string(POPEN).render()


@pytest.mark.parametrize("template", BOMBS)
def test_huge_values_are_refused_before_they_are_built(template: str) -> None:
    started = time.perf_counter()
    with pytest.raises(SecurityError):
        user_environment().from_string(template).render()
    assert time.perf_counter() - started < 5.0


def test_ordinary_templates_still_render() -> None:
    template = "{{ q | upper }} {{ 'ab' * 3 }} {{ '%5s' | format('x') }} {{ range(3) | list }} {{ 2 ** 10 }}"
    assert user_environment().from_string(template).render(q="hi") == "HI ababab     x [0, 1, 2] 1024"
    assert len(user_environment().from_string("{{ 'x' * n }}").render(n=MAX_TEMPLATE_SIZE)) == MAX_TEMPLATE_SIZE


def test_a_prompt_cannot_run_a_shell_command(tmp_path: Path) -> None:
    path = suite_file(tmp_path, f'{{id: v, model: echo, prompt: "{POPEN}"}}')
    output, error, _ = only_sample(tmp_path, path)
    assert output is None
    assert error is not None and "unsafe" in error


def test_a_prompt_that_builds_4_gb_fails_its_sample_promptly(tmp_path: Path) -> None:
    path = suite_file(tmp_path, "{id: v, model: echo, prompt: \"{{ 'x' * 4000000000 }}\"}")
    started = time.perf_counter()
    output, error, _ = only_sample(tmp_path, path)
    assert time.perf_counter() - started < 10.0
    assert output is None and error is not None and "limit" in error


def test_a_mock_output_template_is_sandboxed(tmp_path: Path) -> None:
    path = suite_file(tmp_path, f'{{id: v, model: mock, params: {{output: "{POPEN}"}}}}')
    output, error, _ = only_sample(tmp_path, path)
    assert output is None and error is not None and "unsafe" in error


def test_a_grader_template_is_sandboxed(tmp_path: Path) -> None:
    path = suite_file(tmp_path, "{id: v, model: echo, prompt: hi}", f'graders:\n  - contains: "{POPEN}"\n')
    output, error, grade_errors = only_sample(tmp_path, path)
    assert error is None and output is not None
    assert grade_errors[0] is not None and "unsafe" in grade_errors[0]


def test_render_param_turns_a_failing_expression_into_a_grader_error() -> None:
    from mendoza.core import Case
    from mendoza.errors import GraderError

    with pytest.raises(GraderError, match="ZeroDivisionError"):
        render_param("{{ 1 / 0 }}", Case(id="a", vars={}))


def test_judge_prompts_are_sandboxed() -> None:
    with pytest.raises(jinja2.TemplateError):
        compile_template(POPEN).render()
