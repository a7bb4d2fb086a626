"""Human-and-judge work on a finished run: regrade it (``regrade``), label its samples (``labels``), the
order in which a person should look at them, with one list of reasons for the CLI and the viewer (``queue``),
and a rubric drafted from its labels, graded on the held-out ones in a scratch store (``rubric_draft``,
``held_out``)."""

from mendoza.soft.labels import MAX_NOTE_CHARS, PASS_SCORE, clear_label, default_author, record_label
from mendoza.soft.queue import BORDERLINE, REASONS, REVIEW_TIERS, QueueItem, Reason, label_queue, review_queue
from mendoza.soft.regrade import RegradeResult, is_judge, judge_run_pairs, parse_grader_option, regrade_run
from mendoza.soft.rubric_draft import LabelSplit, RubricDraft, draft_rubric, grader_yaml, split_labels

__all__ = [
    "BORDERLINE",
    "MAX_NOTE_CHARS",
    "PASS_SCORE",
    "REASONS",
    "REVIEW_TIERS",
    "LabelSplit",
    "QueueItem",
    "Reason",
    "RegradeResult",
    "RubricDraft",
    "clear_label",
    "default_author",
    "draft_rubric",
    "grader_yaml",
    "is_judge",
    "judge_run_pairs",
    "label_queue",
    "parse_grader_option",
    "record_label",
    "regrade_run",
    "review_queue",
    "split_labels",
]
