"""A suite's history: every run of it (matched by suite name, oldest first), per variant the headline pass rate
with its interval over time, and between consecutive runs of a variant the changes that are statistically real.

The rules, each written elsewhere and only read here:

- every figure of a run is ``build_report``'s (one report per run, the judge section left out), so a point of
  the history is the same figure ``mendoza show RUN`` prints;
- a change between two consecutive runs of a variant (its last earlier run that counted a sample) is the paired
  comparison ``mendoza compare RUN_A RUN_B --variant V`` makes (``compare_counts`` over ``side_counts``, under
  the later run's error rule and confidence, paired on the case ids both runs counted): it is *flagged* only
  when that comparison says the difference is real (``Comparison.significant``);
- a case *newly passes* (or *newly fails*) consistently when, in that comparison, every counted sample of it
  failed before and every one passes now (at least ``CONSISTENT_SAMPLES`` on each side; or the other way
  round), or when the exact per-case test says it changed (``CaseChange.significant``, after the false
  discovery control ``compare`` applies).

Where the suite's hash changed between consecutive runs the history says which parts of the suite differ
(``cases``, ``graders``, ``variants``, a setting), so a change that comes with new cases or graders is not
read as the model's. Each consecutive pair is tested on its own, at the suite's confidence: over many runs
some flags are expected by chance alone (about one pair in twenty at 95%); a flag worth acting on is one that
the next run confirms.

``iter_history`` yields one run at a time and keeps only the previous run of each variant, so memory stays
flat however many runs a suite has; ``build_history`` collects them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mendoza.core import ErrorPolicy, Run, Suite, stable_hash
from mendoza.errors import RunNotFound
from mendoza.report.comparison import CaseChange, Comparison, compare_counts, side_counts
from mendoza.report.export import comparison_to_dict, rate_to_dict
from mendoza.report.summary import VariantResult, Verdicts, build_report
from mendoza.report.wording import rate_words
from mendoza.stats import DEFAULT_BAND_EDGES
from mendoza.store import Store

__all__ = [
    "CONSISTENT_SAMPLES",
    "HISTORY_SCHEMA",
    "CaseFlip",
    "HistoryPoint",
    "HistoryRun",
    "SuiteChange",
    "SuiteHistory",
    "VariantStep",
    "build_history",
    "history_dict",
    "history_run_to_dict",
    "history_svg",
    "history_to_dict",
    "iter_history",
    "step_words",
    "suite_runs",
]

#: The JSON of a history (``history_to_dict``); bumped on any change a consumer could notice.
HISTORY_SCHEMA = "mendoza.history/1"
#: The fewest counted samples on each side for "every sample failed before, every one passes now" to count
#: as a consistent change (one sample each way is a coin toss, not a change).
CONSISTENT_SAMPLES = 2

@dataclass(frozen=True)
class SuiteChange:
    """How a run's suite differs from the previous run's: the stored hashes, and the top-level parts of the
    suite that differ (``cases``, ``graders``, ``variants``, or a setting such as ``repeats``)."""

    previous_hash: str
    hash: str
    parts: tuple[str, ...]

    @property
    def cases_or_graders(self) -> bool:
        """Whether what is measured changed (the cases or the graders), not only how the variants run."""
        return "cases" in self.parts or "graders" in self.parts

    @property
    def words(self) -> str:
        """``suite changed: cases, graders``."""
        what = ", ".join(self.parts) if self.parts else f"hash {self.previous_hash} -> {self.hash}"
        return f"suite changed: {what}"


@dataclass(frozen=True)
class CaseFlip:
    """A case that newly passes (or newly fails) consistently between two runs of a variant: the comparison's
    case, and why it counts (``every sample``: all failed before and all pass now, or the other way round;
    ``exact test``: the per-case test says so after the false discovery control)."""

    case: CaseChange
    reason: Literal["every sample", "exact test"]

    @property
    def case_id(self) -> str:
        """The case's id."""
        return self.case.case_id

    @property
    def words(self) -> str:
        """``c07: 0/3 -> 3/3 (every sample)``."""
        case = self.case
        why = self.reason if self.reason == "every sample" else f"exact test, q = {case.q_value:.3g}"
        return f"{case.case_id}: {case.a_passed}/{case.a_graded} -> {case.b_passed}/{case.b_graded} ({why})"


