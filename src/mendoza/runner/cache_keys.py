"""Keys of the cache of model calls.

A key covers everything that decides a model's output *and the repeat index*: the cache may spare a second
run the cost of a sample it already drew, but it must never turn ten repeats into one output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mendoza.core import ModelRequest, stable_hash

__all__ = ["cache_key"]


def cache_key(identity: Mapping[str, Any], request: ModelRequest, repeat: int) -> str:
    """The cache key of one call: model identity, prompt, system, params, seed and repeat index."""
    return stable_hash(
        {
            "model": dict(identity),
            "prompt": request.prompt,
            "system": request.system,
            "params": dict(request.params),
            "seed": request.seed,
            "repeat": repeat,
            "vars": None if request.prompt is not None else dict(request.vars),
        }
    )
