"""The cache of model calls must never turn repeats into one output."""

from __future__ import annotations

from mendoza.calls.cache_keys import cache_key, judge_cache_key
from mendoza.core import ModelRequest, sample_seed

IDENTITY = {"model": "openai/gpt-x", "base_url": None}


def _request(prompt: str = "hi", seed: int = 1, **params: object) -> ModelRequest:
    return ModelRequest(prompt, {}, params, seed)


def test_same_call_same_key() -> None:
    assert cache_key(IDENTITY, _request(temperature=0.5), 0) == cache_key(
        IDENTITY, _request(temperature=0.5), 0
    )


def test_every_repeat_has_its_own_key_even_with_the_same_seed() -> None:
    keys = {cache_key(IDENTITY, _request(seed=1), repeat) for repeat in range(10)}
    assert len(keys) == 10


def test_repeats_get_distinct_seeds() -> None:
    assert len({sample_seed(0, "case-1", repeat) for repeat in range(100)}) == 100
    assert sample_seed(0, "case-1", 3) == sample_seed(0, "case-1", 3)
    assert sample_seed(0, "case-1", 3) != sample_seed(1, "case-1", 3)


def test_everything_that_decides_the_output_is_in_the_key() -> None:
    base = cache_key(IDENTITY, _request(), 0)
    assert cache_key(IDENTITY, _request(prompt="hello"), 0) != base
    assert cache_key(IDENTITY, _request(seed=2), 0) != base
    assert cache_key(IDENTITY, _request(temperature=0.1), 0) != base
    assert cache_key({"model": "openai/gpt-y", "base_url": None}, _request(), 0) != base
    assert cache_key(IDENTITY, ModelRequest("hi", {}, {}, 1, system="be brief"), 0) != base


def test_vars_count_only_for_calls_without_a_prompt() -> None:
    no_prompt = [cache_key(IDENTITY, ModelRequest(None, {"q": q}, {}, 1), 0) for q in ("a", "b")]
    assert no_prompt[0] != no_prompt[1]
    with_prompt = [cache_key(IDENTITY, ModelRequest("p", {"q": q}, {}, 1), 0) for q in ("a", "b")]
    assert with_prompt[0] == with_prompt[1]


# Caches on disk were written with these keys: a change to either shape makes every one of them miss.


def test_a_sample_key_is_what_it_always_was() -> None:
    assert cache_key(IDENTITY, ModelRequest("hi", {}, {"temperature": 0.5}, 1, system="be brief"), 2) == (
        "5f6b1cf87516ac00"
    )
    assert cache_key(IDENTITY, ModelRequest(None, {"q": "a"}, {}, 1), 0) == "13dcb8f43b361bd9"


def test_a_judge_key_is_what_it_always_was() -> None:
    identity = {"model": "mock", "base_url": None}
    assert judge_cache_key(identity, "Is it good?", {"temperature": 0.0}, 42, 1, 0) == "0ff81a5bf3d1bbc2"


def test_a_judge_key_tells_repeats_and_re_asks_apart() -> None:
    keys = {judge_cache_key(IDENTITY, "p", {}, 1, repeat, attempt) for repeat in range(3) for attempt in range(2)}
    assert len(keys) == 6
