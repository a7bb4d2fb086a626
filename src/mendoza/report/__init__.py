"""Reports from the store: reliability per variant, paired comparisons, planning, gates, exports."""

from mendoza.report.comparison import CaseChange, Comparison, compare_variants
from mendoza.report.export import REPORT_SCHEMA, comparison_to_dict, report_to_dict, report_to_markdown
from mendoza.report.gate import threshold_failures
from mendoza.report.html import report_to_html
from mendoza.report.planning import (
    Plan,
    estimate_components,
    estimate_difference_components,
    plan_comparison,
    plan_precision,
)
from mendoza.report.summary import CaseResult, RunReport, VariantResult, build_report, recommendation

__all__ = [
    "REPORT_SCHEMA",
    "CaseChange",
    "CaseResult",
    "Comparison",
    "Plan",
    "RunReport",
    "VariantResult",
    "build_report",
    "compare_variants",
    "comparison_to_dict",
    "estimate_components",
    "estimate_difference_components",
    "plan_comparison",
    "plan_precision",
    "recommendation",
    "report_to_dict",
    "report_to_html",
    "report_to_markdown",
    "threshold_failures",
]
