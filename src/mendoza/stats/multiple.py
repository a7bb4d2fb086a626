"""Many tests at once: Benjamini-Hochberg control of the false discovery rate.

A comparison that tests every case for a change will flag some by chance; controlling the false discovery rate
at ``q`` keeps the expected share of false flags among the flagged cases at most ``q`` (Benjamini & Hochberg
1995, valid for independent or positively dependent tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mendoza.stats._checks import check_probability
from mendoza.stats._lazy import scipy_stats as _scipy_stats

__all__ = ["benjamini_hochberg", "bh_adjusted"]


def bh_adjusted(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values, in input order (the same figures as statsmodels' ``fdr_bh``).

    Each is ``min over j >= rank of (m * p_(j) / j)``, capped at 1: monotone in the raw p-values. A test is
    rejected at false discovery rate ``q`` exactly when its adjusted p-value is at most ``q``.
    """
    values = np.asarray(p_values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("p_values must be a flat sequence of numbers")
    if values.size == 0:
        return []
    if not np.all((values >= 0.0) & (values <= 1.0)):  # also refuses nan
        raise ValueError("p_values must all lie in [0, 1]")
    adjusted = _scipy_stats.false_discovery_control(values, method="bh")
    return [float(value) for value in np.asarray(adjusted, dtype=np.float64)]


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> list[bool]:
    """Which tests to reject, in input order, keeping the false discovery rate at most ``q``."""
    level = check_probability(q, "q")
    return [value <= level for value in bh_adjusted(p_values)]
