"""The public Python API (issue 15): ``__all__`` is pinned, every example of docs/api.md runs, and what is given
is never silently ignored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mendoza
from mendoza.errors import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"

PUBLIC = [
    "Case", "ConfigError", "Grade", "GraderSpec", "MendozaError", "ProviderError", "Run", "RunNotFound",
    "RunResult", "Sample", "StoreError", "Suite", "Thresholds", "Variant", "__version__", "load_suite", "model",
    "open_run", "open_store", "run", "run_suite", "step", "suite",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(mendoza.__all__) == sorted(PUBLIC)  # a change here is a change of the public API: say so
    for name in mendoza.__all__:
        assert getattr(mendoza, name) is not None


def test_every_example_of_the_api_docs_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, mendoza.RunResult) and result.report.variant("app").pass_rate == 0.75  # refund


def _suite() -> mendoza.Suite:
    return mendoza.suite("s", cases=[{"id": "a", "w": "x", "expected": "x"}], app=lambda vars: vars["w"],
                         graders=[{"equals": "{{ expected }}"}])


def test_nothing_given_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with pytest.raises(ConfigError, match=r"thresholds\.min_pass_rat"):
        mendoza.run(_suite(), db=db, thresholds={"min_pass_rat": 0.9})
    with pytest.raises(ConfigError, match="repeats must be a whole number"):
        mendoza.run(_suite(), db=db, repeats=0)
    with pytest.raises(ConfigError, match="verdicts must be one of"):
        mendoza.run(_suite(), db=db, verdicts="mine")  # type: ignore[arg-type]
    with pytest.raises(mendoza.RunNotFound):
        mendoza.run(_suite(), db=db, baseline="nope")
    result = mendoza.run(_suite(), db=db, repeats=4, thresholds={"min_pass_rate": 0.5}, on_inconclusive="fail")
    assert result.run.repeats == 4 and result.report.suite.thresholds.min_pass_rate == 0.5
    assert result.gate.on_inconclusive == "fail"


def test_a_baseline_checks_max_regression(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    cases = [{"id": f"c{i}", "w": "x", "expected": "x"} for i in range(20)]
    good = mendoza.run(mendoza.suite("s", cases=cases, app=lambda vars: vars["w"], graders=[{"equals": "x"}]),
                       db=db, repeats=2)
    broken = mendoza.suite("s", cases=cases, app=lambda vars: "y", graders=[{"equals": "x"}],
                           thresholds={"max_regression": 0.05})
    worse = mendoza.run(broken, db=db, repeats=2, baseline=good.run.id)
    assert len(worse.regressions) == 1 and not worse.passed
    assert any(check.threshold == "max_regression" and check.outcome == "fail" for check in worse.gate.checks)


def test_an_in_process_app_cannot_be_resumed_elsewhere() -> None:
    from mendoza.providers.python_callable import app_target

    target = app_target(lambda vars: "x")
    assert target.startswith("python:<in-process>:")
    assert app_target(mendoza.load_suite) == "python:mendoza.config.suite_file:load_suite"
