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
from mendoza.store.labels import HUMAN_GRADER, LabelPair

__all__ = [
    "DEFAULT_DB_PATH",
    "GRID_SORTS",
    "HUMAN_GRADER",
    "CaseCounts",
    "CaseRecord",
    "CellVerdicts",
    "GradeRecord",
    "GridPage",
    "GridQuery",
    "GridSort",
    "LabelPair",
    "SampleRecord",
    "Store",
    "VariantCounts",
    "new_run_id",
]
