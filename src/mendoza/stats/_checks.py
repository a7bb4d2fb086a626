"""Input checks shared by the stats modules (private).

Every public function of ``mendoza.stats`` validates its input with these and raises ``ValueError`` with a
one-line message; callers higher up turn that into the project's own errors.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["as_count", "as_scores", "check_confidence", "check_probability", "cluster_index"]


def as_count(value: Any, name: str) -> int:
    """``value`` as a non-negative ``int`` (numpy integers and whole floats such as 54.0 accepted)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a whole number, not a bool")
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    try:
        count = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if count < 0:
        raise ValueError(f"{name} must be at least 0, got {count}")
    return count


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float strictly between 0 and 1."""
    level = float(confidence)
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return level


def check_probability(value: float, name: str) -> float:
    """``value`` as a float strictly between 0 and 1 (for alpha, power, q)."""
    level = float(value)
    if not 0.0 < level < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return level


def as_scores(scores: npt.ArrayLike, name: str = "scores") -> npt.NDArray[np.float64]:
    """``scores`` as a finite 1-D float array."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers (no nan or inf)")
    return array


def cluster_index(clusters: Iterable[Hashable], n: int) -> tuple[npt.NDArray[np.intp], int]:
    """Map arbitrary hashable labels to ``0..C-1`` (first-seen order); return the codes and ``C``."""
    codes: dict[Hashable, int] = {}
    index = np.fromiter((codes.setdefault(label, len(codes)) for label in clusters), dtype=np.intp)
    if index.size != n:
        raise ValueError(f"clusters must have one label per score: got {index.size} labels for {n} scores")
    return index, len(codes)
