"""Regrade a finished run with new or changed graders, and judge its variants pairwise. The CLI (``mendoza
regrade``, ``rank``) and Python callers use these; the arithmetic of calibration, ranking and judge noise lives
in ``mendoza.report``.

Which grades count after a regrade: a run's *current grader set* is the latest one a regrade recorded, or its
suite's graders before any. A sample's automatic verdict is that of the latest grade of each current grader
(name and definition hash); older verdicts stay stored beside the new ones (see ``mendoza.store.grading``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

import yaml

from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, GraderSpec, Run, Suite
from mendoza.errors import ConfigError
from mendoza.graders.base import BoundGrader, BoundPairwise, bind_grader
from mendoza.graders.kinds import kind_of
from mendoza.registry import grader_class
from mendoza.runner.options import GradeOptions
from mendoza.runner.regrade import GradingOutcome, judge_pairs, regrade_outputs
from mendoza.store import Store

__all__ = [
    "RegradeResult",
    "is_judge",
    "judge_run_pairs",
    "parse_grader_option",
    "regrade_run",
]

@dataclass(frozen=True)
class RegradeResult:
    """What a regrade did: the graders it applied, what they stored, and the run's grader set afterwards."""

    run: Run
    applied: list[GraderSpec]
    samples: GradingOutcome
    pairs: GradingOutcome
    grader_set: list[GraderSpec]
    revision: int


def is_judge(spec: GraderSpec) -> bool:
    """Whether a grader calls a judge model (``rubric``, ``pairwise`` or a plugin that says so)."""
    return bool(grader_class(spec.type).needs_model)


def parse_grader_option(text: str) -> GraderSpec | str:
    """A ``--grader`` value: a grader's name (``helpful``), or an inline YAML grader entry
    (``'contains: refund'``, ``'{type: rubric, name: polite, criteria: [The reply is polite]}'``)."""
    stripped = text.strip()
    if ":" not in stripped and not stripped.startswith("{"):
        return stripped
    try:
        entry = yaml.safe_load(stripped)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--grader {text!r}: invalid YAML: {exc}") from None
    return parse_grader_entry(entry, 0)


def _check_finished(run: Run) -> None:
    if run.status in ("running", "interrupted"):
        raise ConfigError(
            f"run {run.id} is {run.status}: finish it first (mendoza run --resume {run.id}), then regrade it"
        )


def _cases(store: Store, run: Run, suite: Suite | None) -> dict[str, Case]:
    """The cases to grade with: the run's own, each replaced by the suite's case of the same id when a suite
    is given (so a corrected expected value counts)."""
    cases = {case.id: case for case in store.runs.suite(run.id).cases}
    if suite is not None:
        cases.update({case.id: case for case in suite.cases if case.id in cases})
    return cases


def _plan(
    current: list[GraderSpec], suite: Suite | None, names: Sequence[str], added: Sequence[GraderSpec]
) -> tuple[list[GraderSpec], list[GraderSpec]]:
    """(graders to apply, the grader set afterwards)."""
    source = list(suite.graders) if suite is not None else current
    if names:
        known = {spec.name: spec for spec in source}
        missing = [name for name in names if name not in known]
        if missing:
            where = "the suite" if suite is not None else "the run's graders"
            raise ConfigError(f"no grader named {missing[0]!r} in {where} (graders: {', '.join(known) or 'none'})")
        chosen = [known[name] for name in names]
    elif suite is not None or not added:
        chosen = list(source)
    else:
        chosen = []
    chosen += list(added)
    if suite is not None and not names:
        after = list(chosen)
    else:
        after = list(current)
        for spec in chosen:
            position = next((i for i, old in enumerate(after) if old.name == spec.name), None)
            if position is None:
                after.append(spec)
            else:
                after[position] = spec
    if not after:
        raise ConfigError("a regrade needs at least one grader (give --suite or --grader)")
    return chosen, after


