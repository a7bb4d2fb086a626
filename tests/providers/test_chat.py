"""What chat providers share (providers/chat.py): a request as chat turns or plain text, tool calls as steps;
and the embedded model's use of them, with llama.cpp replaced by a recording stand-in (no model is loaded)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from mendoza.core import Message, ModelRequest, ToolSpec, Variant
from mendoza.errors import ConfigError
from mendoza.providers import local
from mendoza.providers.chat import (
    ToolCall,
    chat_turns,
    last_user_turn,
    parse_arguments,
    plain_text,
    tool_call_steps,
    tool_calls_metadata,
)

CONVERSATION = (
    Message(role="user", content="Hello"),
    Message(role="assistant", content="Hi."),
    Message(role="user", content="What is 2 + 2?"),
)


def _request(
    messages: tuple[Message, ...] | None = CONVERSATION, system: str | None = None, prompt: str | None = None
) -> ModelRequest:
    return ModelRequest(prompt=prompt, vars={}, params={}, seed=5, system=system, messages=messages)


def test_chat_turns_put_the_variants_system_first_unless_the_conversation_has_one() -> None:
    assert chat_turns(_request(system="Be terse.")) == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "What is 2 + 2?"},
    ]
    own = (Message(role="system", content="Mine."), *CONVERSATION)
    assert chat_turns(_request(own, system="Be terse."))[0] == {"role": "system", "content": "Mine."}
    assert len(chat_turns(_request(own, system="Be terse."))) == 4
    # without messages: the system and the prompt, as before
    assert chat_turns(_request(None, system="S", prompt="P")) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "P"},
    ]


def test_plain_text_rendering_of_a_conversation() -> None:
    text = plain_text(chat_turns(_request(system="You are terse.")))
    assert text == (
        "System: You are terse.\n\nUser: Hello\n\nAssistant: Hi.\n\nUser: What is 2 + 2?\n\nAssistant:"
    )
    assert plain_text([{"role": "user", "content": "only"}]) == "User: only\n\nAssistant:"


def test_last_user_turn() -> None:
    assert last_user_turn(_request()) == "What is 2 + 2?"
    assert last_user_turn(_request(None, prompt="p")) is None
    assert last_user_turn(_request((Message(role="system", content="s"),))) is None


@pytest.mark.parametrize(
    ("raw", "structured", "text"),
    [
        ('{"b": 1, "a": "é"}', {"b": 1, "a": "é"}, '{"a": "é", "b": 1}'),
        ({"city": "Paris"}, {"city": "Paris"}, '{"city": "Paris"}'),
        ("{not json", "{not json", "{not json"),
        ("", {}, "{}"),
        (None, {}, "{}"),
        ("[1, 2]", [1, 2], "[1, 2]"),
        ("[" * 100_000, "[" * 100_000, "[" * 100_000),  # nests too deep to parse: kept as text
    ],
)
def test_parse_arguments(raw: object, structured: object, text: str) -> None:
    assert parse_arguments(raw) == (structured, text)


def test_tool_calls_become_tool_steps_and_metadata() -> None:
    calls = [ToolCall("call_9", "lookup", '{"q": "x"}'), ToolCall(None, "broken", "{oops")]
    first, second = tool_call_steps(calls, at_ms=12.5)
    assert (first.name, first.kind, first.span_id, first.input, first.start_ms) == (
        "lookup", "tool", "call_9", '{"q": "x"}', 12.5
    )
    assert first.attributes == {"gen_ai.tool.call.id": "call_9"} and first.parent_id is None
    assert (second.span_id, second.input, second.attributes) == ("tool-1", "{oops", None)
    assert tool_calls_metadata(calls) == {
        "tool_calls": [{"name": "lookup", "arguments": {"q": "x"}}, {"name": "broken", "arguments": "{oops"}]
    }
    assert tool_calls_metadata([]) is None
    json.dumps(tool_calls_metadata(calls))  # storable as the sample's metadata


# the embedded model, with llama.cpp replaced ---------------------------------------------------------------


class _FakeLlama:
    """Records what the provider asks llama.cpp for; answers with ``answer``."""

    def __init__(self, chat_template: bool, answer: str) -> None:
        self.metadata = {"tokenizer.chat_template": "{{ messages }}"} if chat_template else {}
        self.answer = answer
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def create_completion(self, prompt: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("completion", prompt, kwargs))
        return {"choices": [{"text": self.answer, "finish_reason": "stop"}], "usage": {}}

    def create_chat_completion(self, messages: list[dict[str, str]], **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("chat", messages, kwargs))
        return {"choices": [{"message": {"content": self.answer}, "finish_reason": "stop"}], "usage": {}}


def _local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chat_template: bool, answer: str, **params: Any
) -> tuple[local.LocalProvider, _FakeLlama]:
    model_file = tmp_path / "tiny.gguf"
    model_file.write_bytes(b"GGUF")
    fake = _FakeLlama(chat_template, answer)
    monkeypatch.setattr(local, "load_model", lambda *args: (fake, threading.Lock()))
    variant = Variant(id="v", model=f"local/{model_file}", system="You are terse.", params=params)
    return local.LocalProvider(variant), fake


def test_a_base_model_gets_the_conversation_as_plain_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer=" 4\n")
    response = asyncio.run(provider.complete(_request(system="You are terse.")))
    ((kind, prompt, kwargs),) = fake.calls
    assert kind == "completion"
    assert prompt == "System: You are terse.\n\nUser: Hello\n\nAssistant: Hi.\n\nUser: What is 2 + 2?\n\nAssistant:"
    assert kwargs["stop"] == ["\nUser:"] and kwargs["seed"] == 5
    assert response.text == "4" and response.notice is None  # the format's spaces and newlines stripped


def test_a_base_models_own_stop_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer="x", stop=["###"])
    asyncio.run(provider.complete(_request()))
    assert fake.calls[0][2]["stop"] == ["###"]


def test_a_prompt_without_messages_is_prompted_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer=" Paris ")
    response = asyncio.run(provider.complete(_request(None, system="S", prompt="Q: capital?\nA:")))
    assert fake.calls[0][1] == "S\n\nQ: capital?\nA:" and "stop" not in fake.calls[0][2]
    assert response.text == " Paris "  # a completion's text is not touched


def test_a_chat_model_gets_the_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=True, answer="4")
    response = asyncio.run(provider.complete(_request(system="You are terse.")))
    ((kind, messages, _),) = fake.calls
    assert kind == "chat" and messages == chat_turns(_request(system="You are terse."))
    assert response.text == "4"


def test_the_local_provider_refuses_tools() -> None:
    variant = Variant(id="v", model="local/gemma-3-270m", tools=(ToolSpec(name="lookup"),))
    with pytest.raises(ConfigError, match="does not call tools"):
        local.LocalProvider.check(variant)


@pytest.mark.slow
def test_the_embedded_base_model_answers_a_plain_text_conversation() -> None:
    pytest.importorskip("llama_cpp")
    provider = local.LocalProvider(
        Variant(id="v", model="local/gemma-3-270m", params={"max_tokens": 24, "temperature": 0.0})
    )
    response = asyncio.run(provider.complete(_request(system="You are terse.")))
    assert isinstance(response.text, str) and response.notice is None
    assert "User:" not in response.text and response.text == response.text.strip()
    assert response.tokens_in is not None and response.tokens_in > 10
