"""A grader measured against human labels: confusion matrix, sensitivity and specificity, and the pass rate
corrected for the grader's error rates (Rogan & Gladen 1978).

Humans are the reference: a sample a person passed is a *positive*. Sensitivity is the share of positives the
grader passes, specificity the share of negatives it fails. A grader with known error rates that passes a
share ``p`` of all samples implies a true pass rate ``(p + specificity - 1) / (sensitivity + specificity - 1)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from mendoza.stats._checks import as_count, check_confidence
from mendoza.stats.intervals import Interval
from mendoza.stats.quantiles import normal_quantile

__all__ = ["Confusion", "confusion", "rogan_gladen", "rogan_gladen_interval"]


class Confusion(NamedTuple):
    """A grader's verdicts against the human ones: true/false positives and negatives (human = truth)."""

    true_positive: int
    false_negative: int
    false_positive: int
    true_negative: int

    @property
    def n(self) -> int:
        """How many samples both judged."""
        return self.true_positive + self.false_negative + self.false_positive + self.true_negative

    @property
    def positives(self) -> int:
        """Samples the humans passed."""
        return self.true_positive + self.false_negative

    @property
    def negatives(self) -> int:
        """Samples the humans failed."""
        return self.false_positive + self.true_negative

    @property
    def agreement(self) -> float:
        """Share of samples on which the grader and the humans agree (nan when there are none)."""
        return (self.true_positive + self.true_negative) / self.n if self.n else math.nan

    @property
    def sensitivity(self) -> float:
        """Share of the human passes the grader also passes (nan without any)."""
        return self.true_positive / self.positives if self.positives else math.nan

    @property
    def specificity(self) -> float:
        """Share of the human failures the grader also fails (nan without any)."""
        return self.true_negative / self.negatives if self.negatives else math.nan


def confusion(human: Sequence[bool], grader: Sequence[bool]) -> Confusion:
    """The confusion matrix of ``grader``'s verdicts against ``human``'s on the same samples."""
    if len(human) != len(grader):
        raise ValueError(f"human and grader must judge the same samples: got {len(human)} and {len(grader)}")
    tp = sum(1 for h, g in zip(human, grader, strict=True) if h and g)
    fn = sum(1 for h, g in zip(human, grader, strict=True) if h and not g)
    fp = sum(1 for h, g in zip(human, grader, strict=True) if not h and g)
    return Confusion(tp, fn, fp, len(human) - tp - fn - fp)


def _proportion(value: float, name: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return number


def rogan_gladen(observed: float, sensitivity: float, specificity: float) -> float:
    """The true pass rate implied by an observed one and the grader's error rates, clipped to [0, 1]:
    ``(observed + specificity - 1) / (sensitivity + specificity - 1)``. nan when the grader is no better than
    chance (``sensitivity + specificity <= 1``): its verdicts then say nothing about the true rate."""
    p = _proportion(observed, "observed")
    se = _proportion(sensitivity, "sensitivity")
    sp = _proportion(specificity, "specificity")
    youden = se + sp - 1.0
    if youden <= 0.0:
        return math.nan
    return min(1.0, max(0.0, (p + sp - 1.0) / youden))


def rogan_gladen_interval(
    observed: float,
    observed_se: float,
    sensitivity: float,
    n_positive: int,
    specificity: float,
    n_negative: int,
    confidence: float = 0.95,
) -> Interval:
    """The Rogan-Gladen corrected pass rate with a delta-method confidence interval, clipped to [0, 1].

    With ``J = sensitivity + specificity - 1`` and the unclipped estimate ``t``, the variance is
    ``(observed_se^2 + t^2 Var(sens) + (1 - t)^2 Var(spec)) / J^2`` (Greenland 1996; Lang & Reiczigel 2014),
    where ``Var(sens) = s~(1 - s~) / (n_positive + 2)`` with ``s~ = (sens n_positive + 1) / (n_positive + 2)``,
    and likewise for specificity: the "add one pass and one failure" adjustment keeps a grader that was
    perfect on a few labels from getting an interval of zero width. ``observed_se`` is the standard error of
    the observed pass rate (clustered by case when cases repeat). The estimate is :func:`rogan_gladen`; when
    it is nan (a grader no better than chance) the interval is ``[0, 1]``.
    """
    level = check_confidence(confidence)
    positives = as_count(n_positive, "n_positive")
    negatives = as_count(n_negative, "n_negative")
    if observed_se < 0.0 or not math.isfinite(observed_se):
        raise ValueError(f"observed_se must be a finite number >= 0, got {observed_se!r}")
    estimate = rogan_gladen(observed, sensitivity, specificity)
    if math.isnan(estimate) or positives == 0 or negatives == 0:
        return Interval(estimate, 0.0, 1.0)
    youden = sensitivity + specificity - 1.0
    unclipped = (observed + specificity - 1.0) / youden
    sens_adjusted = (sensitivity * positives + 1.0) / (positives + 2.0)
    spec_adjusted = (specificity * negatives + 1.0) / (negatives + 2.0)
    variance = (
        observed_se**2
        + unclipped**2 * sens_adjusted * (1.0 - sens_adjusted) / (positives + 2.0)
        + (1.0 - unclipped) ** 2 * spec_adjusted * (1.0 - spec_adjusted) / (negatives + 2.0)
    ) / youden**2
    z = normal_quantile(0.5 + level / 2.0)
    half = z * math.sqrt(variance)
    return Interval(estimate, max(0.0, unclipped - half), min(1.0, unclipped + half))
