"""Grade some of a run's labelled outputs with a grader, in a scratch store, leaving the run as it was.

``mendoza rubric draft`` checks a drafted rubric on the held-out half of a run's labels before anyone uses it.
Its verdicts must not become the run's own: a grade stored in the run under any name shows on the run's sample
pages and travels with its run file, and adding the grader to the run's set would change its verdicts. So the
held-out samples are copied into a run of the same id in a separate SQLite file (the run's suite snapshot with
the drafted grader as its only grader; each held-out sample's output and its human label, with the note), and
graded there by ``soft.regrade.regrade_run``: the same judge path and store rules as any regrade. The run in
the scratch file is an ordinary run: ``mendoza calibrate RUN --db FILE`` and ``mendoza view --db FILE`` read it.
Its judge calls are cached in the scratch file, not in the main store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mendoza.core import GraderSpec, Run, Sample
from mendoza.errors import ConfigError
from mendoza.runner.options import GradeOptions
from mendoza.soft.labels import record_label
from mendoza.soft.regrade import RegradeResult, regrade_run
from mendoza.store import LabelledOutput, Store

__all__ = ["grade_held_out"]

_LABELLER = "rubric-draft"
"""The author of the labels copied into the scratch run (the note and verdict are the person's own)."""


def grade_held_out(
    store: Store,
    run: Run,
    held_out: Sequence[LabelledOutput],
    spec: GraderSpec,
    scratch: Path,
    options: GradeOptions | None = None,
) -> RegradeResult:
    """Copy ``held_out`` (labelled outputs of ``run`` in ``store``) into a new SQLite file ``scratch`` as run
    ``run.id`` graded only by ``spec``, with their labels, and grade them there (see the module). ``scratch``
    must not exist yet."""
    if scratch.exists():
        raise ConfigError(f"{scratch} already exists: give a new file for the held-out grades")
    suite = store.runs.suite(run.id).model_copy(update={"graders": (spec,)})
    samples = [
        Sample(case_id=item.case_id, variant_id=item.variant_id, repeat=item.repeat, prompt=None, output=item.output)
        for item in held_out
    ]
    with Store(scratch) as copy:
        copy.runs.create(suite, run_id=run.id)
        copy.samples.write(run.id, samples)
        new_ids = {(item.variant_id, item.case_id, item.repeat): item.sample_id
                   for item in copy.grades.regrade_inputs(run.id)}
        for item in held_out:
            record_label(copy, new_ids[(item.variant_id, item.case_id, item.repeat)], passed=item.human,
                         note=item.note, author=_LABELLER)
        copy.runs.set_status(run.id, "complete")
        return regrade_run(copy, run.id, graders=[spec.name], options=options)
