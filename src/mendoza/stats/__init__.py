"""Statistics for evals of stochastic features: pure functions on numbers, built on numpy and scipy.

How often is a feature good, with honest error bars: intervals for a pass rate (clustered by case when a run
repeats cases), pass@k and pass^k, paired comparisons, planning (cases x repeats), agreement between graders,
an anytime-valid confidence sequence for adaptive sampling, reliability bands and multiple-testing control;
and for judges: their noise (a nested variance split), their error rates against human labels with the
Rogan-Gladen corrected pass rate, and Bradley-Terry ratings from pairwise preferences; and for suites: item
analysis (a case's discrimination, a point-biserial correlation) and a subset of cases whose pass rate tracks the
whole suite's.
Nothing here imports the rest of mendoza; bad input raises ``ValueError`` with a one-line message.
See ``reference/statistics.md`` for the formulas and sources.
"""

from __future__ import annotations

from mendoza.stats.agreement import KappaWeights, cohen_kappa, cohen_kappa_interval
from mendoza.stats.bands import (
    BAND_ADVICE,
    BAND_NAMES,
    DEFAULT_BAND_EDGES,
    BandDecision,
    band_of,
    classify_band,
    samples_to_decide,
)
from mendoza.stats.bradley_terry import ELO_BASE, ELO_SCALE, bradley_terry, bradley_terry_intervals, win_matrix
from mendoza.stats.intervals import (
    Interval,
    clopper_pearson_interval,
    mean_interval,
    wilson_bounds,
    wilson_interval,
)
from mendoza.stats.items import (
    item_discrimination,
    noise_floor,
    point_biserial,
    pooled_rates,
    random_subsets,
    stratified_subset,
)
from mendoza.stats.judge_noise import NestedVariance, nested_variance
from mendoza.stats.misclassification import Confusion, confusion, rogan_gladen, rogan_gladen_interval
from mendoza.stats.multiple import benjamini_hochberg, bh_adjusted
from mendoza.stats.paired import (
    PairedDifference,
    exact_paired_case_test,
    paired_bootstrap_differences,
    paired_difference,
)
from mendoza.stats.passk import bootstrap_mean_interval, bootstrap_mean_intervals, pass_at_k, pass_hat_k
from mendoza.stats.power import Design, design_variance, interval_halfwidth_design, plan_designs, sample_size
from mendoza.stats.quantiles import normal_quantile, t_quantile
from mendoza.stats.sequential import confidence_sequence
from mendoza.stats.variance import (
    ClusteredSE,
    MeanSE,
    VarianceComponents,
    clustered_stderr,
    stderr,
    variance_components,
)

__all__ = [
    "BAND_ADVICE",
    "BAND_NAMES",
    "DEFAULT_BAND_EDGES",
    "ELO_BASE",
    "ELO_SCALE",
    "BandDecision",
    "ClusteredSE",
    "Confusion",
    "Design",
    "Interval",
    "KappaWeights",
    "MeanSE",
    "NestedVariance",
    "PairedDifference",
    "VarianceComponents",
    "band_of",
    "benjamini_hochberg",
    "bh_adjusted",
    "bootstrap_mean_interval",
    "bootstrap_mean_intervals",
    "bradley_terry",
    "bradley_terry_intervals",
    "classify_band",
    "clopper_pearson_interval",
    "clustered_stderr",
    "cohen_kappa",
    "cohen_kappa_interval",
    "confidence_sequence",
    "confusion",
    "design_variance",
    "exact_paired_case_test",
    "interval_halfwidth_design",
    "item_discrimination",
    "mean_interval",
    "nested_variance",
    "noise_floor",
    "normal_quantile",
    "paired_bootstrap_differences",
    "paired_difference",
    "pass_at_k",
    "pass_hat_k",
    "plan_designs",
    "point_biserial",
    "pooled_rates",
    "random_subsets",
    "rogan_gladen",
    "rogan_gladen_interval",
    "sample_size",
    "samples_to_decide",
    "stderr",
    "stratified_subset",
    "t_quantile",
    "variance_components",
    "wilson_bounds",
    "wilson_interval",
    "win_matrix",
]
