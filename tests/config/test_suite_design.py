"""Suite syntax for designs (issue 14): run-time checks (``runtime: true``) and a person's review cost
(``human:``), each mistake one line naming the file and the line."""

from __future__ import annotations

from pathlib import Path

from mendoza.config import load_suite
from tests.config.suite_files import MINIMAL, config_error, write_suite

# MINIMAL, by line: 1 suite, 2 cases, 3 - id: a, 4 question, 5 expected, 6 variants, 7 - id: plain, 8 prompt


def test_a_runtime_check_and_the_cost_of_a_review_load(tmp_path: Path) -> None:
    text = MINIMAL + "graders:\n  - {regex: '^[a-z]+$', runtime: true, name: format}\n  - equals: '{{ expected }}'\n"
    text += "human: {cost: 0.4, seconds: 30}\n"
    suite = load_suite(write_suite(tmp_path, text))
    assert [(spec.name, spec.runtime) for spec in suite.graders] == [("format", True), ("equals", False)]
    assert suite.human is not None and (suite.human.cost, suite.human.seconds) == (0.4, 30.0)


def test_a_runtime_check_that_reads_the_reference_is_refused_at_its_line(tmp_path: Path) -> None:
    text = MINIMAL + "graders:\n  - contains: x\n  - {equals: '{{ expected }}', runtime: true}\n"
    error = config_error(tmp_path, text)
    assert error.where == f"{tmp_path / 'suite.yaml'}:11"
    assert error.detail == (
        "grader 'equals' cannot be a run-time check: its parameters read the case's 'expected', which only an "
        "eval has"
    )


def test_a_negative_review_cost_and_an_unknown_key_are_one_line_each(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "human:\n  cost: -1\n")
    assert error.where == f"{tmp_path / 'suite.yaml'}:10" and "greater than or equal to 0" in error.detail
    error = config_error(tmp_path, MINIMAL + "human:\n  price: 1\n")
    assert error.where == f"{tmp_path / 'suite.yaml'}:10"
    assert error.detail == "unknown key 'human.price'"
