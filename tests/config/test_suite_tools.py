"""A variant's ``tools`` and a case's ``messages`` in a suite file: loaded as ``ToolSpec``s and ``Message``s, and
each mistake one line at the tool's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.config import load_suite
from mendoza.core import Message, ToolSpec
from tests.config.suite_files import config_error, write_suite

SUITE = """\
suite: agent
cases:
  - id: weather
    city: Paris
    messages:
      - role: system
        content: You answer about the weather.
      - role: user
        content: "Hello"
      - role: user
        content: "What is the weather in {{ city }}?"
variants:
  - id: gpt
    model: openai/gpt-4o-mini
    base_url: http://127.0.0.1:9/v1
    tools:
      - name: get_weather
        description: The weather in a city
        parameters:
          type: object
          properties:
            city: {type: string}
          required: [city]
      - name: ping
"""
# by line: 13 - id: gpt, 14 model, 16 tools, 17 - name: get_weather, ..., 24 - name: ping


def _with_tools(tools: str) -> str:
    head = SUITE.split("    tools:\n")[0]
    return head + "    tools:\n" + tools


def test_tools_and_messages_load(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, SUITE))
    (variant,) = suite.variants
    assert variant.tools == (
        ToolSpec(
            name="get_weather",
            description="The weather in a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        ),
        ToolSpec(name="ping", description="", parameters={"type": "object", "properties": {}}),
    )
    assert variant.prompt is None  # every case is a conversation: no prompt needed
    (case,) = suite.cases
    assert case.messages == (
        Message(role="system", content="You answer about the weather."),
        Message(role="user", content="Hello"),
        Message(role="user", content="What is the weather in {{ city }}?"),
    )
    assert case.vars == {"city": "Paris"}
    # the tools are part of the suite's snapshot (stored with the run)
    assert suite.snapshot()["variants"][0]["tools"][0]["name"] == "get_weather"


@pytest.mark.parametrize(
    ("tools", "line", "detail"),
    [
        ("      - description: no name\n", 17, "missing required key 'variants.0.tools.0.name'"),
        ("      - name: ok\n      - nam: typo\n", 18, "unknown key 'variants.0.tools.1.nam' (did you mean 'name'?)"),
        ("      - name: has space\n", 17, "'variants.0.tools.0.name': String should match pattern"),
        ("      - lookup\n", 17, "'variants.0.tools.0': must be a mapping"),
        ("      - name: a\n      - name: a\n", 18, "variant 'gpt': tool 'a' is declared twice"),
        (
            "      - name: a\n        parameters: {type: string}\n",
            17,
            "variant 'gpt': tool 'a': 'parameters' must be a JSON Schema of an object",
        ),
        (
            "      - name: a\n        parameters: {type: object, properties: {x: {type: strng}}}\n",
            17,
            "variant 'gpt': tool 'a': 'parameters' is not a valid JSON Schema at 'properties/x/type'",
        ),
    ],
)
def test_a_bad_tool_is_one_line_at_its_place(tmp_path: Path, tools: str, line: int, detail: str) -> None:
    error = config_error(tmp_path, _with_tools(tools))
    assert error.where == f"{tmp_path / 'suite.yaml'}:{line}"
    assert error.detail.startswith(detail), error.detail


def test_a_bad_message_is_one_line_at_its_case(tmp_path: Path) -> None:
    error = config_error(tmp_path, SUITE.replace("role: system", "role: robot"))
    assert error.where == f"{tmp_path / 'suite.yaml'}:3"
    assert error.detail == "case field 'messages.0.role': Input should be 'system', 'user' or 'assistant'"
    error = config_error(tmp_path, SUITE.replace('        content: "Hello"\n', ""))
    assert error.detail == "case field 'messages.1.content': Field required"


def test_a_local_variant_with_tools_is_refused_when_the_suite_loads(tmp_path: Path) -> None:
    text = SUITE.replace("model: openai/gpt-4o-mini", "model: local/gemma-3-270m").replace(
        "    base_url: http://127.0.0.1:9/v1\n", ""
    )
    error = config_error(tmp_path, text)
    assert error.detail == "variant 'gpt': the local provider does not call tools; remove 'tools'"


def test_tools_on_the_completions_api_are_refused_when_the_suite_loads(tmp_path: Path) -> None:
    text = SUITE.replace("    base_url:", "    params: {api: completions}\n    base_url:")
    error = config_error(tmp_path, text)
    assert error.detail == "variant 'gpt': tools need the chat API (params.api: chat)"
    assert error.where == f"{tmp_path / 'suite.yaml'}:14"  # the variant's model
