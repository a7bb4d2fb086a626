"""The mock provider: scripted outputs, pass rates, failures and delays."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import pytest

from mendoza.core import Message, ModelRequest, ModelResponse, Variant
from mendoza.errors import ConfigError, ProviderError, ProviderTimeout
from mendoza.providers.mock import MockProvider


def _mock(**params: Any) -> MockProvider:
    return MockProvider(Variant(id="v", model="mock/scripted", params=params))


def _request(
    seed: int = 0, prompt: str | None = "the prompt", messages: tuple[Message, ...] | None = None, **variables: Any
) -> ModelRequest:
    case_id = str(variables.pop("case_id", ""))
    return ModelRequest(prompt=prompt, vars=variables, params={}, seed=seed, case_id=case_id, messages=messages)


def _run(provider: MockProvider, request: ModelRequest) -> ModelResponse:
    return asyncio.run(provider.complete(request))


def _outcomes(provider: MockProvider, seeds: range, **variables: Any) -> list[str | ProviderError]:
    async def main() -> list[str | ProviderError]:
        results: list[str | ProviderError] = []
        for seed in seeds:
            try:
                results.append((await provider.complete(_request(seed, **variables))).text)
            except ProviderError as exc:
                results.append(exc)
        return results

    return asyncio.run(main())


def test_default_echoes_the_prompt_with_word_counts() -> None:
    response = _run(_mock(), _request(prompt="three little words"))
    assert (response.text, response.tokens_in, response.tokens_out) == ("three little words", 3, 3)
    assert _run(_mock(), _request(prompt=None)).text == "mock"


def test_output_is_a_template_over_the_vars() -> None:
    assert _run(_mock(output="Hi {{ name }}!"), _request(name="Ann")).text == "Hi Ann!"
    assert _run(_mock(output="plain {text"), _request()).text == "plain {text"
    with pytest.raises(ProviderError, match="name") as info:
        _run(_mock(output="Hi {{ name }}"), _request())
    assert not info.value.retryable


def test_outputs_are_chosen_by_seed_deterministically() -> None:
    provider = _mock(outputs=["a", "b", "c"])
    assert _outcomes(provider, range(6)) == ["a", "b", "c", "a", "b", "c"]
    assert _outcomes(_mock(outputs=["a", "b", "c"]), range(100, 106)) == _outcomes(provider, range(100, 106))


def test_pass_rate_frequency_over_many_seeds() -> None:
    provider = _mock(pass_rate=0.3, pass_output="yes", fail_output="no")
    outcomes = _outcomes(provider, range(4000))
    assert set(outcomes) == {"yes", "no"}
    assert outcomes.count("yes") / len(outcomes) == pytest.approx(0.3, abs=0.03)
    assert _outcomes(provider, range(4000)) == outcomes  # the same seeds give the same verdicts


def test_pass_rates_per_case() -> None:
    provider = _mock(pass_rates={"easy": 1.0, "hard": 0.0}, pass_rate=0.5)
    assert set(_outcomes(provider, range(50), case_id="easy")) == {"PASS"}
    assert set(_outcomes(provider, range(50), case_id="hard")) == {"FAIL"}
    other = _outcomes(provider, range(400), case_id="other")
    assert 0.4 < other.count("PASS") / 400 < 0.6


def test_fail_first_counts_attempts_per_seed() -> None:
    provider = _mock(fail_first=2)

    async def attempts(seed: int) -> list[bool]:
        results = []
        for _ in range(4):
            try:
                await provider.complete(_request(seed))
                results.append(True)
            except ProviderError as exc:
                assert exc.retryable and not isinstance(exc, ProviderTimeout)
                results.append(False)
        return results

    assert asyncio.run(attempts(1)) == [False, False, True, True]
    assert asyncio.run(attempts(2)) == [False, False, True, True]
    assert provider.attempts == {1: 4, 2: 4} and provider.calls == 8


@pytest.mark.parametrize(
    ("kind", "retryable", "retry_after", "timeout"),
    [("rate_limit", True, 1.5, False), ("server", True, None, False), ("timeout", True, None, True),
     ("fatal", False, None, False)],
)  # fmt: skip
def test_error_kinds(kind: str, retryable: bool, retry_after: float | None, timeout: bool) -> None:
    with pytest.raises(ProviderError) as info:
        _run(_mock(fail_always=True, error=kind, retry_after=1.5), _request())
    error = info.value
    assert error.retryable is retryable and isinstance(error, ProviderTimeout) is timeout
    assert error.retry_after == retry_after


def test_fail_rate_fails_a_seeded_fraction_every_time() -> None:
    provider = _mock(fail_rate=0.25, error="fatal")
    first = _outcomes(provider, range(2000))
    failed = [seed for seed, outcome in enumerate(first) if isinstance(outcome, ProviderError)]
    assert len(failed) / 2000 == pytest.approx(0.25, abs=0.03)
    again = _outcomes(provider, range(2000))
    assert [seed for seed, outcome in enumerate(again) if isinstance(outcome, ProviderError)] == failed


def test_delay_and_hang() -> None:
    start = time.perf_counter()
    _run(_mock(delay=0.05), _request())
    assert time.perf_counter() - start >= 0.05

    async def bounded() -> None:
        await asyncio.wait_for(_mock(hang=True).complete(_request()), 0.05)

    start = time.perf_counter()
    with pytest.raises(TimeoutError):
        asyncio.run(bounded())
    assert time.perf_counter() - start < 1.0


def test_cacheable_only_when_asked() -> None:
    assert _mock().cacheable is False and MockProvider.cacheable is False
    assert _mock(cacheable=True).cacheable is True and MockProvider.cacheable is False
    assert _mock(output="a").cache_identity() != _mock(output="b").cache_identity()


@pytest.mark.parametrize(
    "params",
    [
        {"error": "boom"},
        {"pass_rate": 1.5},
        {"outputs": []},
        {"delay": "slow"},
        {"delay": [1]},
        {"pass_rates": ["a"]},
        {"fail_first": "2"},
        {"retry_after": -1},
    ],
)
def test_bad_params_are_config_errors(params: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="variant 'v'"):
        _mock(**params)


def _turns(*said: str) -> tuple[Message, ...]:
    """A conversation whose user turns are ``said``, each answered "ok" but the last."""
    messages: list[Message] = []
    for text in said:
        messages += [Message(role="user", content=text), Message(role="assistant", content="ok")]
    return tuple(messages[:-1])


def test_in_a_conversation_answers_per_turn_then_by_the_other_rules() -> None:
    provider = _mock(turns=["Hello {{ name }}!", "second"], output="later")
    request = _request(prompt=None, name="Ann")
    conversations = (["a"], ["a", "b"], ["a", "b", "c"])
    answers = [_run(provider, replace(request, messages=_turns(*said))).text for said in conversations]
    assert answers == ["Hello Ann!", "second", "later"]
    # tokens in: every turn's words
    assert _run(provider, replace(request, messages=_turns("one two", "three"))).tokens_in == 4
    # without messages, turns play no part
    assert _run(provider, request).text == "later"


def test_in_a_conversation_the_default_answer_is_the_last_user_turn() -> None:
    response = _run(_mock(), _request(messages=_turns("hi", "what now")))
    assert response.text == "what now"


@pytest.mark.parametrize("turns", [[], "a", {"1": "a"}])
def test_turns_must_be_a_non_empty_list(turns: Any) -> None:
    with pytest.raises(ConfigError, match="'turns' must be a non-empty list"):
        _mock(turns=turns)
