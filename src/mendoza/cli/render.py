"""Terminal output of the CLI: rich tables for runs, reports, comparisons and plans."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mendoza.cli.soft_render import print_judge_report
from mendoza.cli.step_render import print_steps
from mendoza.cli.text import clip
from mendoza.core import Run
from mendoza.report import Comparison, Gate, Plan, RunReport, band_words, percent, rate_words, variant_notes

__all__ = ["print_comparison", "print_gate", "print_plan", "print_report", "print_runs"]


def print_runs(console: Console, runs: list[Run]) -> None:
    """The runs table of ``mendoza runs``."""
    table = Table(title="runs", title_justify="left")
    for column in ("id", "suite", "status", "created", "variants", "samples"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            clip(run.id),
            clip(run.suite_name),
            run.status,
            run.created_at[:19].replace("T", " "),
            clip(", ".join(run.variant_ids)),
            f"{run.done_samples}/{run.expected_samples}",
        )
    console.print(table)


def print_report(console: Console, report: RunReport, show_cases: bool = True) -> None:
    """Per variant pass rate with its interval, band and advice, errors and their bounds, the other verdicts,
    warnings, breakdowns, the steps (when samples recorded some), pass@k / pass^k, then per case k/n."""
    run = report.run
    mode = " adaptive," if run.adaptive else ""
    console.print(
        f"[bold]{clip(run.suite_name)}[/bold]  run {clip(run.id)}  ({run.status},{mode} {run.done_samples}/"
        f"{run.expected_samples} samples, {run.n_cases} cases x {run.repeats} repeats)"
    )
    method = report.variants[0].interval_method if report.variants else ""
    counted = "errors count as failures" if report.suite.errors == "fail" else "errors left out (errors: exclude)"
    console.print(
        f"[bold]pass rate per variant[/bold] ({report.confidence:.0%} interval, {method}; {report.verdicts} "
        f"verdicts; {counted})"
    )
    table = Table()
    for column in ("variant", "pass rate \\[interval]", "band", "passed", "errored", "cost/pass", "latency p50/p95"):
        table.add_column(column, justify="left" if column in ("variant", "band") else "right")
    for variant in report.variants:
        band = band_words(variant.rate)
        if variant.band.decided:
            band = f"[bold]{band}[/bold]"
        latency = "-"
        if variant.latency_p50_ms is not None and variant.latency_p95_ms is not None:
            latency = f"{variant.latency_p50_ms:.0f}/{variant.latency_p95_ms:.0f}ms"
        errored = f"[red]{variant.errors} ({percent(variant.error_share)})[/red]" if variant.errors else "0"
        if variant.undecided:
            errored += f" +{variant.undecided} undecided"
        per_pass = "-" if variant.cost_per_pass is None else f"${variant.cost_per_pass:.4f}"
        table.add_row(
            clip(variant.variant_id),
            rate_words(variant.rate),
            band,
            f"{variant.passed}/{variant.graded}",
            errored,
            per_pass,
            latency,
        )
    console.print(table)
    for variant in report.variants:
        console.print(f"  [bold]{clip(variant.variant_id)}[/bold]: {clip(variant.recommendation, 600)}")
        for words in variant_notes(report, variant):
            style = "yellow" if words.startswith("warning:") else None
            console.print(f"    {clip(words, 600)}", style=style)
    if run.adaptive:
        _print_adaptive(console, report)
    _print_breakdowns(console, report)
    print_steps(console, report)
    _print_pass_k(console, report)
    if show_cases:
        _print_cases(console, report)
    if report.judges is not None:
        print_judge_report(console, report.judges)


def _print_breakdowns(console: Console, report: RunReport) -> None:
    rows = [
        (variant, kind, item)
        for variant in report.variants
        for kind, items in (("grader", variant.by_grader), ("tag", variant.by_tag))
        for item in items
    ]
    if not rows:
        return
    console.print("[bold]per grader and per tag[/bold] (each grader's own verdicts; the cases with each tag)")
    table = Table()
    for column in ("variant", "grader / tag", "pass rate [interval]", "band", "cases"):
        table.add_column(column, justify="right" if column == "cases" else "left")
    for variant, kind, item in rows:
        table.add_row(
            variant.variant_id, f"{kind} {item.name}", rate_words(item.rate), band_words(item.rate), str(item.cases)
        )
    console.print(table)


def print_gate(console: Console, gate: Gate) -> None:
    """The gate's checks, one line each, and its outcome (nothing when the suite sets no threshold)."""
    if not gate.checks:
        return
    colours = {"pass": "green", "fail": "red", "inconclusive": "yellow"}
    for check in gate.checks:
        colour = colours[check.outcome]
        console.print(f"[{colour}]gate {check.outcome}:[/{colour}] {escape(check.message)}")
    if gate.outcome == "inconclusive":
        consequence = "fails CI" if gate.fails_ci else "does not fail CI"
        console.print(
            f"[yellow]the gate is inconclusive[/yellow]: the data show neither a pass nor a fail; with "
            f"on_inconclusive: {gate.on_inconclusive} it {consequence}"
        )