@dataclass(frozen=True)
class VariantStep:
    """One variant from its previous run to this one: the paired comparison, whether the variant itself changed
    (its model, prompt or params), and the cases that newly pass or newly fail consistently."""

    variant_id: str
    before: Run
    after: Run
    before_model: str
    after_model: str
    variant_changed: bool
    comparison: Comparison
    newly_passing: list[CaseFlip]
    newly_failing: list[CaseFlip]

    @property
    def flagged(self) -> bool:
        """The comparison says the difference is real (its interval excludes zero)."""
        return self.comparison.significant

    @property
    def direction(self) -> Literal["better", "worse", "same"]:
        """``better`` or ``worse`` when flagged, else ``same``."""
        if not self.flagged:
            return "same"
        return "better" if self.comparison.paired.difference > 0 else "worse"


@dataclass(frozen=True)
class HistoryPoint:
    """One variant in one run: the report's result (``result.rate`` is the headline with its interval) and the
    step from the variant's previous run (None for its first, or when either side counted no sample)."""

    run: Run
    result: VariantResult
    step: VariantStep | None

    @property
    def variant_id(self) -> str:
        """The variant's id."""
        return self.result.variant_id

    @property
    def model(self) -> str:
        """The model the variant ran on in this run."""
        return self.result.model


@dataclass(frozen=True)
class HistoryRun:
    """One run of the suite: its variants' points, and how its suite differs from the previous run's (None when
    the hash is the same, or for the first run)."""

    run: Run
    confidence: float
    band_edges: tuple[float, float, float]
    suite_change: SuiteChange | None
    points: list[HistoryPoint]


@dataclass(frozen=True)
class SuiteHistory:
    """Every run of a suite, oldest first (``iter_history`` collected)."""

    suite_name: str
    verdicts: Verdicts
    runs: list[HistoryRun]

    @property
    def variant_ids(self) -> list[str]:
        """Every variant id, in the order the runs first show them."""
        return list(dict.fromkeys(point.variant_id for entry in self.runs for point in entry.points))

    def series(self, variant_id: str) -> list[HistoryPoint]:
        """One variant's points, oldest first."""
        return [point for entry in self.runs for point in entry.points if point.variant_id == variant_id]

    @property
    def steps(self) -> list[VariantStep]:
        """Every step between consecutive runs of a variant, in run order."""
        return [point.step for entry in self.runs for point in entry.points if point.step is not None]

    @property
    def flagged(self) -> list[VariantStep]:
        """The steps whose change is statistically real."""
        return [step for step in self.steps if step.flagged]


def suite_runs(store: Store, suite_name: str) -> list[Run]:
    """Every run of the suite named ``suite_name`` (exactly), oldest first."""
    return list(reversed(store.runs.of_suite(suite_name)))


def _parts(suite: Suite) -> dict[str, str]:
    """A hash of each top-level part of the suite's snapshot."""
    return {key: stable_hash(value) for key, value in suite.snapshot().items()}


def _variant_hash(suite: Suite, variant_id: str) -> str:
    return stable_hash(suite.variant(variant_id).model_dump(mode="json", exclude={"id", "model"}))


def _flips(comparison: Comparison) -> tuple[list[CaseFlip], list[CaseFlip]]:
    """The cases that newly pass and newly fail consistently (see the module's docstring)."""
    passing: list[CaseFlip] = []
    failing: list[CaseFlip] = []
    for case in comparison.cases:
        enough = min(case.a_graded, case.b_graded) >= CONSISTENT_SAMPLES
        if case.direction == "better":
            every = enough and case.a_passed == 0 and case.b_passed == case.b_graded
            if every or case.significant:
                passing.append(CaseFlip(case, "every sample" if every else "exact test"))
        elif case.direction == "worse":
            every = enough and case.a_passed == case.a_graded and case.b_passed == 0
            if every or case.significant:
                failing.append(CaseFlip(case, "every sample" if every else "exact test"))
    return passing, failing


@dataclass
class _Previous:
    """What is kept of a variant's last run that counted a sample."""

    run: Run
    model: str
    variant_hash: str
    errors: ErrorPolicy
    counts: dict[str, tuple[int, int]]


