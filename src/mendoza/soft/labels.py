"""A person's labels on samples: record one, take one back. The viewer and ``mendoza label`` both label
through here (the order to label in is ``mendoza.soft.queue``).

A label is a human grade stored beside the automatic ones (never over them): pass or fail, or a score in
[0, 1] (a pass from ``PASS_SCORE`` up), with a note, an author and a time. The latest label of a sample is its
human verdict; the human-adjusted verdict of a sample is the human's where there is one, else the automatic.
"""

from __future__ import annotations

import getpass
import math

from mendoza.errors import ConfigError
from mendoza.store import GradeRecord, Store

__all__ = [
    "MAX_NOTE_CHARS",
    "PASS_SCORE",
    "clear_label",
    "default_author",
    "record_label",
]

PASS_SCORE = 0.5
"""A label given as a score passes from this score up."""

MAX_NOTE_CHARS = 10_000
"""The longest note a label may carry."""


def default_author() -> str:
    """Who labels when nobody says: the name of the user logged in, or ``human``."""
    try:
        return getpass.getuser() or "human"
    except (OSError, KeyError):
        return "human"


def _check_note(note: str) -> str:
    if len(note) > MAX_NOTE_CHARS:
        raise ConfigError(f"a label's note is limited to {MAX_NOTE_CHARS} characters, got {len(note)}")
    return note


def record_label(
    store: Store,
    sample_id: int,
    *,
    passed: bool | None = None,
    score: float | None = None,
    note: str = "",
    author: str | None = None,
) -> GradeRecord:
    """Record a person's label on a sample: ``passed`` (pass or fail) or a ``score`` in [0, 1], or both, with
    an optional note; returns the stored human grade. The automatic grades are kept as they are."""
    if passed is None and score is None:
        raise ConfigError("a label needs a verdict: pass or fail, or a score between 0 and 1")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise ConfigError(f"a label's score must be a number between 0 and 1, got {score!r}")
        if not 0.0 <= score <= 1.0:
            raise ConfigError(f"a label's score must be between 0 and 1, got {score}")
        score = float(score)
    verdict = passed if passed is not None else (score is not None and score >= PASS_SCORE)
    if score is None:
        score = 1.0 if verdict else 0.0
    return store.labels.add(
        sample_id, passed=verdict, score=score, note=_check_note(note), author=author or default_author()
    )


def clear_label(store: Store, sample_id: int, *, note: str = "", author: str | None = None) -> GradeRecord:
    """Withdraw the human verdict of a sample (the automatic one stands again); the history is kept."""
    return store.labels.add(
        sample_id, passed=None, score=None, note=_check_note(note), author=author or default_author()
    )