def regrade_run(
    store: Store,
    run_ref: str,
    *,
    suite: Suite | None = None,
    graders: Sequence[str | GraderSpec] = (),
    options: GradeOptions | None = None,
) -> RegradeResult:
    """Apply graders to a finished run's stored outputs, never calling the model under test.

    With ``suite``: its graders (all, or those named in ``graders``) replace the run's; its cases' expected
    values are used. Without: the run's current graders named in ``graders`` (all when none is named) are
    applied again (filling gaps, retrying errors). ``graders`` may also hold new ``GraderSpec``s, added to the
    run's set (or replacing the one of the same name). Grades already stored for the same definition are
    kept unless ``options.force``; pairwise graders judge the variants' pairs. Then the verdicts are recomputed.
    A code or Python grader gets the run's suite's ``grade_timeout`` unless ``options`` give one.
    """
    options = options or GradeOptions()
    run = store.runs.get(run_ref)
    _check_finished(run)
    names = [item for item in graders if isinstance(item, str)]
    added = [item for item in graders if isinstance(item, GraderSpec)]
    current = store.grades.grader_set(run.id)
    chosen, after = _plan(current, suite, names, added)
    cases = _cases(store, run, suite)
    per_sample: list[BoundGrader] = []
    pairwise: list[BoundPairwise] = []
    for spec in chosen:
        bound = bind_grader(spec, grader_class(spec.type))
        (pairwise if kind_of(spec.type) == "pairwise" else per_sample).append(bound)
    samples = GradingOutcome()
    pairs = GradingOutcome()
    if per_sample:
        timeout = store.runs.suite(run.id).grade_timeout
        samples = asyncio.run(regrade_outputs(store, run.id, cases, per_sample, options, grade_timeout=timeout))
    for item in pairwise:
        outcome = _judge(store, run, cases, item, options)
        pairs.written += outcome.written
        pairs.errors += outcome.errors
        pairs.skipped += outcome.skipped
        pairs.by_grader.update(outcome.by_grader)
    changed = [(s.name, s.definition_hash()) for s in after] != [(s.name, s.definition_hash()) for s in current]
    # The new set and the verdicts it gives in one transaction: a regrade killed here changes neither.
    revision = store.grades.commit_grader_set(
        run.id, after if changed else None, [spec for spec in after if kind_of(spec.type) == "sample"]
    )
    return RegradeResult(store.runs.get(run.id), chosen, samples, pairs, after, revision)


def _judge(
    store: Store, run: Run, cases: dict[str, Case], bound: BoundPairwise, options: GradeOptions
) -> GradingOutcome:
    params = bound.grader.params
    variants = list(getattr(params, "variants", None) or run.variant_ids)
    unknown = [variant for variant in variants if variant not in run.variant_ids]
    if unknown:
        raise ConfigError(f"pairwise grader '{bound.spec.name}': run {run.id} has no variant '{unknown[0]}'")
    return asyncio.run(judge_pairs(store, run.id, cases, bound, variants, options))


def judge_run_pairs(
    store: Store,
    run_ref: str,
    grader: str | None = None,
    options: GradeOptions | None = None,
) -> tuple[GraderSpec, GradingOutcome]:
    """Judge the pairs of variants a run's pairwise grader has not judged yet (``grader``: its name, needed
    only when the run has several); returns the grader and what was stored."""
    run = store.runs.get(run_ref)
    candidates = [spec for spec in store.grades.grader_set(run.id) if kind_of(spec.type) == "pairwise"]
    if grader is not None:
        candidates = [spec for spec in candidates if spec.name == grader]
    if not candidates:
        hint = f"no pairwise grader named '{grader}'" if grader else "the run has no pairwise grader"
        raise ConfigError(
            f"{hint}: add one with mendoza regrade {run.id} --grader 'pairwise: Which reply is better?'"
        )
    if len(candidates) > 1:
        raise ConfigError(f"the run has several pairwise graders; name one ({', '.join(s.name for s in candidates)})")
    spec = candidates[0]
    bound = bind_grader(spec, grader_class(spec.type))
    if run.status == "running":
        raise ConfigError(f"run {run.id} is still running; rank it when it has finished")
    outcome = _judge(store, run, _cases(store, run, None), bound, replace(options or GradeOptions(), force=False))
    return spec, outcome
