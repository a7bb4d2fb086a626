"""The embedded model for real: llama.cpp running Gemma 3 270M on the CPU."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, ModelRequest, Suite, Variant
from mendoza.errors import ConfigError
from mendoza.providers.local import LocalProvider, resolve_model_path
from mendoza.store import Store

pytestmark = pytest.mark.slow

PROMPT = "Q: What is the capital of France?\nA: Paris\nQ: What is the capital of Italy?\nA:"


def _complete(variant: Variant, seed: int, prompt: str = PROMPT) -> str:
    provider = LocalProvider(variant)
    response = asyncio.run(provider.complete(ModelRequest(prompt, {}, variant.params, seed)))
    assert response.tokens_in and response.tokens_in > 10
    assert response.tokens_out is not None and 0 < response.tokens_out <= variant.params["max_tokens"]
    return response.text


def test_generates_text_and_a_seed_makes_it_reproducible() -> None:
    variant = Variant(
        id="v",
        model="local/gemma-3-270m",
        prompt=PROMPT,
        params={"temperature": 1.0, "max_tokens": 8, "stop": ["\n"]},
    )
    first = _complete(variant, seed=11)
    assert first.strip()
    assert _complete(variant, seed=11) == first


def test_greedy_answer_is_sensible() -> None:
    variant = Variant(
        id="v",
        model="local/gemma-3-270m",
        prompt=PROMPT,
        params={"temperature": 0.0, "max_tokens": 4, "stop": ["\n"]},
    )
    assert "Rome" in _complete(variant, seed=0)


def test_model_by_path_and_unknown_params(gemma_path: Path) -> None:
    by_path = Variant(
        id="v", model=f"local/{gemma_path}", prompt=PROMPT, params={"max_tokens": 3, "temperature": 0}
    )
    assert _complete(by_path, seed=0).strip()
    with pytest.raises(ConfigError, match="unknown local model param"):
        LocalProvider(Variant(id="v", model="local/gemma-3-270m", prompt="x", params={"temprature": 0.5}))
    with pytest.raises(ConfigError, match="not found"):
        resolve_model_path("/nowhere/model.gguf")
    with pytest.raises(ConfigError, match="unknown local model"):
        resolve_model_path("llama-9000")


def test_a_short_real_run_is_stored_and_graded(store: Store) -> None:
    suite = Suite(
        name="capitals",
        cases=(
            Case(id="italy", vars={"country": "Italy"}, expected="Rome"),
            Case(id="spain", vars={"country": "Spain"}, expected="Madrid"),
        ),
        variants=(
            Variant(
                id="few-shot",
                model="local/gemma-3-270m",
                prompt="Q: What is the capital of France?\nA: Paris\nQ: What is the capital of "
                "{{ country }}?\nA:",
                params={"temperature": 0.3, "max_tokens": 4, "stop": ["\n"]},
            ),
        ),
        graders=(GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),),
        repeats=2,
    )
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id))
    assert run.status == "complete" and len(samples) == 4
    assert all(s.error is None and s.output is not None and s.latency_ms > 0 for s in samples)
    assert all(s.grades and s.grades[0].passed is not None for s in samples)
    assert sum(bool(s.passed) for s in samples) >= 2  # the model knows at least some capitals


def test_a_chat_prompt_to_a_model_without_a_chat_template_is_flagged(store: Store) -> None:
    variant = Variant(
        id="chat", model="local/gemma-3-270m", prompt="Say hi.", params={"api": "chat", "max_tokens": 2}
    )
    auto = Variant(id="auto", model="local/gemma-3-270m", prompt="Say hi.", params={"max_tokens": 2})
    suite = Suite(name="s", cases=(Case(id="a"),), variants=(variant, auto), cache=False,
                  graders=(GraderSpec(type="length", params={"max": 100}, name="short"),))
    from mendoza.report import build_report

    report = build_report(store, run_suite(suite, db=store).id)
    assert any("chat template guessed" in warning for warning in report.variant("chat").warnings)
    assert not any("chat template" in warning for warning in report.variant("auto").warnings)
