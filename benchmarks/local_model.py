"""Local model: tokens/s of mendoza's ``local`` provider against raw ``llama-cpp-python`` on the same GGUF,
prompts, seeds and settings, in one process.

mendoza's side is a whole run (``api.run_suite``: provider on a worker thread, run and samples in the store)
with one slot (``slots: 1``: the batching engine decoding one sequence at a time);
the raw side calls ``Llama.create_completion`` in a loop. Rounds alternate A B, B A, ... and each round's
two halves make a pair, so that a machine getting slower or faster during the benchmark weighs on both sides
alike; the ratio is the median of the pairs' ratios (a burst of other work on the machine spoils one pair,
not the figure). With the same seeds both sides generate the same tokens, which the benchmark checks.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import Settings, rate
from benchmarks.table import Row
from mendoza import api
from mendoza.core import Suite, sample_seed
from mendoza.store import Store

__all__ = ["run"]

NAME = "local model"

_PROMPTS = [
    "Q: What is the capital of France?\nA:",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.\n\n",
    "Translate to French: The weather is nice today.\nFrench:",
    "List three uses of a paperclip:\n1.",
    "Customer ticket: 'I was charged twice for my order.'\nQueue (billing, technical, account, shipping):",
    "def fibonacci(n):\n    ",
    "The three laws of thermodynamics are",
    "Once upon a time, in a village by the sea,",
]


def _suite(folder: Path, prompts: list[str], params: dict[str, Any]) -> Suite:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "suite": "bench-local",
        "seed": 1234,
        "cases": [{"id": f"p{i}", "text": text} for i, text in enumerate(prompts)],
        "variants": [
            {"id": "local", "model": "local/gemma-3-270m", "prompt": "{{ text }}", "params": params}
        ],
        "repeats": 1,
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return api.load_suite(path)


def run(settings: Settings) -> list[Row]:
    """Alternate rounds of mendoza and raw llama.cpp; compare tokens/s and check the outputs agree."""
    if not settings.local_model:
        return [Row(NAME, "tokens/s vs raw llama-cpp-python", "skipped (--no-local-model)")]
    try:
        from llama_cpp import Llama

        from mendoza.providers.local import resolve_model_path

        path = resolve_model_path("gemma-3-270m")
    except Exception as exc:  # the extra is optional: say so in the table rather than fail the command
        return [Row(NAME, "tokens/s vs raw llama-cpp-python", f"skipped: {exc}")]

    threads = os.cpu_count() or 1
    n_ctx, max_tokens, temperature = 2048, settings.size(48, 16), 0.8
    prompts = _PROMPTS[: settings.size(6, 2)]
    rounds = settings.size(6, 2)
    params = {
        "api": "completion",
        "n_ctx": n_ctx,
        "n_threads": threads,
        "slots": 1,  # one sequence at a time, as raw create_completion decodes (batches: batched_local.py)
        "max_tokens": max_tokens,
        "temperature": temperature,
    }
    folder = settings.workdir / "local"
    suite = _suite(folder, prompts, params)
    seeds = [sample_seed(suite.seed, case.id, 0) for case in suite.cases]
    raw = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=False)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-llama")

    def mendoza_round(store: Store) -> tuple[float, int, list[str]]:
        started = time.perf_counter()
        finished = api.run_suite(suite, db=store, use_cache=False)
        seconds = time.perf_counter() - started
        samples = list(store.samples.iterate(finished.id))
        by_case = {sample.case_id: sample for sample in samples}
        if len(samples) != len(prompts) or any(sample.error for sample in samples):
            raise RuntimeError(f"the local provider failed: {[s.error for s in samples if s.error]}")
        texts = [by_case[case.id].output or "" for case in suite.cases]
        return seconds, sum(sample.tokens_out or 0 for sample in samples), texts

    def generate_raw() -> tuple[int, list[str]]:
        texts, tokens = [], 0
        for prompt, seed in zip(prompts, seeds, strict=True):
            result: Any = raw.create_completion(
                prompt, max_tokens=max_tokens, temperature=temperature, seed=seed
            )
            texts.append(result["choices"][0]["text"])
            tokens += result["usage"]["completion_tokens"]
        return tokens, texts

    def raw_round() -> tuple[float, int, list[str]]:
        # Always the same thread, as a script calling llama.cpp would: llama.cpp (built with OpenMP) keeps a
        # team of spinning threads per calling thread, and a call from a new thread competes with them.
        started = time.perf_counter()
        tokens, texts = worker.submit(generate_raw).result()
        return time.perf_counter() - started, tokens, texts

    totals = {"mendoza": [0.0, 0], "raw": [0.0, 0]}
    ratios: list[float] = []
    outputs: dict[str, list[str]] = {}
    with Store(folder / "mendoza.db") as store:
        mendoza_round(store)  # load the model (once per process, as in a real run) and warm both sides up
        raw_round()
        for index in range(rounds):
            order = ("mendoza", "raw") if index % 2 == 0 else ("raw", "mendoza")
            pair: dict[str, float] = {}
            for side in order:
                seconds, tokens, texts = mendoza_round(store) if side == "mendoza" else raw_round()
                totals[side][0] += seconds
                totals[side][1] += tokens
                outputs[side] = texts
                pair[side] = rate(tokens, seconds)
            ratios.append(pair["mendoza"] / pair["raw"] if pair["raw"] else 0.0)
    worker.shutdown()
    raw.close()

    mendoza_rate = rate(totals["mendoza"][1], totals["mendoza"][0])
    raw_rate = rate(totals["raw"][1], totals["raw"][0])
    ratio = statistics.median(ratios)
    same = outputs["mendoza"] == outputs["raw"]
    work = f"{len(prompts)} prompts x {rounds} rounds, {max_tokens} tokens, {threads} threads"
    return [
        Row(
            NAME,
            f"tokens/s, Gemma 3 270M ({work})",
            f"{mendoza_rate:.1f}",
            f"{raw_rate:.1f} (raw llama-cpp-python)",
            f"{ratio:.1%} (median of {rounds} pairs)",
            ">= 95%",
            ratio >= 0.95,
        ),
        Row(NAME, "same tokens as raw llama.cpp (same seeds)", "yes" if same else "no", ok=None),
    ]
