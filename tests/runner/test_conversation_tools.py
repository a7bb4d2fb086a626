"""End to end: a suite file with a variant's ``tools`` and a three-turn ``messages`` case, run against the fake
OpenAI-compatible server; the stored sample holds each turn as a step and the model's tool calls nested under
the turn that made them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mendoza.api import load_suite, run_suite
from mendoza.core import Sample
from mendoza.store import Store
from tests.support.fake_openai_server import FakeOpenAIServer, last_user

WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
BOOK = {"name": "book_table", "parameters": {"type": "object", "properties": {"people": {"type": "integer"}}}}


def _decide(body: dict[str, Any]) -> list[Any] | None:
    """The fake model's tool calls: the weather when asked about it, a booking (with broken JSON) when asked."""
    said = last_user(body)
    if "weather" in said:
        return [{"name": "get_weather", "arguments": {"city": said.rsplit(" ", 1)[-1].rstrip("?")}}]
    if "book" in said:
        return [{"name": "book_table", "arguments": '{"people": 2,'}]
    return None


def _suite(folder: Path, base_url: str) -> Path:
    data = {
        "suite": "agent",
        "cases": [
            {
                "id": "trip",
                "city": "Paris",
                "messages": [
                    {"role": "system", "content": "You plan trips."},
                    {"role": "user", "content": "hello"},
                    {"role": "user", "content": "what is the weather in {{ city }}?"},
                    {"role": "user", "content": "book a table"},
                ],
            }
        ],
        "variants": [
            {
                "id": "planner",
                "model": "openai/fake-model",
                "base_url": base_url,
                "api_key_env": "MENDOZA_TEST_UNSET_KEY",
                "tools": [WEATHER, BOOK],
            }
        ],
        "graders": [{"contains": "you said", "turn": "each"}],
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _only_sample(store: Store, run_id: str) -> Sample:
    (sample,) = list(store.samples.iterate(run_id, steps=True))
    return sample


def test_a_three_turn_conversation_with_tool_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENDOZA_TEST_UNSET_KEY", raising=False)
    with FakeOpenAIServer(reply=lambda body: f"you said: {last_user(body)}", call_tools=_decide) as server:
        suite = load_suite(_suite(tmp_path, server.url))
        with Store(tmp_path / "m.db") as store:
            run = run_suite(suite, db=store)
            sample = _only_sample(store, run.id)

            # what the server was sent: the history so far each turn, the system first, the tools every time
            assert [len(request["messages"]) for request in server.requests] == [2, 4, 6]
            third = server.requests[2]["messages"]
            assert third[0] == {"role": "system", "content": "You plan trips."}
            assert third[1:] == [
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "you said: hello"},
                {"role": "user", "content": "what is the weather in Paris?"},
                {"role": "assistant", "content": "you said: what is the weather in Paris?"},
                {"role": "user", "content": "book a table"},
            ]
            assert all(
                [tool["function"]["name"] for tool in request["tools"]] == ["get_weather", "book_table"]
                for request in server.requests
            )

            assert sample.error is None and sample.output == "you said: book a table" and sample.passed is True
            turns = [step for step in sample.steps if step.kind == "llm"]
            assert [(s.name, s.span_id, s.parent_id) for s in turns] == [
                ("turn 1", "turn-1", None), ("turn 2", "turn-2", None), ("turn 3", "turn-3", None)
            ]
            assert [(s.input, s.output) for s in turns] == [
                ("hello", "you said: hello"),
                ("what is the weather in Paris?", "you said: what is the weather in Paris?"),
                ("book a table", "you said: book a table"),
            ]
            tools = [step for step in sample.steps if step.kind == "tool"]
            assert [(s.name, s.parent_id, s.input) for s in tools] == [
                ("get_weather", "turn-2", '{"city": "Paris"}'),
                ("book_table", "turn-3", '{"people": 2,'),  # arguments that are not JSON: kept as sent
            ]
            assert tools[0].span_id != tools[1].span_id
            assert tools[0].attributes == {"gen_ai.tool.call.id": tools[0].span_id}
            # each tool step comes after the turn that made it, in start order
            names = [step.name for step in sample.steps]
            assert names == ["turn 1", "turn 2", "get_weather", "turn 3", "book_table"]
            # the structured calls of the answer (the sample's response is the last turn's)
            assert sample.metadata == {"tool_calls": [{"name": "book_table", "arguments": '{"people": 2,'}]}
            json.dumps(sample.metadata)

            # run again: every turn is served from the cache, the tool steps with it
            again = _only_sample(store, run_suite(suite, db=store).id)
            assert server.count == 3 and again.cached
            assert [(s.name, s.parent_id, s.input) for s in again.steps] == [
                (s.name, s.parent_id, s.input) for s in sample.steps
            ]
            assert again.metadata == sample.metadata  # the structured calls come back from the cache too
