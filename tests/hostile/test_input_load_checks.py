"""Mistakes that used to surface only as every sample failing are found when the suite loads: one line,
exit code 2, before any sample is drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.config import load_suite
from mendoza.errors import ConfigError
from tests.hostile.input_support import Outcome, run_mendoza


def write(tmp_path: Path, variant: str, graders: str = "") -> Path:
    path = tmp_path / "suite.yaml"
    text = f"suite: s\ncases: [{{id: a, q: hi, expected: hi}}]\nvariants:\n  - {variant}\n{graders}"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, path: Path) -> Outcome:
    outcome = run_mendoza(["run", str(path), "--db", str(tmp_path / "m.db"), "-q"])
    assert outcome.crash is None, outcome.crash
    assert outcome.code == 2, outcome
    assert len(outcome.stderr_lines) == 1, outcome.stderr
    assert str(path) in outcome.stderr
    assert not (tmp_path / "m.db").exists() or "samples" not in outcome.stdout
    return outcome


def module(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_a_mock_output_template_with_a_syntax_error_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{id: m, model: mock, params: {output: "{{ q "}}')
    outcome = refused(tmp_path, path)
    assert f"{path}:4: variant 'm': mock param 'output': template syntax error" in outcome.stderr


def test_a_mock_outputs_list_with_a_syntax_error_is_found_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, '{id: m, model: mock, params: {outputs: [ok, "{% if %}"]}}')
    with pytest.raises(ConfigError, match="mock param 'outputs': template syntax error"):
        load_suite(path)


def test_an_app_that_cannot_be_imported_is_found_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "{id: app, model: 'python:no_such_module_here:answer'}")
    outcome = refused(tmp_path, path)
    assert f"{path}:4: variant 'app': python: cannot import no_such_module_here:answer" in outcome.stderr


def test_an_app_without_the_function_is_found_at_load(tmp_path: Path) -> None:
    app = module(tmp_path, "app.py", "def other(vars):\n    return 'x'\n")
    outcome = refused(tmp_path, write(tmp_path, f"{{id: app, model: 'python:{app}:answer'}}"))
    assert "has no attribute 'answer'" in outcome.stderr


@pytest.mark.parametrize(
    ("statement", "shown"),
    [
        ("raise SystemExit(3)", "SystemExit: 3"),
        ("import sys; sys.exit('bye')", "SystemExit: bye"),
        ("raise GeneratorExit('odd')", "GeneratorExit: odd"),
        ("class Boom(BaseException): pass\nraise Boom('boom')", "Boom: boom"),
        ("raise RuntimeError('broken app')", "RuntimeError: broken app"),
        ("def answer(:\n    pass", "SyntaxError"),
    ],
)
def test_an_app_whose_import_raises_anything_is_one_line(tmp_path: Path, statement: str, shown: str) -> None:
    app = module(tmp_path, "raising_app.py", statement + "\n\ndef answer(vars):\n    return 'x'\n")
    outcome = refused(tmp_path, write(tmp_path, f"{{id: app, model: 'python:{app}:answer'}}"))
    assert shown in outcome.stderr


def test_a_python_grader_that_cannot_be_imported_is_found_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "{id: v, model: echo, prompt: hi}", "graders:\n  - python: 'no_such_checks:polite'\n")
    outcome = refused(tmp_path, path)
    assert f"{path}:6: python grader 'no_such_checks:polite' cannot be imported" in outcome.stderr


@pytest.mark.parametrize(
    ("statement", "shown"),
    [("raise SystemExit(0)", "SystemExit: 0"), ("class Boom(BaseException): pass\nraise Boom()", "Boom")],
)
def test_a_python_grader_whose_import_raises_anything_is_one_line(
    tmp_path: Path, statement: str, shown: str
) -> None:
    checks = module(tmp_path, "raising_checks.py", statement + "\n\ndef polite(output, case):\n    return True\n")
    path = write(tmp_path, "{id: v, model: echo, prompt: hi}", f"graders:\n  - python: '{checks}:polite'\n")
    outcome = refused(tmp_path, path)
    assert f"{path}:6: grader 'python' fails to load: {shown}" in outcome.stderr


def test_a_grader_template_with_a_syntax_error_is_found_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "{id: v, model: echo, prompt: hi}", 'graders:\n  - contains: "{{ expected "\n')
    outcome = refused(tmp_path, path)
    assert f"{path}:6: grader 'contains': parameter 'value': template syntax error on its line 1" in outcome.stderr


def test_a_grader_template_in_a_list_parameter_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "{id: v, model: echo, prompt: hi}", 'graders:\n  - contains_any: [ok, "{% for %}"]\n')
    with pytest.raises(ConfigError, match="grader 'contains_any': parameter 'value': template syntax error"):
        load_suite(path)


def test_a_regex_with_braces_is_not_taken_for_a_template(tmp_path: Path) -> None:
    path = write(tmp_path, "{id: v, model: echo, prompt: hi}", "graders:\n  - regex: '^\\d{2,3}{#x'\n")
    assert load_suite(path).graders[0].type == "regex"


def test_an_unknown_provider_is_found_at_load_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "{id: v, model: 'nosuch/model', prompt: hi}")
    outcome = refused(tmp_path, path)
    assert f"{path}:4: variant 'v': unknown provider 'nosuch'" in outcome.stderr


def test_a_good_app_and_grader_still_load(tmp_path: Path) -> None:
    app = module(tmp_path, "good_app.py", "def answer(vars):\n    return vars['q']\n")
    checks = module(tmp_path, "good_checks.py", "def same(output, case):\n    return output == case.expected\n")
    path = write(tmp_path, f"{{id: app, model: 'python:{app}:answer'}}", f"graders:\n  - python: '{checks}:same'\n")
    suite = load_suite(path)
    assert suite.variants[0].provider_name == "python" and suite.graders[0].type == "python"
