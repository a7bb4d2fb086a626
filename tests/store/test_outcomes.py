"""The store counts outcomes with SQL that mirrors ``core.sample_outcome`` and ``core.adjusted_outcome``: the
two agree on every combination of error, automatic verdict and human label."""

from __future__ import annotations

import itertools

from mendoza.core import (
    Case,
    Grade,
    OutcomeCounts,
    Sample,
    Suite,
    Variant,
    adjusted_outcome,
    sample_outcome,
)
from mendoza.store import Store

ERRORS = (None, "TimeoutError: upstream timed out\\nTraceback ...")
VERDICTS = (None, True, False)
LABELS = (None, True, False)
COMBOS = list(itertools.product(ERRORS, VERDICTS, LABELS))


def _counts(outcome: str) -> OutcomeCounts:
    return OutcomeCounts(**{outcome: 1})


def test_sql_counts_mirror_the_outcome_rule(store: Store) -> None:
    cases = tuple(Case(id=f"c{index}") for index in range(len(COMBOS)))
    suite = Suite(name="s", cases=cases, variants=(Variant(id="v", model="echo"),))
    run = store.runs.create(suite)
    samples = []
    for index, (error, verdict, _) in enumerate(COMBOS):
        grades = () if error is not None else (Grade(grader="g", passed=verdict, score=None, grader_hash="h"),)
        samples.append(Sample(f"c{index}", "v", 0, "p", None if error else "out", error=error, grades=grades))
    store.samples.write(run.id, samples)
    for index, (_, _, label) in enumerate(COMBOS):
        if label is not None:
            (record,) = store.browse.case_samples(run.id, f"c{index}", ["v"])
            store.labels.add(record.id, passed=label, score=None, note="", author="t")
    cells = {cell.case_id: cell for cell in store.outcomes.cell_verdicts(run.id)}
    for index, (error, verdict, label) in enumerate(COMBOS):
        sample = samples[index]
        cell = cells[f"c{index}"]
        assert cell.automatic == _counts(sample_outcome(sample.error, sample.passed)), (error, verdict)
        expected = adjusted_outcome(sample.error, sample.passed, label)
        assert cell.adjusted == _counts(expected), (error, verdict, label)
        assert cell.labelled == (label is not None)
        automatic = sample.passed if sample.error is None else None
        assert cell.overruled == (label is not None and label != automatic), (error, verdict, label)


def test_errors_are_grouped_by_their_first_line(store: Store) -> None:
    suite = Suite(name="s", cases=(Case(id="a"), Case(id="b")), variants=(Variant(id="v", model="echo"),))
    run = store.runs.create(suite)
    store.samples.write(
        run.id,
        [
            Sample("a", "v", 0, "p", None, error="TimeoutError: slow\ndetail one"),
            Sample("a", "v", 1, "p", None, error="TimeoutError: slow\ndetail two"),
            Sample("b", "v", 0, "p", None, error="ValueError: " + "x" * 500),
            Sample("b", "v", 1, "p", "fine", grades=(Grade(grader="g", passed=True, score=1.0, grader_hash="h"),)),
        ],
    )
    groups = store.outcomes.error_groups(run.id)
    assert (groups[0].message, groups[0].count) == ("TimeoutError: slow", 2)
    assert len(groups[1].message) == 200
