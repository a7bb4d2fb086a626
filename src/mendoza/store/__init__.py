"""The store: one SQLite file, the only code that speaks SQL."""

from mendoza.store.browse import (
    GRID_SORTS,
    CaseRecord,
    CellVerdicts,
    GradeRecord,
    GridPage,
    GridQuery,
    GridSort,
    SampleRecord,
)
from mendoza.store.database import DEFAULT_DB_PATH, CaseCounts, Store, VariantCounts, new_run_id
from mendoza.store.grading import CurrentGrade, RegradeInput
from mendoza.store.labels import HUMAN_GRADER, LabelPair
from mendoza.store.outcomes import ADJUSTED_VERDICT_SQL, ErrorGroup, GraderCell, OutputSigns
from mendoza.store.pairwise import PairJudgement, PairSamples, Preference

__all__ = [
    "ADJUSTED_VERDICT_SQL",
    "DEFAULT_DB_PATH",
    "GRID_SORTS",
    "HUMAN_GRADER",
    "CaseCounts",
    "CaseRecord",
    "CellVerdicts",
    "CurrentGrade",
    "ErrorGroup",
    "GradeRecord",
    "GraderCell",
    "GridPage",
    "GridQuery",
    "GridSort",
    "LabelPair",
    "OutputSigns",
    "PairJudgement",
    "PairSamples",
    "Preference",
    "RegradeInput",
    "SampleRecord",
    "Store",
    "VariantCounts",
    "new_run_id",
]
