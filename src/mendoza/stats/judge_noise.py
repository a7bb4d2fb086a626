"""How much of the spread of judged scores is the judge's own noise: a nested split of the variance.

A judge that grades each output several times (``judge_repeats``) gives scores nested three deep: repeats of the
judge within a sample, samples (the model's repeats) within a case, and cases. The variance splits into
``within_sample`` (the judge disagreeing with itself on the same output), ``within_case`` (the model under test
answering the same case differently) and ``between_cases`` (some cases are harder), by the method of moments
applied level by level (:func:`~mendoza.stats.variance.variance_components`), each floored at 0.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_scores, cluster_index
from mendoza.stats.variance import variance_components

__all__ = ["NestedVariance", "nested_variance"]


class NestedVariance(NamedTuple):
    """The variance of judged scores split three ways (nan where the data cannot tell a part apart)."""

    between_cases: float
    within_case: float
    within_sample: float
    n_cases: int
    n_samples: int

    @property
    def judge_share(self) -> float:
        """The judge's own noise as a share of the total variance (nan when it cannot be told)."""
        parts = (self.between_cases, self.within_case, self.within_sample)
        if any(math.isnan(part) for part in parts) or sum(parts) <= 0.0:
            return math.nan
        return self.within_sample / sum(parts)


def nested_variance(
    scores: npt.ArrayLike, samples: Sequence[Hashable], cases: Sequence[Hashable]
) -> NestedVariance:
    """Split the variance of ``scores`` (one per judge repeat) into between cases, within a case (between the
    model's samples) and within a sample (between the judge's repeats).

    ``samples[k]`` and ``cases[k]`` say which sample and case score ``k`` belongs to (a sample lies in one
    case). ``within_sample`` is the mean variance of the repeats of a sample; ``within_case`` the variance of
    sample means within a case less the part the judge's noise explains (``within_sample * mean(1/R)``);
    ``between_cases`` the variance of the true case means, from the sample means.
    """
    values = as_scores(scores)
    n = int(values.size)
    if len(samples) != n or len(cases) != n:
        raise ValueError(f"samples and cases need one label per score: got {len(samples)}, {len(cases)} for {n}")
    sample_index, n_samples = cluster_index(samples, n)
    if n_samples == 0:
        return NestedVariance(math.nan, math.nan, math.nan, 0, 0)
    judge = variance_components(values, sample_index)
    sizes = np.bincount(sample_index, minlength=n_samples).astype(np.float64)
    means = np.bincount(sample_index, weights=values, minlength=n_samples) / sizes
    sample_case: list[Hashable] = [None] * n_samples
    for position, sample in enumerate(sample_index):
        sample_case[int(sample)] = cases[position]
    case_index, n_cases = cluster_index(sample_case, n_samples)
    model = variance_components(means, case_index)
    within_sample = judge.within
    within_case = model.within
    if not math.isnan(within_case) and not math.isnan(within_sample):
        within_case = max(0.0, within_case - within_sample * float(np.mean(1.0 / sizes)))
    return NestedVariance(model.between, within_case, within_sample, n_cases, n_samples)
