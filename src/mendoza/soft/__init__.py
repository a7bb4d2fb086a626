"""Human-and-judge work on a finished run: regrade it (``regrade``), label its samples (``labels``), and the
order in which a person should look at them, with one list of reasons for the CLI and the viewer (``queue``)."""

from mendoza.soft.labels import MAX_NOTE_CHARS, PASS_SCORE, clear_label, default_author, record_label
from mendoza.soft.queue import BORDERLINE, REASONS, REVIEW_TIERS, QueueItem, Reason, label_queue, review_queue
from mendoza.soft.regrade import RegradeResult, is_judge, judge_run_pairs, parse_grader_option, regrade_run

__all__ = [
    "BORDERLINE",
    "MAX_NOTE_CHARS",
    "PASS_SCORE",
    "REASONS",
    "REVIEW_TIERS",
    "QueueItem",
    "Reason",
    "RegradeResult",
    "clear_label",
    "default_author",
    "is_judge",
    "judge_run_pairs",
    "label_queue",
    "parse_grader_option",
    "record_label",
    "regrade_run",
    "review_queue",
]