def iter_history(
    store: Store,
    suite_name: str,
    *,
    variants: Collection[str] | None = None,
    verdicts: Verdicts = "human-adjusted",
    runs: list[Run] | None = None,
) -> Iterator[HistoryRun]:
    """The runs of ``suite_name``, oldest first, one at a time (``RunNotFound`` when it has none): each with its
    variants' points (only ``variants``, when given) and the steps from each variant's previous run. ``runs``:
    the suite's runs when the caller has them already (``suite_runs``)."""
    found = suite_runs(store, suite_name) if runs is None else runs
    if not found:
        raise RunNotFound(f"no run of suite '{suite_name}' in {store.path} (see `mendoza runs`)")
    previous: dict[str, _Previous] = {}
    last_parts: dict[str, str] | None = None
    last_hash: str | None = None
    for run in found:
        report = build_report(store, run.id, verdicts=verdicts, judges=False)
        suite = report.suite
        parts = _parts(suite)
        change = None
        if last_hash is not None and last_parts is not None and run.suite_hash != last_hash:
            differ = tuple(key for key in dict.fromkeys([*last_parts, *parts]) if last_parts.get(key) != parts.get(key))
            change = SuiteChange(last_hash, run.suite_hash, differ)
        last_parts, last_hash = parts, run.suite_hash
        points: list[HistoryPoint] = []
        for result in report.variants:
            if variants is not None and result.variant_id not in variants:
                continue
            step = None
            if result.graded > 0:
                counts = side_counts(store, run.id, result.variant_id, verdicts=verdicts, errors=suite.errors)
                variant_hash = _variant_hash(suite, result.variant_id)
                before = previous.get(result.variant_id)
                if before is not None:
                    step = _step(store, before, run, result, suite, counts, variant_hash, verdicts)
                previous[result.variant_id] = _Previous(run, result.model, variant_hash, suite.errors, counts)
            points.append(HistoryPoint(run, result, step))
        yield HistoryRun(run, report.confidence, report.band_edges, change, points)


def _step(
    store: Store,
    before: _Previous,
    run: Run,
    result: VariantResult,
    suite: Suite,
    counts: dict[str, tuple[int, int]],
    variant_hash: str,
    verdicts: Verdicts,
) -> VariantStep:
    """The step of one variant from ``before`` to ``run``: ``compare_variants``'s comparison (the earlier side
    counted under the later run's error rule, at its confidence, as it does), labelled ``V in run R``."""
    variant_id = result.variant_id
    earlier = before.counts
    if before.errors != suite.errors:
        earlier = side_counts(store, before.run.id, variant_id, verdicts=verdicts, errors=suite.errors)
    comparison = compare_counts(
        earlier,
        counts,
        label_a=f"{variant_id} in run {before.run.id}",
        label_b=f"{variant_id} in run {run.id}",
        confidence=suite.confidence,
    )
    passing, failing = _flips(comparison)
    return VariantStep(
        variant_id=variant_id,
        before=before.run,
        after=run,
        before_model=before.model,
        after_model=result.model,
        variant_changed=before.model != result.model or before.variant_hash != variant_hash,
        comparison=comparison,
        newly_passing=passing,
        newly_failing=failing,
    )


def build_history(
    store: Store,
    suite_name: str,
    *,
    variants: Collection[str] | None = None,
    verdicts: Verdicts = "human-adjusted",
    runs: list[Run] | None = None,
) -> SuiteHistory:
    """Every run of ``suite_name`` with its points and steps (``iter_history``, collected)."""
    entries = list(iter_history(store, suite_name, variants=variants, verdicts=verdicts, runs=runs))
    return SuiteHistory(suite_name, verdicts, entries)


def step_words(step: VariantStep) -> str:
    """One line for a step: the comparison's verdict, and what changed in the variant."""
    words = step.comparison.verdict
    if step.before_model != step.after_model:
        words += f" Model {step.before_model} -> {step.after_model}."
    elif step.variant_changed:
        words += " The variant's prompt or params changed."
    return words


# JSON -------------------------------------------------------------------------------------------------------


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


def _flip_dict(flip: CaseFlip) -> dict[str, Any]:
    case = flip.case
    return {
        "case": case.case_id,
        "before": [case.a_passed, case.a_graded],
        "after": [case.b_passed, case.b_graded],
        "reason": flip.reason,
        "q_value": _number(case.q_value),
    }