def _print_adaptive(console: Console, report: RunReport) -> None:
    run = report.run
    fixed = run.n_cases * run.repeats
    console.print(
        f"[bold]adaptive sampling[/bold]: {run.done_samples} samples in all; the suite's fixed design "
        f"takes {fixed} per variant ({run.n_cases} cases x {run.repeats} repeats)"
    )
    for variant in report.variants:
        oracle = variant.fixed_design_to_decide
        hint = f"; a fixed design sized in hindsight for this rate would need {oracle}" if oracle else ""
        state = "decided" if variant.band.decided else "still undecided"
        console.print(f"  {clip(variant.variant_id)}: {state} after {variant.samples} samples{hint}")


def _print_pass_k(console: Console, report: RunReport) -> None:
    repeats = max((len(variant.pass_at_k) for variant in report.variants), default=0)
    if repeats < 2:
        return
    console.print("[bold]pass@k (any of k tries passes) / pass^k (all k tries pass)[/bold]")
    table = Table()
    table.add_column("variant")
    for k in range(1, repeats + 1):
        table.add_column(f"k={k}", justify="right")
    for variant in report.variants:
        cells = [
            f"{percent(at)} / {percent(hat)}" for at, hat in zip(variant.pass_at_k, variant.pass_hat_k, strict=True)
        ]
        table.add_row(clip(variant.variant_id), *cells)
    console.print(table)


def _print_cases(console: Console, report: RunReport) -> None:
    cells = {(case.variant_id, case.case_id): case for case in report.cases}
    console.print("[bold]passed / graded per case[/bold] ([yellow]yellow[/yellow]: flaky)")
    table = Table()
    table.add_column("case")
    variant_ids = [variant.variant_id for variant in report.variants]
    for variant_id in variant_ids:
        table.add_column(clip(variant_id), justify="right")
    for case in report.suite.cases:
        row = []
        for variant_id in variant_ids:
            cell = cells.get((variant_id, case.id))
            if cell is None:
                row.append("-")
                continue
            text = f"{cell.passed}/{cell.graded}" if cell.graded else "-"
            if cell.errors:
                text += f" ({cell.errors} err)"
            row.append(f"[yellow]{text}[/yellow]" if cell.flaky else text)
        table.add_row(clip(case.id), *row)
    console.print(table)


def print_comparison(console: Console, comparison: Comparison) -> None:
    """The paired comparison: overall difference with its interval, then the cases that changed."""
    paired = comparison.paired
    if paired.n == 0:
        console.print(comparison.verdict, markup=False)
        return
    console.print(
        f"[bold]{clip(comparison.b_label)}[/bold] vs [bold]{clip(comparison.a_label)}[/bold], "
        f"paired on {paired.n} cases: "
        f"{percent(comparison.b_rate)} vs {percent(comparison.a_rate)}"
    )
    console.print(
        f"difference {paired.difference:+.1%}, {comparison.confidence:.0%} interval "
        f"{paired.low:+.1%} to {paired.high:+.1%}, p = {paired.p_value:.3g}"
    )
    colour = (
        "green" if comparison.significant and paired.difference > 0 else ("red" if comparison.significant else "yellow")
    )
    console.print(f"[{colour}]{clip(comparison.verdict, 600)}[/{colour}]")
    for direction in ("better", "worse"):
        changed = comparison.changed(direction)
        if not changed:
            continue
        console.print(f"[bold]cases significantly {direction}[/bold] (exact test, FDR {comparison.fdr:.0%})")
        table = Table()
        for column in ("case", clip(comparison.a_label), clip(comparison.b_label), "q"):
            table.add_column(column, justify="left" if column == "case" else "right")
        for case in changed:
            table.add_row(
                clip(case.case_id),
                f"{case.a_passed}/{case.a_graded}",
                f"{case.b_passed}/{case.b_graded}",
                f"{case.q_value:.3g}",
            )
        console.print(table)
    moved = [case for case in comparison.cases if case.direction != "same" and not case.significant]
    if moved:
        console.print(f"{len(moved)} other cases moved, none by more than chance explains.")
    if comparison.only_in_a:
        console.print(
            f"only in {clip(comparison.a_label)} ({len(comparison.only_in_a)}): "
            f"{clip(', '.join(comparison.only_in_a), 400)}"
        )
    if comparison.only_in_b:
        console.print(
            f"only in {clip(comparison.b_label)} ({len(comparison.only_in_b)}): "
            f"{clip(', '.join(comparison.only_in_b), 400)}"
        )


def print_plan(console: Console, plan: Plan) -> None:
    """The designs that reach a goal: cases x repeats, and the samples each costs per variant."""
    console.print(f"[bold]to {plan.goal}[/bold]")
    console.print(
        f"variance between cases {plan.between:.4f}, within a case {plan.within:.4f} ({clip(plan.source, 300)})"
    )
    table = Table()
    for column in ("repeats", "cases", "samples per variant"):
        table.add_column(column, justify="right")
    best = min(plan.designs, key=lambda design: design.samples)
    for design in plan.designs:
        mark = "  <- fewest samples" if design is best else ""
        table.add_row(str(design.repeats), str(design.cases), f"{design.samples}{mark}")
    console.print(table)
    console.print("More repeats shrink only the within-case part; when cases differ a lot, only more cases help.")
