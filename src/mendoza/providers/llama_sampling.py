"""How one sequence picks its tokens: the settings (``Sampling``, ``Llama.create_completion``'s names and
defaults) and the llama.cpp sampler chain made from them, one per sequence, each with its own seed and state."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mendoza.providers.llama_model import LlamaModel

__all__ = ["Sampling", "sampler_chain"]


@dataclass(frozen=True, slots=True)
class Sampling:
    """How a sequence picks its tokens: ``Llama.create_completion``'s settings and defaults."""

    seed: int | None = None
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    typical_p: float = 1.0
    repeat_penalty: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    mirostat_mode: int = 0
    mirostat_tau: float = 5.0
    mirostat_eta: float = 0.1
    #: How many of the last tokens the repetition penalties look at (``Llama``'s ``last_n_tokens_size``).
    penalty_last_n: int = 64


def sampler_chain(model: LlamaModel, sampling: Sampling) -> Any:
    """A new llama.cpp sampler chain like ``Llama._init_sampler``'s, with ``sampling``'s own seed (a random one
    when it has none); the caller frees it (``llama_sampler_free``)."""
    llama_cpp = model.llama_cpp
    seed = sampling.seed if sampling.seed is not None else random.randrange(2**32)
    seed &= 0xFFFFFFFF
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add: Callable[[Any], None] = lambda sampler: llama_cpp.llama_sampler_chain_add(chain, sampler)  # noqa: E731
    add(
        llama_cpp.llama_sampler_init_penalties(
            model.n_vocab,
            sampling.penalty_last_n,
            sampling.repeat_penalty,
            sampling.frequency_penalty,
            sampling.presence_penalty,
        )
    )
    temperature = sampling.temperature
    if temperature < 0.0:
        add(llama_cpp.llama_sampler_init_dist(seed))
    elif temperature == 0.0:
        add(llama_cpp.llama_sampler_init_greedy())
    elif sampling.mirostat_mode == 1:
        add(
            llama_cpp.llama_sampler_init_mirostat(
                model.n_vocab, seed, sampling.mirostat_tau, sampling.mirostat_eta, 100
            )
        )
    elif sampling.mirostat_mode == 2:
        add(llama_cpp.llama_sampler_init_mirostat_v2(seed, sampling.mirostat_tau, sampling.mirostat_eta))
    else:
        add(llama_cpp.llama_sampler_init_top_k(sampling.top_k))
        add(llama_cpp.llama_sampler_init_typical(sampling.typical_p, 1))
        add(llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
        add(llama_cpp.llama_sampler_init_min_p(sampling.min_p, 1))
        add(llama_cpp.llama_sampler_init_temp(temperature))
        add(llama_cpp.llama_sampler_init_dist(seed))
    return chain
