"""What chat providers share (providers/chat.py): a request as chat turns or plain text, tool calls as steps;
and the embedded model's use of them, with llama.cpp replaced by a recording stand-in (no model is loaded)."""

from __future__ import annotations

import asyncio
import json
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
from mendoza.providers.llama_batch import Completion, Generation
from mendoza.providers.llama_model import ChatPrompt

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


class _FakeModel:
    """Records the text the provider tokenizes and the conversations it formats as chat."""

    bos = 2

    def __init__(self, chat_template: bool) -> None:
        self.chat_template = "{{ messages }}" if chat_template else None
        self.texts: list[str] = []
        self.chats: list[list[dict[str, Any]]] = []

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        self.texts.append(text)
        return [7] * max(1, len(text) // 4)

    def chat_prompt(self, messages: list[dict[str, Any]]) -> ChatPrompt:
        self.chats.append(messages)
        return ChatPrompt("<chat>", True, ("<eos>",), guessed=self.chat_template is None)


class _FakeEngine:
    """Stands in for the batching engine: records each generation; answers with ``answer``."""

    def __init__(self, chat_template: bool, answer: str) -> None:
        self.model = _FakeModel(chat_template)
        self.answer = answer
        self.generations: list[Generation] = []

    async def generate(self, generation: Generation) -> Completion:
        self.generations.append(generation)
        return Completion(self.answer, len(generation.tokens), 1, "stop")


def _local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chat_template: bool, answer: str, **params: Any
) -> tuple[local.LocalProvider, _FakeEngine]:
    model_file = tmp_path / "tiny.gguf"
    model_file.write_bytes(b"GGUF")
    fake = _FakeEngine(chat_template, answer)
    monkeypatch.setattr(local, "engine_for", lambda *args: fake)
    variant = Variant(id="v", model=f"local/{model_file}", system="You are terse.", params=params)
    return local.LocalProvider(variant), fake


def test_a_base_model_gets_the_conversation_as_plain_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer=" 4\n")
    response = asyncio.run(provider.complete(_request(system="You are terse.")))
    (generation,) = fake.generations
    assert fake.model.texts == [
        "System: You are terse.\n\nUser: Hello\n\nAssistant: Hi.\n\nUser: What is 2 + 2?\n\nAssistant:"
    ]
    assert generation.stop == ("\nUser:",) and generation.sampling.seed == 5
    assert response.text == "4" and response.notice is None  # the format's spaces and newlines stripped


def test_a_base_models_own_stop_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer="x", stop=["###"])
    asyncio.run(provider.complete(_request()))
    assert fake.generations[0].stop == ("###",)


def test_a_prompt_without_messages_is_prompted_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer=" Paris ", temperature=0.3)
    response = asyncio.run(provider.complete(_request(None, system="S", prompt="Q: capital?\nA:")))
    (generation,) = fake.generations
    assert fake.model.texts == ["S\n\nQ: capital?\nA:"] and generation.stop == ()
    assert generation.max_tokens == 128 and generation.sampling.temperature == 0.3
    assert response.text == " Paris "  # a completion's text is not touched


def test_a_chat_model_gets_the_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=True, answer="4", stop="END")
    response = asyncio.run(provider.complete(_request(system="You are terse.")))
    (generation,) = fake.generations
    assert fake.model.chats == [chat_turns(_request(system="You are terse."))]
    # The chat format's own stop joins the variant's; chat completions' defaults (llama-cpp-python's) apply.
    assert generation.stop == ("END", "<eos>") and generation.sampling.temperature == 0.2
    assert generation.sampling.repeat_penalty == 1.1
    assert response.text == "4" and response.notice is None


def test_a_chat_prompt_to_a_model_without_a_template_is_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, fake = _local(tmp_path, monkeypatch, chat_template=False, answer="hi", api="chat")
    response = asyncio.run(provider.complete(_request()))
    assert fake.model.chats and response.notice == local.GUESSED_CHAT_TEMPLATE


def test_the_local_providers_engine_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ({"slots": 0}, {"slots": "many"}, {"n_threads": True}, {"n_ctx": -5}):
        with pytest.raises(ConfigError, match=f"params.{next(iter(bad))} must be a whole number"):
            _local(tmp_path, monkeypatch, chat_template=False, answer="", **bad)


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
