"""The openai provider against a real OpenAI-compatible server on 127.0.0.1: llama.cpp's own server
(llama-cpp-python[server]) serving the same GGUF as the embedded model."""

from __future__ import annotations

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.store import Store

pytestmark = pytest.mark.slow


def _suite(base_url: str, api: str) -> Suite:
    return Suite(
        name="capitals-over-http",
        cases=(
            Case(id="italy", vars={"country": "Italy"}, expected="Rome"),
            Case(id="spain", vars={"country": "Spain"}, expected="Madrid"),
        ),
        variants=(
            Variant(
                id=f"server-{api}",
                model="openai/gemma-3-270m",
                base_url=base_url,
                prompt="Q: What is the capital of France?\nA: Paris\nQ: What is the capital of "
                "{{ country }}?\nA:",
                params={"api": api, "temperature": 0.2, "max_tokens": 4, "stop": ["\n"]},
                concurrency=2,
            ),
        ),
        graders=(GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),),
        repeats=2,
    )


def test_completions_endpoint_through_the_openai_provider(llama_server: str, store: Store) -> None:
    run = run_suite(_suite(llama_server, "completions"), db=store)
    samples = list(store.samples.iterate(run.id))
    assert run.status == "complete" and len(samples) == 4
    assert all(s.error is None and s.output for s in samples), [s.error for s in samples]
    assert all(s.tokens_in and s.tokens_out for s in samples)
    assert sum(bool(s.passed) for s in samples) >= 2


def test_chat_endpoint_returns_text(llama_server: str, store: Store) -> None:
    run = run_suite(_suite(llama_server, "chat"), db=store)
    samples = list(store.samples.iterate(run.id))
    assert all(s.error is None and s.output is not None for s in samples), [s.error for s in samples]


def test_a_server_that_is_down_gives_errors_on_samples_not_a_crash(store: Store) -> None:
    suite = _suite("http://127.0.0.1:9/v1", "completions").model_copy(update={"max_retries": 1})
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id))
    assert run.status == "complete"
    assert all(s.error and s.attempts == 2 for s in samples)
