"""Valid suite files load into the Suite they describe; the suite hash follows content, not location."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mendoza.config import DEFAULT_MODEL, load_suite
from mendoza.core import Case
from tests.config.suite_files import MINIMAL, write_suite

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_tickets"


def test_inline_cases_vars_expected_tags_and_defaults(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        """\
        suite: inline
        description: two cases written in the suite
        cases:
          - id: refund
            ticket: Where is my refund?
            expected: billing
            tags: [money, urgent]
          - vars: {ticket: "App crashes"}
            expected: technical
            metadata: {source: email}
        variants:
          - id: zero
            prompt: "Route: {{ ticket }}"
            params: {temperature: 0.2}
        """,
    )
    suite = load_suite(path)
    assert suite.name == "inline"
    assert suite.description == "two cases written in the suite"
    assert suite.cases == (
        Case(
            id="refund", vars={"ticket": "Where is my refund?"}, expected="billing", tags=("money", "urgent")
        ),
        Case(id="case-2", vars={"ticket": "App crashes"}, expected="technical", metadata={"source": "email"}),
    )
    (variant,) = suite.variants
    assert variant.model == DEFAULT_MODEL == "local/gemma-3-270m"
    assert variant.prompt == "Route: {{ ticket }}"
    assert variant.params == {"temperature": 0.2}
    assert (suite.repeats, suite.seed, suite.cache, suite.graders) == (1, 0, True, ())
    assert suite.source == str(path)


def test_a_folder_means_its_suite_yaml(tmp_path: Path) -> None:
    write_suite(tmp_path, MINIMAL)
    assert load_suite(tmp_path).name == "tiny"


def test_jsonl_cases_relative_to_the_suite_file(tmp_path: Path) -> None:
    rows = [
        {"id": "r1", "ticket": "charged twice", "expected": "billing"},
        {"ticket": "no id here", "expected": "account", "tags": "a, b"},
    ]
    jsonl = "\n".join(json.dumps(row) for row in rows[:1]) + "\n\n" + json.dumps(rows[1]) + "\n"
    path = write_suite(
        tmp_path / "suite",
        """\
        suite: from-jsonl
        cases: data/tickets.jsonl
        variants: [{id: v, prompt: "{{ ticket }}"}]
        """,
        **{"data/tickets.jsonl": jsonl},
    )
    suite = load_suite(path)
    assert [case.id for case in suite.cases] == ["r1", "tickets-3"]  # default id: file stem and line
    assert suite.cases[0].vars == {"ticket": "charged twice"}
    assert suite.cases[1].expected == "account"
    assert suite.cases[1].tags == ("a", "b")


def test_csv_cases_are_text_with_a_header(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        """\
        suite: from-csv
        cases: cases.csv
        variants: [{id: v, prompt: "{{ city }} in {{ country }}"}]
        """,
        **{"cases.csv": 'id,city,country,expected\nc1,Lyon,France,yes\nc2,"Sao, Paulo",Brazil,no\n'},
    )
    suite = load_suite(path)
    assert suite.cases == (
        Case(id="c1", vars={"city": "Lyon", "country": "France"}, expected="yes"),
        Case(id="c2", vars={"city": "Sao, Paulo", "country": "Brazil"}, expected="no"),
    )


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "suite: bom\ncases: c.csv\nvariants: [{id: v, prompt: '{{ q }}'}]\n",
        **{"c.csv": "\ufeffid,q\nfirst,hello\n".encode()},
    )
    assert load_suite(path).cases == (Case(id="first", vars={"q": "hello"}),)


def test_prompt_file_is_read_relative_to_the_suite_file(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path / "deep" / "suite",
        MINIMAL.replace('prompt: "Q: {{ question }}"', "prompt_file: prompts/p.j2\n    system: Be brief."),
        **{"prompts/p.j2": "Answer this:\n{{ question }}\n"},
    )
    (variant,) = load_suite(path).variants
    assert variant.prompt == "Answer this:\n{{ question }}\n"
    assert variant.system == "Be brief."


def test_the_example_suite_loads() -> None:
    suite = load_suite(EXAMPLE / "suite.yaml")
    assert suite.name == "support-ticket-router"
    assert [variant.id for variant in suite.variants] == ["zero-shot", "few-shot"]
    assert suite.repeats == 5 and suite.seed == 7
    assert len(suite.cases) == len((EXAMPLE / "tickets.jsonl").read_text().strip().splitlines())
    assert all(variant.prompt and "{{ ticket }}" in variant.prompt for variant in suite.variants)
    (grader,) = suite.graders
    assert grader.type == "equals"
    assert grader.params == {"value": "{{ expected }}", "ignore_case": True, "ignore_punctuation": True}


def test_models_without_a_prompt_need_none(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        """\
        suite: apps
        cases: [{id: a, x: 1}]
        variants:
          - {id: app, model: "python:json:dumps"}
          - {id: echo, model: echo}
        """,
    )
    suite = load_suite(path)
    assert [variant.prompt for variant in suite.variants] == [None, None]
    assert suite.variant("app").provider_name == "python"


# suite hash ---------------------------------------------------------------------------------------------


def test_the_hash_is_stable_across_loads(tmp_path: Path) -> None:
    path = write_suite(tmp_path, MINIMAL)
    first = load_suite(path).content_hash()
    assert first == load_suite(path).content_hash()
    assert len(first) == 16


def test_the_hash_changes_when_a_case_changes(tmp_path: Path) -> None:
    path = write_suite(tmp_path, MINIMAL)
    before = load_suite(path).content_hash()
    write_suite(tmp_path, MINIMAL.replace('expected: "4"', 'expected: "5"'))
    assert load_suite(path).content_hash() != before


def test_the_hash_changes_when_a_jsonl_case_or_the_prompt_file_changes(tmp_path: Path) -> None:
    text = "suite: s\ncases: c.jsonl\nvariants: [{id: v, prompt_file: p.j2}]\n"
    path = write_suite(tmp_path, text, **{"c.jsonl": '{"id": "a", "q": "x"}\n', "p.j2": "{{ q }}"})
    before = load_suite(path).content_hash()
    (tmp_path / "c.jsonl").write_text('{"id": "a", "q": "y"}\n')
    after_case = load_suite(path).content_hash()
    (tmp_path / "p.j2").write_text("Q: {{ q }}")
    after_prompt = load_suite(path).content_hash()
    assert len({before, after_case, after_prompt}) == 3


def test_the_hash_does_not_depend_on_where_the_suite_lives(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "renamed"
    shutil.copytree(EXAMPLE, copy)
    original, moved = load_suite(EXAMPLE), load_suite(copy)
    assert original.source != moved.source
    assert original.content_hash() == moved.content_hash()
    assert original.model_copy(update={"source": None}) == moved.model_copy(update={"source": None})