def _step_dict(step: VariantStep) -> dict[str, Any]:
    comparison = {key: value for key, value in comparison_to_dict(step.comparison).items() if key != "cases"}
    return {
        "previous_run": step.before.id,
        "previous_model": step.before_model,
        "variant_changed": step.variant_changed,
        "flagged": step.flagged,
        "direction": step.direction,
        "comparison": comparison,
        "newly_passing": [_flip_dict(flip) for flip in step.newly_passing],
        "newly_failing": [_flip_dict(flip) for flip in step.newly_failing],
    }


def history_run_to_dict(entry: HistoryRun) -> dict[str, Any]:
    """One run of a history as JSON-ready data (an item of ``runs`` in ``history_to_dict``)."""
    change = entry.suite_change
    return {
        "id": entry.run.id,
        "created_at": entry.run.created_at,
        "status": entry.run.status,
        "suite_hash": entry.run.suite_hash,
        "suite_changed": None
        if change is None
        else {"previous_hash": change.previous_hash, "parts": list(change.parts)},
        "confidence": entry.confidence,
        "variants": [
            {
                "variant": point.variant_id,
                "model": point.model,
                "rate": rate_to_dict(point.result.rate),
                "change": None if point.step is None else _step_dict(point.step),
            }
            for point in entry.points
        ],
    }


def history_dict(suite_name: str, verdicts: Verdicts, entries: Iterable[HistoryRun]) -> dict[str, Any]:
    """``history_to_dict`` from the runs as ``iter_history`` yields them (each turned into data and let go, so a
    long history is never held as objects)."""
    runs: list[dict[str, Any]] = []
    flagged: list[dict[str, Any]] = []
    for entry in entries:
        runs.append(history_run_to_dict(entry))
        flagged.extend(
            {"variant": point.step.variant_id, "from_run": point.step.before.id, "to_run": point.step.after.id,
             "direction": point.step.direction, "verdict": step_words(point.step)}
            for point in entry.points
            if point.step is not None and point.step.flagged
        )
    return {"schema": HISTORY_SCHEMA, "suite": suite_name, "verdicts": verdicts, "runs": runs, "flagged": flagged}


def history_to_dict(history: SuiteHistory) -> dict[str, Any]:
    """A history as JSON-ready data (schema ``mendoza.history/1``): each run (oldest first) with where its suite
    changed and each variant's rate (as in the report's JSON) and change from the variant's previous run (the
    comparison as ``mendoza compare --json`` gives it, without its per-case list, and the cases that newly pass
    or fail consistently), then the flagged changes."""
    return history_dict(history.suite_name, history.verdicts, history.runs)


# The chart --------------------------------------------------------------------------------------------------

#: Colours of the variants' lines, in turn (presentation attributes: no ``style``).
_PALETTE = ("#1f5fa8", "#c2571a", "#2e8540", "#8a3ffc", "#b0303a", "#0f7c86", "#7a6a1b", "#d0378f")


