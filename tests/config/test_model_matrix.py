"""A model matrix (issue 15, part 6): a variant with ``models: [a, b, c]`` is one variant per model, its id
``<id>@<model name>``, every other field the same; each mistake is one line on the line that is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mendoza.cli import cli
from mendoza.config import load_suite
from tests.config.suite_files import config_error, write_suite

CASES = """\
suite: matrix
cases:
  - id: a
    question: What is 2 + 2?
    expected: "4"
"""


def suite_file(folder: Path) -> str:
    return str(folder / "suite.yaml")


def test_a_matrix_expands_into_one_variant_per_model(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        CASES
        + """\
variants:
  - id: few-shot
    models: [local/gemma-3-270m, openai/gpt-4o-mini, echo]
    prompt: "Q: {{ question }}"
    system: be brief
    params: {temperature: 0.2}
    concurrency: 3
  - id: plain
    model: echo
    prompt: "{{ question }}"
""",
    )
    suite = load_suite(path)
    assert [variant.id for variant in suite.variants] == [
        "few-shot@gemma-3-270m",
        "few-shot@gpt-4o-mini",
        "few-shot@echo",
        "plain",
    ]
    assert [variant.model for variant in suite.variants] == [
        "local/gemma-3-270m",
        "openai/gpt-4o-mini",
        "echo",
        "echo",
    ]
    for variant in suite.variants[:3]:
        assert variant.prompt == "Q: {{ question }}"
        assert variant.system == "be brief"
        assert variant.params == {"temperature": 0.2}
        assert variant.concurrency == 3


def test_ids_are_safe_and_unique(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        CASES
        + """\
variants:
  - id: v
    models: ["openai/gpt 4o<b>", openai/x, anthropic/x, "local/Qwen/Qwen2.5-0.5B"]
    prompt: "{{ question }}"
""",
    )
    ids = [variant.id for variant in load_suite(path).variants]
    # Unsafe characters become '-'; two models with one model name (x) keep their whole model string.
    assert ids == ["v@gpt-4o-b", "v@openai-x", "v@anthropic-x", "v@Qwen-Qwen2.5-0.5B"]
    assert len(set(ids)) == len(ids)


def test_a_matrix_id_in_thresholds_stands_for_its_variants(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        CASES
        + """\
variants:
  - id: v
    models: [echo, mock]
    prompt: "{{ question }}"
  - id: w
    model: echo
    prompt: "{{ question }}"
thresholds:
  min_pass_rate: 0.5
  variants: [v]
""",
    )
    assert load_suite(path).thresholds.variants == ("v@echo", "v@mock")


def test_model_and_models_together_is_one_line(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        CASES + 'variants:\n  - id: v\n    model: echo\n    prompt: "{{ question }}"\n    models: [echo, mock]\n',
    )
    assert error.where == f"{suite_file(tmp_path)}:10"
    assert error.detail == "variant 'v' sets both 'model' and 'models'; keep one ('models' runs it on each model)"


def test_an_empty_models_list_is_one_line(tmp_path: Path) -> None:
    error = config_error(tmp_path, CASES + 'variants:\n  - id: v\n    prompt: "{{ question }}"\n    models: []\n')
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail.startswith("variant 'v': 'models' is empty; list one model or more")


def test_an_unknown_provider_is_reported_on_its_entrys_line(tmp_path: Path) -> None:
    text = CASES + (
        'variants:\n  - id: v\n    prompt: "{{ question }}"\n    models:\n      - echo\n      - nosuch/model\n'
        "      - mock\n"
    )
    error = config_error(tmp_path, text)
    assert error.where == f"{suite_file(tmp_path)}:11"
    assert error.detail.startswith("variant 'v@model': unknown provider 'nosuch' (known: ")


def test_a_model_that_is_not_text_is_reported_on_its_entrys_line(tmp_path: Path) -> None:
    text = CASES + 'variants:\n  - id: v\n    prompt: "{{ question }}"\n    models:\n      - echo\n      - [mock]\n'
    error = config_error(tmp_path, text)
    assert error.where == f"{suite_file(tmp_path)}:11"
    assert error.detail.startswith("'variants.0.models.1': ")


def test_a_model_listed_twice_is_one_line(tmp_path: Path) -> None:
    text = CASES + 'variants:\n  - id: v\n    prompt: "{{ question }}"\n    models:\n      - echo\n      - echo\n'
    error = config_error(tmp_path, text)
    assert error.where == f"{suite_file(tmp_path)}:11"
    assert error.detail == "variant 'v' lists model 'echo' twice in 'models' (its entries 1 and 2); keep one"


def test_two_models_expanding_to_one_id_say_so(tmp_path: Path) -> None:
    text = CASES + (
        'variants:\n  - id: v\n    prompt: "{{ question }}"\n    models:\n      - "openai/a b"\n'
        '      - "openai/a/b"\n'
    )
    error = config_error(tmp_path, text)
    assert error.where == f"{suite_file(tmp_path)}:11"
    assert error.detail == (
        "variant 'v': models 'openai/a b' and 'openai/a/b' both expand to the id 'v@openai-a-b'; give one of them a "
        "variant of its own (with 'model:' and an id)"
    )


def test_an_expanded_id_that_another_variant_has_says_where_it_comes_from(tmp_path: Path) -> None:
    text = CASES + (
        'variants:\n  - id: v@echo\n    model: echo\n    prompt: "{{ question }}"\n'
        '  - id: v\n    prompt: "{{ question }}"\n    models: [mock, echo]\n'
    )
    error = config_error(tmp_path, text)
    assert error.where == f"{suite_file(tmp_path)}:12"
    assert error.detail == "duplicate variant id 'v@echo' (the 'models' of variant 'v' expand to it)"


def test_a_model_that_needs_a_prompt_names_the_expanded_variant(tmp_path: Path) -> None:
    error = config_error(tmp_path, CASES + "variants:\n  - id: v\n    models: [echo, openai/gpt-4o-mini]\n")
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail == "variant 'v@gpt-4o-mini' needs a 'prompt' or a 'prompt_file' (or cases with 'messages')"


def test_mendoza_run_shows_the_expanded_ids(write_suite: Any, tmp_path: Path) -> None:
    suite = {
        "suite": "matrix-run",
        "cases": [{"id": f"c{i}", "x": str(i)} for i in range(3)],
        "variants": [{"id": "v", "models": ["echo", "mock"], "prompt": "{{ x }}", "params": {"output": "1"}}],
        "graders": [{"contains": "1"}],
    }
    db = tmp_path / "m.db"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["run", str(write_suite(suite)), "--db", str(db), "-q"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "v@echo" in result.output and "v@mock" in result.output
    runs = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["runs", "--db", str(db)], terminal_width=200)
    assert "v@echo, v@mock" in runs.output


@pytest.mark.parametrize("model", ["echo", "mock"])
def test_a_one_model_matrix_is_still_derived(tmp_path: Path, model: str) -> None:
    text = CASES + 'variants:\n  - id: v\n    prompt: "{{ question }}"\n' + f"    models: [{model}]\n"
    path = write_suite(tmp_path, text)
    assert [variant.id for variant in load_suite(path).variants] == [f"v@{model}"]
