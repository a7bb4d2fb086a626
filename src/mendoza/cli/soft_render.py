"""Terminal output of the soft-eval commands: the judge section of a report, calibration, ranking, regrades,
the sample shown while labelling and a drafted rubric."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mendoza.cli.text import BLOCK_LIMIT, clip, clip_block, plain
from mendoza.store import CaseRecord, CurrentGrade, SampleRecord

if TYPE_CHECKING:
    from mendoza.api import DraftedRubric, QueueItem, RegradeResult
    from mendoza.report import Calibration, JudgeReport, Ranking

__all__ = [
    "print_calibration",
    "print_judge_report",
    "print_label_sample",
    "print_ranking",
    "print_regrade",
    "print_rubric_draft",
]


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _interval(low: float, high: float, pct: bool = True) -> str:
    if math.isnan(low) or math.isnan(high):
        return "[-]"
    return f"[{_pct(low)}, {_pct(high)}]" if pct else f"[{low:.2f}, {high:.2f}]"


def print_judge_report(console: Console, report: JudgeReport) -> None:
    """The judge section of ``mendoza show``: trust, noise, agreement between judges, warnings."""
    console.print("[bold]judges[/bold] (graders that ask a model)")
    trust = Table()
    for column in ("grader", "judge(s)", "human labels", "agreement", "Cohen's kappa", "trust"):
        trust.add_column(column, justify="left" if column in ("grader", "judge(s)", "trust") else "right")
    for measured in report.trust:
        colour = {"good": "green", "poor": "red", "unmeasured": "yellow"}[measured.status]
        trust.add_row(
            clip(measured.grader), clip(", ".join(measured.judges)), str(measured.labelled), _pct(measured.agreement),
            _num(measured.kappa), f"[{colour}]{measured.status}[/{colour}]",
        )
    console.print(trust)
    repeated = [row for row in report.noise if row.repeated]
    if repeated:
        console.print(
            "[bold]judge noise[/bold]: how often the judge's repeats disagree on the same output, and the "
            "variance of judged scores split into judge / model / case"
        )
        noise = Table()
        for column in ("grader", "judge", "variant", "repeats disagree", "judge var", "model var", "case var",
                       "judge share"):
            noise.add_column(column, justify="left" if column in ("grader", "judge", "variant") else "right")
        for row in repeated:
            noise.add_row(
                clip(row.grader), clip(row.judge), clip(row.variant_id),
                f"{row.flipped}/{row.repeated} ({_pct(row.flip_rate)})",
                _num(row.variance.within_sample, 3), _num(row.variance.within_case, 3),
                _num(row.variance.between_cases, 3), _pct(row.variance.judge_share),
            )
        console.print(noise)
    unreadable = sum(row.unreadable for row in report.noise)
    answers = sum(row.answers for row in report.noise)
    asks = sum(row.asks for row in report.noise)
    if answers:
        console.print(
            f"judge answers: {answers}, unreadable after re-asks: {unreadable}, re-asks: {asks - answers}"
        )
    if report.agreement:
        console.print("[bold]agreement between judges[/bold] (each judge's majority verdict; * = all criteria)")
        table = Table()
        for column in ("grader", "criterion", "judge A", "judge B", "n", "agreement", "kappa"):
            table.add_column(column, justify="right" if column in ("n", "agreement", "kappa") else "left")
        for agreement in report.agreement:
            table.add_row(
                clip(agreement.grader), clip(agreement.criterion), clip(agreement.judge_a), clip(agreement.judge_b),
                str(agreement.n), _pct(agreement.agreement), _num(agreement.kappa),
            )
        console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {clip(warning, 600)}")


def print_calibration(console: Console, calibration: Calibration) -> None:
    """``mendoza calibrate``: agreement, kappa, confusion matrix, error rates, corrected pass rates."""
    matrix = calibration.matrix
    judges = f" ({clip(', '.join(calibration.judges))})" if calibration.judges else ""
    level = f"{calibration.confidence:.0%}"
    console.print(
        f"[bold]{clip(calibration.grader)}[/bold]{judges} against {calibration.labelled} human labels, "
        f"run {calibration.run_id}"
    )
    kappa = calibration.kappa
    console.print(
        f"agreement {_pct(calibration.agreement)}, Cohen's kappa {_num(kappa.estimate)} "
        f"{level} {_interval(kappa.low, kappa.high, pct=False)} (bootstrap)"
    )
    console.print("confusion matrix (rows: the human's verdict, columns: the grader's)")
    table = Table()
    table.add_column("")
    table.add_column("grader pass", justify="right")
    table.add_column("grader fail", justify="right")
    table.add_row("human pass", str(matrix.true_positive), str(matrix.false_negative))
    table.add_row("human fail", str(matrix.false_positive), str(matrix.true_negative))
    console.print(table)
    sens, spec = calibration.sensitivity, calibration.specificity
    console.print(
        f"sensitivity {_pct(sens.estimate)} {_interval(sens.low, sens.high)} (human passes it passes), "
        f"specificity {_pct(spec.estimate)} {_interval(spec.low, spec.high)} (human failures it fails)"
    )
    console.print(f"pass rate by the grader, and corrected for its errors (Rogan-Gladen, {level} interval)")
    rates = Table()
    for column in ("variant", "graded", "by the grader", "corrected \\[interval]"):
        rates.add_column(column, justify="left" if column == "variant" else "right")
    for rate in calibration.rates:
        corrected = rate.corrected
        rates.add_row(
            "all variants" if rate.variant_id == "*" else clip(rate.variant_id), str(rate.graded), _pct(rate.observed),
            f"{_pct(corrected.estimate)} {_interval(corrected.low, corrected.high)}",
        )
    console.print(rates)
    for note in calibration.notes:
        console.print(f"note: {clip(note, 600)}")


def print_ranking(console: Console, ranking: Ranking) -> None:
    """``mendoza rank``: variants by Bradley-Terry rating, head to head, and the judge's position bias."""
    console.print(
        f"[bold]ranking by {clip(ranking.grader)}[/bold] (judge {clip(ranking.judge)}) on "
        f"{ranking.judgements} judgements, run {ranking.run_id}; Bradley-Terry, mean 1000, 400 points = 10:1 odds"
    )
    table = Table()
    for column in ("rank", "variant", f"rating [{ranking.confidence:.0%} interval]", "wins", "losses", "ties"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for position, rating in enumerate(ranking.ratings, start=1):
        interval = rating.rating
        shown = f"{interval.estimate:.0f}"
        if not math.isnan(interval.low):
            shown += f" [{interval.low:.0f}, {interval.high:.0f}]"
        table.add_row(
            str(position), clip(rating.variant_id), shown, str(rating.wins), str(rating.losses), str(rating.ties)
        )
    console.print(table)
    if ranking.pairs:
        console.print("head to head (each pair judged in both orders; an inconsistent pair is a tie)")
        pairs = Table()
        for column in ("A", "B", "A wins", "B wins", "ties"):
            pairs.add_column(column, justify="left" if column in ("A", "B") else "right")
        for pair in ranking.pairs:
            pairs.add_row(
                clip(pair.variant_a), clip(pair.variant_b), str(pair.a_wins), str(pair.b_wins), str(pair.ties)
            )
        console.print(pairs)
    if ranking.judgements:
        console.print(
            f"swapping the order changed the judge's answer in {ranking.inconsistent}/{ranking.judgements} "
            f"({_pct(ranking.inconsistency)}); of those it preferred the first shown {ranking.first_favoured} "
            f"times and the second {ranking.second_favoured} times"
        )
    for note in ranking.notes:
        console.print(f"note: {clip(note, 600)}")


def print_regrade(console: Console, result: RegradeResult) -> None:
    """What ``mendoza regrade`` did."""
    names = ", ".join(f"{spec.name} ({spec.definition_hash()[:8]})" for spec in result.applied) or "none"
    console.print(f"regraded run {clip(result.run.id)} with {clip(names, 600)}; the model under test was not called")
    samples, pairs = result.samples, result.pairs
    if samples.written or samples.skipped:
        console.print(
            f"grades: {samples.written} new ({samples.errors} errors), {samples.skipped} already stored for the "
            "same definition"
        )
    if pairs.written or pairs.skipped:
        console.print(
            f"pairwise judgements: {pairs.written} new ({pairs.errors} errors), {pairs.skipped} already stored"
        )
    current = ", ".join(spec.name for spec in result.grader_set)
    console.print(f"graders that count now (revision {result.revision}): {clip(current, 600)}")


def print_label_sample(
    console: Console,
    position: int,
    total: int,
    item: QueueItem,
    sample: SampleRecord,
    case: CaseRecord | None,
    grades: list[CurrentGrade],
) -> None:
    """One sample to label: why it is shown, the case's input, the output and the automatic verdicts."""
    label = "" if sample.human_passed is None else f"  (labelled: {'pass' if sample.human_passed else 'fail'})"
    console.rule(
        f"[{position}/{total}] case {clip(sample.case_id)} · variant {clip(sample.variant_id)} · "
        f"repeat {sample.repeat} · {item.reason}{label}"
    )
    if case is not None:
        shown: dict[str, Any] = dict(case.vars)
        if case.expected is not None:
            shown["expected"] = case.expected
        for name, value in shown.items():
            console.print(Text.assemble((f"{plain(name)}: ", "bold"), plain(value, BLOCK_LIMIT, one_line=False)))
    console.print(Panel(Text.from_markup(clip_block(sample.output or "")), title="output", title_align="left"))
    for grade in grades:
        if grade.error is not None:
            verdict = "[red]error[/red]"
            why = grade.error
        else:
            verdict = "[green]pass[/green]" if grade.passed else "[red]fail[/red]"
            why = grade.explanation
        console.print(f"{clip(grade.grader)}: {verdict}  {clip(why, 600)}")


def print_rubric_draft(console: Console, drafted: DraftedRubric) -> None:
    """``mendoza rubric draft``: the split, who drafted what, the criteria, and how they did on the held-out
    labels (agreement, Cohen's kappa with its interval, n, the verdict)."""
    draft, calibration = drafted.draft, drafted.calibration
    answer, split = draft.answer, draft.split
    if draft.embedded:
        console.print(
            f"note: {clip(answer.model)} is the small embedded model and drafts weak rubrics; pass --model with a "
            "stronger one (e.g. openai/gpt-4o-mini) when one is configured."
        )
    drafting, held = split.counts(split.drafting), split.counts(split.held_out)
    console.print(
        f"labels of run {clip(draft.run.id)}: drafting from {drafting[0]} passes and {drafting[1]} failures, "
        f"holding out {held[0]} passes and {held[1]} failures"
    )
    base = f", building on grader '{clip(draft.base.name)}'" if draft.base is not None else ""
    console.print(
        f"drafted by {clip(answer.model)} (prompt sha256 {answer.prompt_sha256[:12]}, seed {answer.seed}, "
        f"{answer.attempts} ask(s){base})"
    )
    for reason in answer.rejected:
        console.print(f"  re-asked: {clip(reason, 300)}")
    console.print(f"[bold]{clip(draft.spec.name)}[/bold] criteria:")
    for number, criterion in enumerate(answer.value, start=1):
        console.print(f"  {number}. {clip(criterion, 300)}")
    errors = draft.graded.samples.errors
    if errors:
        console.print(f"  {errors} held-out grade(s) are errors (no readable verdict from the judge): left out")
    judges = f" (judge {clip(', '.join(calibration.judges))})" if calibration.judges else ""
    kappa = calibration.kappa
    console.print(
        f"on the held-out labels{judges}: n {calibration.labelled}, agreement {_pct(calibration.agreement)}, "
        f"Cohen's kappa {_num(kappa.estimate)} {calibration.confidence:.0%} "
        f"{_interval(kappa.low, kappa.high, pct=False)} (bootstrap)"
    )
    colour = {"usable": "green", "poor": "yellow"}.get(drafted.verdict.status, "red")
    console.print(f"verdict: [{colour}]{drafted.verdict.status}[/{colour}]: {clip(drafted.verdict.reason, 400)}")
    if draft.held_out_db.exists():
        db = plain(draft.held_out_db, 300)
        console.print(
            f"held-out grades kept in {db}: mendoza calibrate {clip(draft.run.id)} --db {db} "
            f"--grader {clip(draft.spec.name)}"
        )