def history_svg(
    history: SuiteHistory,
    width: int = 760,
    height: int = 300,
    *,
    names: Callable[[str], str] | None = None,
) -> str:
    """An SVG of each variant's pass rate with its interval (a bar) over the runs, oldest at the left: a line per
    variant, a ring around the point after a flagged change, a dashed vertical line where the suite changed,
    the band edges as grey lines, a legend below. Every text is escaped and the SVG has no ``style`` attribute
    and no script (presentation attributes only), so a page under a strict Content-Security-Policy can embed
    it; ``names`` rewrites each name before it is escaped (the viewer shows bidi controls as code points)."""
    name_of = names or (lambda name: name)
    runs = history.runs
    variant_ids = history.variant_ids
    edges: tuple[float, ...] = runs[-1].band_edges if runs else DEFAULT_BAND_EDGES
    left, right, top = 44.0, 16.0, 14.0
    column = 190
    per_row = max(1, int((width - left - right) // column))
    legend_rows = math.ceil(len(variant_ids) / per_row) if variant_ids else 0
    plot_bottom = height - 40.0
    total_height = int(height + legend_rows * 18 + 4)
    plot_width = width - left - right
    slot = plot_width / max(1, len(runs))
    spread = min(4.0, slot / (len(variant_ids) + 1)) if variant_ids else 0.0

    def x(index: int, variant: int = 0) -> float:
        return left + (index + 0.5) * slot + (variant - (len(variant_ids) - 1) / 2) * spread

    def y(rate: float) -> float:
        return top + (1.0 - rate) * (plot_bottom - top)

    def esc(text: str) -> str:
        return html.escape(text, quote=True)

    label = f"pass rate of each variant over the runs of {name_of(history.suite_name)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="history-chart" width="{width}" height="{total_height}" '
        f'viewBox="0 0 {width} {total_height}" role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>'
    ]
    labelled: list[float] = []
    for value in (0.0, 1.0, *edges):
        colour = "#888" if value in (0.0, 1.0) else "#ddd"
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{width - right}" y2="{y(value):.1f}" stroke="{colour}"/>'
        )
        if all(abs(y(value) - y(other)) >= 10 for other in labelled):  # no label over another (99% by 100%)
            labelled.append(value)
            parts.append(f'<text x="{left - 4}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end">'
                         f"{esc(f'{value:.0%}')}</text>")
    for index, entry in enumerate(runs):
        change = entry.suite_change
        if change is not None and index > 0:
            cx = left + index * slot
            parts.append(f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{plot_bottom}" stroke="#c60" '
                         f'stroke-dasharray="3 3"><title>{esc(name_of(change.words))}</title></line>')
    marks: list[str] = []
    for variant_index, variant_id in enumerate(variant_ids):
        colour = _PALETTE[variant_index % len(_PALETTE)]
        line: list[str] = []
        for index, entry in enumerate(runs):
            point = next((p for p in entry.points if p.variant_id == variant_id), None)
            if point is None or point.result.pass_rate is None:
                continue
            interval = point.result.interval
            cx = x(index, variant_index)
            line.append(f"{cx:.1f},{y(interval.estimate):.1f}")
            marks.append(f'<line x1="{cx:.1f}" y1="{y(interval.low):.1f}" x2="{cx:.1f}" y2="{y(interval.high):.1f}" '
                         f'stroke="{colour}" stroke-opacity="0.55" stroke-width="2"/>')
            title = (f"{name_of(variant_id)} ({name_of(point.model)}), run {name_of(entry.run.id)} "
                     f"{entry.run.created_at[:16].replace('T', ' ')}: {rate_words(point.result.rate)}")
            marks.append(f'<circle cx="{cx:.1f}" cy="{y(interval.estimate):.1f}" r="3" fill="{colour}">'
                         f"<title>{esc(title)}</title></circle>")
            if point.step is not None and point.step.flagged:
                verdict = name_of(step_words(point.step))
                marks.append(f'<circle class="flagged" cx="{cx:.1f}" cy="{y(interval.estimate):.1f}" r="7" '
                             f'fill="none" stroke="{colour}" stroke-width="2"><title>{esc(verdict)}</title></circle>')
        if len(line) > 1:
            parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    parts.extend(marks)
    if runs:
        first, last = runs[0].run.created_at[:10], runs[-1].run.created_at[:10]
        parts.append(f'<text x="{left}" y="{plot_bottom + 14:.1f}" font-size="10">{esc(first)}</text>')
        if len(runs) > 1:
            parts.append(f'<text x="{width - right}" y="{plot_bottom + 14:.1f}" font-size="10" text-anchor="end">'
                         f"{esc(last)}</text>")
    confidence = f"{runs[-1].confidence:.0%} intervals" if runs else "intervals"
    caption = f"{len(runs)} runs, oldest first; bars: {confidence}"
    parts.append(f'<text x="{left + plot_width / 2:.0f}" y="{plot_bottom + 28:.1f}" font-size="11" '
                 f'text-anchor="middle">{esc(caption)}</text>')
    for variant_index, variant_id in enumerate(variant_ids):
        colour = _PALETTE[variant_index % len(_PALETTE)]
        lx = left + (variant_index % per_row) * column
        ly = height + (variant_index // per_row) * 18 + 2
        shown = name_of(variant_id)
        shown = shown if len(shown) <= 28 else shown[:27] + "…"
        parts.append(f'<rect x="{lx:.0f}" y="{ly - 9:.0f}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14:.0f}" y="{ly:.0f}" font-size="11"><title>{esc(name_of(variant_id))}</title>'
                     f"{esc(shown)}</text>")
    parts.append("</svg>")
    return "".join(parts)

