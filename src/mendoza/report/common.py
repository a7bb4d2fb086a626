"""Small rules more than one section of the report uses, written once: the p50 / p95 of a list of times, and
which current graders grade single samples (the ones a sample's verdict is made of)."""

from __future__ import annotations

import numpy as np

from mendoza.core import GraderSpec
from mendoza.errors import MendozaError
from mendoza.graders.kinds import kind_of
from mendoza.store import Store

__all__ = ["grades_samples", "p50_p95", "sample_graders"]


def p50_p95(values: list[float]) -> tuple[float | None, float | None]:
    """The median and the 95th percentile of ``values`` (numpy's linear interpolation); None, None for none."""
    if not values:
        return None, None
    p50, p95 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95])
    return float(p50), float(p95)


def grades_samples(grader_type: str) -> bool:
    """Whether a grader type grades single samples (not pairs)."""
    try:
        return kind_of(grader_type) == "sample"
    except MendozaError:  # an unknown plugin: count it as a sample grader, as the run did
        return True


def sample_graders(store: Store, run_id: str) -> list[GraderSpec]:
    """The run's current graders that grade single samples: together they make each sample's verdict."""
    return [spec for spec in store.grades.grader_set(run_id) if grades_samples(spec.type)]
