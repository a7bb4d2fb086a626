"""The store: one SQLite file (or a PostgreSQL database), the only code that speaks SQL. ``Store`` is made of
parts (``store.runs``, ``store.samples``, ...): see ``mendoza.store.database``."""

from mendoza.store.browse import GRID_SORTS, GridPage, GridQuery, GridSort
from mendoza.store.database import DEFAULT_DB_PATH, Store, is_database_url, shown_database
from mendoza.store.grading import CurrentGrade, RegradeInput
from mendoza.store.labels import HUMAN_GRADER, LabelledOutput, LabelPair
from mendoza.store.outcomes import ADJUSTED_VERDICT_SQL, CellVerdicts, ErrorGroup, GraderCell, OutputSigns
from mendoza.store.pairwise import PairJudgement, PairSamples, Preference
from mendoza.store.records import CaseRecord, GradeRecord, SampleRecord
from mendoza.store.runs import new_run_id
from mendoza.store.samples import SampleFacts, VariantCounts
from mendoza.store.steps import StepSummary
from mendoza.store.transfer import (
    RUN_FILE_FORMAT,
    RUN_FILE_SUFFIX,
    ImportedRun,
    RunFileInfo,
    export_run,
    import_run,
    read_run_file,
)

__all__ = [
    "ADJUSTED_VERDICT_SQL",
    "DEFAULT_DB_PATH",
    "GRID_SORTS",
    "HUMAN_GRADER",
    "RUN_FILE_FORMAT",
    "RUN_FILE_SUFFIX",
    "CaseRecord",
    "CellVerdicts",
    "CurrentGrade",
    "ErrorGroup",
    "GradeRecord",
    "GraderCell",
    "GridPage",
    "GridQuery",
    "GridSort",
    "ImportedRun",
    "LabelPair",
    "LabelledOutput",
    "OutputSigns",
    "PairJudgement",
    "PairSamples",
    "Preference",
    "RegradeInput",
    "RunFileInfo",
    "SampleFacts",
    "SampleRecord",
    "StepSummary",
    "Store",
    "VariantCounts",
    "export_run",
    "import_run",
    "is_database_url",
    "new_run_id",
    "read_run_file",
    "shown_database",
]
