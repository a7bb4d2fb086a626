"""Reports from the store: reliability per variant, paired comparisons, planning, gates, exports."""

from mendoza.report.calibration import Calibration, CorrectedRate, calibrate
from mendoza.report.comparison import CaseChange, Comparison, compare_variants
from mendoza.report.export import REPORT_SCHEMA, comparison_to_dict, report_to_dict, report_to_markdown
from mendoza.report.gate import threshold_failures
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
from mendoza.report.reliability import Reliability, recommendation, reliability
from mendoza.report.summary import CaseResult, RunReport, VariantResult, build_report

__all__ = [
    "REPORT_SCHEMA",
    "Calibration",
    "CaseChange",
    "CaseResult",
    "Comparison",
    "CorrectedRate",
    "JudgeAgreement",
    "JudgeNoise",
    "JudgeReport",
    "JudgeTrust",
    "PairTally",
    "Plan",
    "Ranking",
    "Reliability",
    "RunReport",
    "VariantRating",
    "VariantResult",
    "build_judge_report",
    "build_report",
    "calibrate",
    "compare_variants",
    "comparison_to_dict",
    "estimate_components",
    "estimate_difference_components",
    "plan_comparison",
    "plan_precision",
    "rank_variants",
    "recommendation",
    "reliability",
    "report_to_dict",
    "report_to_html",
    "report_to_markdown",
    "threshold_failures",
]
