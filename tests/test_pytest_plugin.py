"""The pytest plugin (issue 15): a test session that uses ``mendoza_eval`` against the ``echo`` provider and a
``python:`` app, run by pytester in a subprocess: passing, failing and inconclusive evals, the summary, the
stored runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.store import Store

pytest_plugins = ["pytester"]

TESTS = '''
import mendoza

CASES = [{"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"} for i in range(30)]


def shout(vars):
    return "say " + vars["word"]


def sometimes(vars, repeat):
    return "say " + vars["word"] if repeat % 2 == 0 else "nothing"


def test_a_good_app_reaches_the_band(mendoza_eval):
    result = mendoza_eval(shout, cases=CASES, graders=[{"contains": "{{ expected }}"}], repeats=3,
                          band="assistive")
    assert result.passed and result.report.variant("app").pass_rate == 1.0


def test_a_half_right_app_fails_the_supervised_band(mendoza_eval):
    mendoza_eval(sometimes, cases=CASES, graders=[{"contains": "{{ expected }}"}], repeats=4, band="supervised")


def test_too_few_cases_are_inconclusive(mendoza_eval):
    mendoza_eval(shout, cases=CASES[:2], graders=[{"contains": "{{ expected }}"}], repeats=2, min_pass_rate=0.9)


def test_a_suite_with_the_echo_provider(mendoza_eval, tmp_path):
    echo = {"id": "echo", "model": "echo", "prompt": "say {{ word }}"}
    suite = mendoza.suite("echo-suite", cases=CASES, variants=[echo], graders=[{"contains": "{{ expected }}"}])
    result = mendoza_eval(suite, repeats=2, min_pass_rate=0.8)
    assert result.report.variant("echo").graded == 60
'''


def test_a_session_with_the_plugin_reports_pass_fail_and_skip(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_evals=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*mendoza eval failed:*",
        "*'app'*below*90*",
        "*mendoza evals*",
        "*test_a_good_app_reaches_the_band: gate pass*",
        "*app: 100.0%*",
        "see them: mendoza view --db *pytest.db",
        "*SKIPPED*mendoza eval inconclusive*more samples*",
    ])
    with Store(Path(pytester.path) / ".mendoza" / "pytest.db", readonly=True) as store:
        assert store.runs.count() == 4


def test_inconclusive_can_fail_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_evals=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mendoza-inconclusive", "fail",
                                           "-k", "inconclusive", "--mendoza-db", "evals.db")
    result.assert_outcomes(failed=1)
    assert (Path(pytester.path) / "evals.db").is_file()


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    """Every pytest session of a project with mendoza installed loads the plugin: the runner, the report and
    scipy are imported when an eval runs, not then."""
    import subprocess
    import sys

    code = "import sys, mendoza.pytest_plugin; print(sorted(m for m in ('mendoza.api', 'scipy') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"
