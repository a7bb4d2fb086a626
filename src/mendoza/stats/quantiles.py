"""Quantiles of the standard normal and Student t distributions, the critical values of every interval.

They are what a report needs from SciPy, and ``scipy.stats`` costs about half a second to import, more than a
small report takes to compute: the normal quantile comes from the standard library (``statistics.NormalDist``,
accurate to about 1e-15), the t quantile from ``scipy.special.stdtrit``, the function ``scipy.stats.t.ppf``
itself calls, whose import is several times cheaper than ``scipy.stats``'s.
"""

from __future__ import annotations

from statistics import NormalDist

from mendoza.stats._lazy import scipy_special

__all__ = ["normal_quantile", "t_quantile"]

_STANDARD_NORMAL = NormalDist()


def normal_quantile(probability: float) -> float:
    """The ``probability`` quantile of the standard normal distribution (``scipy.stats.norm.ppf``);
    ``probability`` strictly between 0 and 1."""
    return _STANDARD_NORMAL.inv_cdf(probability)


def t_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t distribution with ``df`` degrees of freedom
    (``scipy.stats.t.ppf``)."""
    return float(scipy_special.stdtrit(df, probability))
