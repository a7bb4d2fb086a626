"""Every sample of a run as JSON Lines (``mendoza export``): its output, cost, verdicts, grades and steps, one
object per line, streamed from the store so memory stays flat however large the run. A sample's fields are
those of ``core.Sample`` (steps and grades as lists of objects), plus its ``outcome``; the first line is the
run (``{"run": {...}}``), so a file says where it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from mendoza.core import Sample
from mendoza.store import Store

__all__ = ["SAMPLES_SCHEMA", "sample_lines"]

SAMPLES_SCHEMA = "mendoza.samples/1"


def _sample_dict(sample: Sample) -> dict[str, Any]:
    fields = asdict(sample)
    fields["passed"] = sample.passed
    fields["outcome"] = sample.outcome
    return fields


def sample_lines(store: Store, run_ref: str, *, steps: bool = True) -> Iterator[str]:
    """The run as a first line, then one line per sample in (variant, case, repeat) order."""
    run = store.runs.get(run_ref)
    header = {"schema": SAMPLES_SCHEMA, "run": asdict(run)}
    yield json.dumps(header, ensure_ascii=False, default=str)
    for sample in store.samples.iterate(run.id, steps=steps):
        yield json.dumps(_sample_dict(sample), ensure_ascii=False, default=str)
