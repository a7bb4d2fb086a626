"""Reports from the store: reliability per variant, paired comparisons, planning, gates, exports."""

from mendoza.report.calibration import Calibration, CorrectedRate, calibrate
from mendoza.report.comparison import CaseChange, Comparison, compare_counts, compare_variants, side_counts
from mendoza.report.export import (
    REPORT_SCHEMA,
    comparison_to_dict,
    gate_to_dict,
    rate_to_dict,
    report_to_dict,
    report_to_markdown,
)
from mendoza.report.gate import Gate, GateCheck, GateOutcome, evaluate_gate, regression_gate, threshold_failures
from mendoza.report.html import report_to_html
from mendoza.report.judges import JudgeAgreement, JudgeNoise, JudgeReport, JudgeTrust, build_judge_report
from mendoza.report.planning import (
    Plan,
    estimate_components,
    estimate_difference_components,
    plan_comparison,
    plan_precision,
)
from mendoza.report.ranking import PairTally, Ranking, VariantRating, rank_variants
from mendoza.report.reliability import Bounds, Rate, RateRules, Reliability, rate_of, recommendation, reliability
from mendoza.report.summary import (
    VERDICTS,
    Breakdown,
    CaseResult,
    RunReport,
    VariantResult,
    Verdicts,
    build_report,
    rules_of,
)
from mendoza.report.wording import (
    band_words,
    bounds_words,
    error_words,
    other_verdicts_words,
    percent,
    rate_words,
    variant_notes,
)
from mendoza.stats import BAND_ADVICE, BAND_NAMES, DEFAULT_BAND_EDGES

__all__ = [
    "BAND_ADVICE",
    "BAND_NAMES",
    "DEFAULT_BAND_EDGES",
    "REPORT_SCHEMA",
    "VERDICTS",
    "Bounds",
    "Breakdown",
    "Calibration",
    "CaseChange",
    "CaseResult",
    "Comparison",
    "CorrectedRate",
    "Gate",
    "GateCheck",
    "GateOutcome",
    "JudgeAgreement",
    "JudgeNoise",
    "JudgeReport",
    "JudgeTrust",
    "PairTally",
    "Plan",
    "Ranking",
    "Rate",
    "RateRules",
    "Reliability",
    "RunReport",
    "VariantRating",
    "VariantResult",
    "Verdicts",
    "band_words",
    "bounds_words",
    "build_judge_report",
    "build_report",
    "calibrate",
    "compare_counts",
    "compare_variants",
    "comparison_to_dict",
    "error_words",
    "estimate_components",
    "estimate_difference_components",
    "evaluate_gate",
    "gate_to_dict",
    "other_verdicts_words",
    "percent",
    "plan_comparison",
    "plan_precision",
    "rank_variants",
    "rate_of",
    "rate_to_dict",
    "rate_words",
    "recommendation",
    "regression_gate",
    "reliability",
    "report_to_dict",
    "report_to_html",
    "report_to_markdown",
    "rules_of",
    "side_counts",
    "threshold_failures",
    "variant_notes",
]
