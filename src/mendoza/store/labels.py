"""Human grades: a person's verdict on a sample, stored beside the automatic grades and never over them.

A label is a row of ``grades`` with ``source = 'human'``, an author and a time. The latest human grade of a
sample is its human verdict (``samples.human_passed``, kept by a trigger, see migration ``m003_viewer``); a
human grade with no verdict clears it. ``HumanLabels`` is the ``labels`` part of ``Store``.
"""

from __future__ import annotations

from typing import NamedTuple

from mendoza.errors import StoreError
from mendoza.store.connection import StorePart, utc_now
from mendoza.store.records import GradeRecord
from mendoza.store.text import safe_text

__all__ = ["HUMAN_GRADER", "HumanLabels", "LabelPair", "LabelledOutput"]

HUMAN_GRADER = "human"
"""The grader name of every human grade."""


class LabelPair(NamedTuple):
    """A labelled sample's automatic and human verdicts (both decided), for agreement between the two."""

    variant_id: str
    automatic: bool
    human: bool


class LabelledOutput(NamedTuple):
    """A labelled sample with an output: where it belongs, the output, the human verdict and the note of the
    label that gave it ("" when none)."""

    sample_id: int
    variant_id: str
    case_id: str
    repeat: int
    output: str
    human: bool
    note: str


class HumanLabels(StorePart):
    """The store's human grades: the ``labels`` part of ``Store`` (``store.labels.add(sample_id, ...)``)."""

    def add(
        self,
        sample_id: int,
        *,
        passed: bool | None,
        score: float | None,
        note: str,
        author: str,
    ) -> GradeRecord:
        """Record a person's verdict on a sample (``passed`` None clears the human verdict); returns it."""
        now = utc_now()
        # A note typed at a terminal with a stray byte arrives as a lone surrogate: stored as U+FFFD.
        note, author = safe_text(note)[0], safe_text(author)[0]
        with self._transaction():
            if self._db.execute("SELECT 1 FROM samples WHERE id = ?", (sample_id,)).fetchone() is None:
                raise StoreError(f"{self.path}: no sample {sample_id}")
            [grade_id] = self._sql.insert_ids(
                self._db,
                "INSERT INTO grades (sample_id, grader, grader_hash, source, passed, score, explanation, error, "
                "author, created_at) VALUES (?, ?, '', 'human', ?, ?, ?, NULL, ?, ?)",
                [(sample_id, HUMAN_GRADER, None if passed is None else int(passed), score, note, author, now)],
            )
        assert grade_id is not None
        return GradeRecord(
            id=grade_id,
            sample_id=sample_id,
            grader=HUMAN_GRADER,
            grader_hash="",
            source="human",
            passed=passed,
            score=score,
            explanation=note,
            error=None,
            author=author,
            created_at=now,
        )

    def pairs(self, run_id: str) -> list[LabelPair]:
        """The automatic and human verdicts of every sample of a run that has both."""
        rows = self._rows(
            "SELECT variant_id, passed, human_passed FROM samples "
            "WHERE run_id = ? AND human_passed IS NOT NULL AND passed IS NOT NULL ORDER BY id",
            (run_id,),
        )
        return [LabelPair(row[0], bool(row[1]), bool(row[2])) for row in rows]

    def verdicts(self, run_id: str) -> dict[int, bool]:
        """The human verdict (latest label) of every labelled sample of a run, by sample id."""
        rows = self._rows(
            "SELECT id, human_passed FROM samples WHERE run_id = ? AND human_passed IS NOT NULL", (run_id,)
        )
        return {int(row[0]): bool(row[1]) for row in rows}

    def labelled_outputs(self, run_id: str) -> list[LabelledOutput]:
        """The samples of a run with an output and a human verdict, each with the note of its latest label, by
        sample id (errored samples, which have no output, are left out)."""
        rows = self._rows(
            "SELECT s.id, s.variant_id, s.case_id, s.repeat, s.output, s.human_passed, "
            "(SELECT g.explanation FROM grades AS g WHERE g.sample_id = s.id AND g.source = 'human' "
            " ORDER BY g.id DESC LIMIT 1) FROM samples AS s "
            "WHERE s.run_id = ? AND s.human_passed IS NOT NULL AND s.error IS NULL AND s.output IS NOT NULL "
            "ORDER BY s.id",
            (run_id,),
        )
        return [
            LabelledOutput(int(row[0]), row[1], row[2], int(row[3]), row[4], bool(row[5]), row[6] or "")
            for row in rows
        ]
