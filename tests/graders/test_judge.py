"""A judge calls its model through the shared call path; how it prompts is the provider's to say."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from mendoza.calls import JudgeStyle, Provider
from mendoza.core import ModelRequest, ModelResponse, stable_hash
from mendoza.errors import GraderError
from mendoza.graders import judge as judge_module
from mendoza.graders.judge import Judge, JudgeSpec
from mendoza.providers.local import LocalProvider
from mendoza.providers.openai_compatible import OpenAIProvider
from mendoza.store import Store


def _key_written_before_the_shared_call_path(judge: Judge, prompt: str, seed: int, repeat: int) -> str:
    """The key judges wrote when they had a cache key of their own (graders/judge.py, Judge.ask)."""
    return stable_hash(
        {
            "kind": "judge",
            "judge": dict(judge.provider.cache_identity()),
            "prompt": prompt,
            "params": dict(judge.params),
            "seed": seed,
            "judge_repeat": repeat,
            "attempt": 0,
        }
    )


def test_a_judge_call_cached_before_the_change_still_hits(store: Store) -> None:
    judge = Judge(JudgeSpec(model="mock", params={"output": "FAIL", "cacheable": True}))
    key = _key_written_before_the_shared_call_path(judge, "Is it good?", 42, 1)
    store.cache.put_many([(key, ModelResponse(text="PASS, from an old cache"))])
    judge.use_cache(store.cache)
    assert asyncio.run(judge.ask("Is it good?", 42, repeat=1)) == "PASS, from an old cache"
    assert judge.calls == 0
    assert asyncio.run(judge.ask("Is it good?", 42, repeat=2)) == "FAIL" and judge.calls == 1


def test_a_judge_retries_like_the_runner_and_fails_as_a_grader_error() -> None:
    flaky = Judge(JudgeSpec(model="mock", params={"output": "PASS", "error": "server", "fail_first": 2}))
    assert asyncio.run(flaky.ask("q", 1)) == "PASS" and flaky.calls == 3
    fatal = Judge(JudgeSpec(model="mock", params={"error": "fatal", "fail_always": True}, name="strict"))
    with pytest.raises(GraderError, match="judge 'strict'"):
        asyncio.run(fatal.ask("q", 1))
    assert fatal.calls == 1
    spent = Judge(JudgeSpec(model="mock", max_retries=1, params={"error": "server", "fail_always": True}))
    with pytest.raises(GraderError):
        asyncio.run(spent.ask("q", 1))
    assert spent.calls == 2


def test_the_built_in_providers_say_how_they_judge() -> None:
    assert LocalProvider.judge_style({}) == "completion" and LocalProvider.judge_style({"api": "chat"}) == "instruction"
    assert LocalProvider.completion_judge_params["max_tokens"] == 6
    assert OpenAIProvider.judge_style({}) == "instruction"
    assert OpenAIProvider.judge_style({"api": "completions"}) == "completion"
    assert OpenAIProvider.with_json_mode({})["response_format"] == {"type": "json_object"}
    assert "response_format" not in OpenAIProvider.with_json_mode({"api": "completions"})
    assert OpenAIProvider.with_json_mode({"response_format": "mine"})["response_format"] == "mine"
    assert Provider.judge_style({}) == "instruction" and Provider.with_json_mode({"a": 1}) == {"a": 1}


class _BaseModelProvider(Provider):
    """A new provider of base models, with a JSON mode of its own: no edit to the judge makes it judge well."""

    name: ClassVar[str] = "basemodel"
    description: ClassVar[str] = "a test double"
    completion_judge_params: ClassVar[Mapping[str, Any]] = {"max_tokens": 3}
    seen: ClassVar[list[dict[str, Any]]] = []

    @classmethod
    def judge_style(cls, params: Mapping[str, Any]) -> JudgeStyle:
        return "completion"

    @classmethod
    def with_json_mode(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**params, "grammar": "json"}

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.seen.append(dict(request.params))
        return ModelResponse(text="PASS")


def test_a_new_provider_chooses_its_judge_style_and_json_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judge_module, "provider_class", lambda name: _BaseModelProvider)
    judge = Judge(JudgeSpec(model="basemodel/x", params={"temperature": 0.5}))
    assert judge.style == "completion" and judge.params == {"max_tokens": 3, "temperature": 0.5}
    asyncio.run(judge.ask("Answer in JSON.", 1))
    asyncio.run(judge.ask("Answer PASS or FAIL.", 1))
    assert _BaseModelProvider.seen == [
        {"max_tokens": 3, "temperature": 0.5, "grammar": "json"},
        {"max_tokens": 3, "temperature": 0.5},
    ]
    chat = Judge(JudgeSpec(model="basemodel/x", style="instruction"))
    assert chat.style == "instruction" and chat.params == {}


def test_a_judge_told_to_wait_too_long_fails_at_once_like_a_sample() -> None:
    # Before the shared call path a judge waited 120 s and asked again; now, like the runner, it says why.
    spec = JudgeSpec(model="mock", params={"error": "rate_limit", "retry_after": 3600, "fail_always": True})
    judge = Judge(spec)
    with pytest.raises(GraderError, match="max_retry_wait 120s"):
        asyncio.run(judge.ask("q", 1))
    assert judge.calls == 1
