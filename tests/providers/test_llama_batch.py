"""The continuous-batching engine on the real embedded model (Gemma 3 270M): sequences decoded together end
on their own stop strings and lengths, an error or a cancellation touches one request only, and outputs
repeat for the same seed and batch make-up. A few tokens each, to stay fast."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mendoza.errors import ProviderError
from mendoza.providers.llama_batch import BatchEngine, Completion, Generation, Sampling

pytest.importorskip("llama_cpp")

CAPITALS = "Q: What is the capital of France?\nA: Paris\nQ: What is the capital of Italy?\nA:"
GREEDY = Sampling(seed=1, temperature=0.0)


@pytest.fixture(scope="module")
def llama_thread() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-llama") as executor:
        yield executor


@pytest.fixture
def make_engine(gemma_path: Path, llama_thread: ThreadPoolExecutor) -> Iterator[Callable[..., BatchEngine]]:
    """A factory of fresh engines on the shared model (each closed after the test)."""
    from mendoza.providers.llama_model import load_model

    made: list[BatchEngine] = []

    def make(slots: int = 4, n_ctx: int = 256) -> BatchEngine:
        engine = BatchEngine(load_model(gemma_path), llama_thread, slots=slots, n_ctx=n_ctx, n_threads=1)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def _tokens(engine: BatchEngine, text: str) -> tuple[int, ...]:
    return tuple(engine.model.tokenize(text, add_bos=True))


def test_sequences_decoded_together_end_on_their_own_stops_and_lengths(make_engine: Callable[..., BatchEngine]) -> None:
    engine = make_engine(slots=4)
    prompt = _tokens(engine, CAPITALS)

    async def main() -> list[Completion]:
        return list(
            await asyncio.gather(
                engine.generate(Generation(prompt, 12, ("\n",), GREEDY)),  # ends at the line's end
                engine.generate(Generation(prompt, 12, ("Q:",), GREEDY)),  # ends at the next question
                engine.generate(Generation(prompt, 3, (), GREEDY)),  # ends at max_tokens
                engine.generate(Generation(prompt, 12, (), GREEDY)),  # runs the longest
            )
        )

    line, question, short, long = asyncio.run(main())
    assert line.text.strip() == "Rome" and line.finish_reason == "stop"
    assert question.text.startswith(line.text + "\n") and "Q:" not in question.text
    assert question.finish_reason == "stop" and question.completion_tokens > line.completion_tokens
    assert short.finish_reason == "length" and short.completion_tokens == 3
    assert long.finish_reason == "length" and long.completion_tokens == 12 and "\nQ:" in long.text
    assert all(done.prompt_tokens == len(prompt) for done in (line, question, short, long))
    # They shared decode steps: far fewer steps than tokens generated one sequence at a time.
    assert engine.steps < 1 + 12 + 12


def test_an_error_in_one_sequence_fails_that_request_only(make_engine: Callable[..., BatchEngine]) -> None:
    engine = make_engine(slots=3, n_ctx=256)  # llama.cpp's smallest context per sequence
    good = _tokens(engine, CAPITALS)
    too_long = _tokens(engine, "word " * 300)

    async def main() -> list[Completion | BaseException]:
        return list(
            await asyncio.gather(
                engine.generate(Generation(good, 4, ("\n",), GREEDY)),
                engine.generate(Generation(too_long, 4, (), GREEDY)),
                engine.generate(Generation((*good[:-1], engine.model.n_vocab + 5), 4, (), GREEDY)),
                engine.generate(Generation(good, 2, (), GREEDY)),
                return_exceptions=True,
            )
        )

    first, long, bad_token, last = asyncio.run(main())
    assert isinstance(long, ProviderError) and "exceed context window of 256" in str(long)
    assert isinstance(bad_token, ProviderError) and "not in the model's vocabulary" in str(bad_token)
    assert isinstance(first, Completion) and first.text.strip() == "Rome"
    assert isinstance(last, Completion) and last.completion_tokens == 2


def test_a_cancelled_request_frees_its_slot(make_engine: Callable[..., BatchEngine]) -> None:
    engine = make_engine(slots=2, n_ctx=512)
    prompt = _tokens(engine, "Once upon a time, in a village by the sea,")
    endless = Generation(prompt, 400, (), Sampling(seed=3, temperature=1.0))

    async def main() -> Completion:
        for _ in range(2):  # both slots busy with long generations, then given up on (a timeout)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(asyncio.gather(engine.generate(endless), engine.generate(endless)), 0.5)
        return await asyncio.wait_for(engine.generate(Generation(prompt, 3, (), GREEDY)), 60)

    served = asyncio.run(main())
    assert served.completion_tokens == 3
    assert engine.tokens_decoded < 2 * 400  # the cancelled ones stopped long before their 400 tokens


def test_the_same_seeds_and_batch_make_up_give_the_same_text(make_engine: Callable[..., BatchEngine]) -> None:
    prompts = [CAPITALS, "Once upon a time, in a village by the sea,", "List three uses of a paperclip:\n1."]

    def batch_of_three() -> list[str]:
        engine = make_engine(slots=3)  # a fresh engine: nothing cached from an earlier batch

        async def main() -> list[Completion]:
            generations = [
                Generation(_tokens(engine, text), 10, (), Sampling(seed=40 + i, temperature=1.0))
                for i, text in enumerate(prompts)
            ]
            return list(await asyncio.gather(*(engine.generate(generation) for generation in generations)))

        return [done.text for done in asyncio.run(main())]

    first = batch_of_three()
    assert batch_of_three() == first
    assert len(set(first)) == 3 and all(text for text in first)


@pytest.mark.slow
def test_one_slot_decodes_like_llama_cpp_pythons_create_completion(
    make_engine: Callable[..., BatchEngine], gemma_path: Path
) -> None:
    from llama_cpp import Llama

    engine = make_engine(slots=1, n_ctx=2048)
    raw = Llama(model_path=str(gemma_path), n_ctx=2048, n_threads=1, n_threads_batch=1, verbose=False)
    try:
        for seed, text in enumerate([CAPITALS, "The three laws of thermodynamics are"]):
            expected: Any = raw.create_completion(text, seed=seed, max_tokens=16, temperature=0.8)
            sampling = Sampling(seed=seed, temperature=0.8)
            done = asyncio.run(engine.generate(Generation(_tokens(engine, text), 16, (), sampling)))
            assert done.text == expected["choices"][0]["text"]
            assert (done.prompt_tokens, done.completion_tokens) == (
                expected["usage"]["prompt_tokens"],
                expected["usage"]["completion_tokens"],
            )
    finally:
        raw.close()


def test_prompts_that_start_alike_read_their_common_start_once(make_engine: Callable[..., BatchEngine]) -> None:
    engine = make_engine(slots=4)
    pairs = [("France", "Paris"), ("Spain", "Madrid"), ("Germany", "Berlin"), ("Japan", "Tokyo")]
    few_shot = "".join(f"Q: What is the capital of {country}?\nA: {city}\n" for country, city in pairs)
    questions = ["Italy", "Egypt", "Canada", "Peru"]
    prompts = [_tokens(engine, f"{few_shot}Q: What is the capital of {country}?\nA:") for country in questions]

    async def main() -> list[Completion]:
        return list(await asyncio.gather(*(engine.generate(Generation(p, 3, ("\n",), GREEDY)) for p in prompts)))

    answers = asyncio.run(main())
    # One slot read the examples; the other three waited a step and copied its cache.
    assert engine.prefix_copies == 3
    assert engine.tokens_decoded < len(prompts[0]) + 3 * 12 + 4 * 3
    assert [answer.text.strip() for answer in answers][:1] == ["Rome"]
    assert all(answer.text.strip() for answer in answers)
    assert [answer.prompt_tokens for answer in answers] == [len(prompt) for prompt in prompts]


def test_repeats_of_one_prompt_read_it_once_and_sample_on_their_own(make_engine: Callable[..., BatchEngine]) -> None:
    engine = make_engine(slots=4)
    prompt = _tokens(engine, CAPITALS)

    async def main(sampling: list[Sampling]) -> list[Completion]:
        return list(await asyncio.gather(*(engine.generate(Generation(prompt, 6, (), s)) for s in sampling)))

    greedy = asyncio.run(main([GREEDY] * 4))
    # One slot read the prompt (and computed its last logits); the three others took its cache and logits.
    assert engine.shared_prompts == 3
    assert engine.tokens_decoded <= len(prompt) + 4 * 5
    # A follower continues from a true copy of the leader's cache: greedy decoding gives the leader's text.
    assert len({done.text for done in greedy}) == 1 and greedy[0].text.strip().startswith("Rome")
    assert all(done.prompt_tokens == len(prompt) and done.completion_tokens == 6 for done in greedy)

    seeds = [Sampling(seed=seed, temperature=1.5, top_k=0, top_p=1.0, min_p=0.0) for seed in range(4)]
    sampled = asyncio.run(main(seeds))  # each with its own seed: their own texts
    assert len({done.text for done in sampled}) > 1


def test_a_leader_given_up_on_hands_what_it_read_to_its_followers(
    make_engine: Callable[..., BatchEngine], llama_thread: ThreadPoolExecutor
) -> None:
    engine = make_engine(slots=3, n_ctx=1024)
    prompt = _tokens(engine, "Notes. " + "The weather was fine and the roads were dry. " * 50 + CAPITALS)
    assert engine.n_batch < len(prompt) < 2 * 512  # read in two steps
    gates = [threading.Event(), threading.Event()]

    async def main() -> list[Completion | BaseException]:
        llama_thread.submit(gates[0].wait)  # hold the llama thread until all three are queued
        requests = [asyncio.ensure_future(engine.generate(Generation(prompt, 4, ("\n",), GREEDY))) for _ in range(3)]
        await asyncio.sleep(0)
        llama_thread.submit(gates[1].wait)  # and again after the first step (the leader's first 512 tokens)
        gates[0].set()
        while engine.steps < 1:
            await asyncio.sleep(0.01)
        requests[0].cancel()  # the leader, halfway through the prompt its followers wait on
        await asyncio.sleep(0)
        gates[1].set()
        return list(await asyncio.gather(*requests, return_exceptions=True))

    cancelled, *served = asyncio.run(main())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert all(isinstance(done, Completion) and done.prompt_tokens == len(prompt) for done in served)
    assert len({done.text for done in served if isinstance(done, Completion)}) == 1
    # The first follower took the leader's 512 tokens and read the rest; the second followed it.
    assert (engine.prefix_copies, engine.shared_prompts) == (1, 1)
    assert engine.tokens_decoded < len(prompt) + 2 * 4
