"""Terminal output of the CLI: rich tables for runs, reports, graders and providers."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mendoza.core import Run
from mendoza.report import RunReport

__all__ = ["print_report", "print_runs"]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def print_runs(console: Console, runs: list[Run]) -> None:
    """The runs table of ``mendoza runs``."""
    table = Table(title="runs", title_justify="left")
    for column in ("id", "suite", "status", "created", "variants", "samples"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run.id,
            run.suite_name,
            run.status,
            run.created_at[:19].replace("T", " "),
            ", ".join(run.variant_ids),
            f"{run.done_samples}/{run.expected_samples}",
        )
    console.print(table)


def print_report(console: Console, report: RunReport, show_cases: bool = True) -> None:
    """Per variant pass rates, then per case k/n (``mendoza show``)."""
    run = report.run
    console.print(
        f"[bold]{run.suite_name}[/bold]  run {run.id}  "
        f"({run.status}, {run.done_samples}/{run.expected_samples} "
        f"samples, {run.repeats} repeats x {run.n_cases} cases)"
    )
    table = Table(title="pass rate per variant", title_justify="left")
    for column in ("variant", "model", "pass rate", "passed", "failed", "errors", "tokens in/out", "latency"):
        table.add_column(column, justify="right" if column not in ("variant", "model") else "left")
    for variant in report.variants:
        latency = "-" if variant.mean_latency_ms is None else f"{variant.mean_latency_ms:.0f} ms"
        table.add_row(
            variant.variant_id,
            variant.model,
            _rate(variant.pass_rate),
            str(variant.passed),
            str(variant.failed),
            str(variant.errors + variant.undecided),
            f"{variant.tokens_in}/{variant.tokens_out}",
            latency,
        )
    console.print(table)
    if not show_cases:
        return
    by_case: dict[str, dict[str, str]] = {}
    for cell in report.cases:
        graded = cell.passed + cell.failed
        text = f"{cell.passed}/{graded}" if graded else "-"
        if cell.errors:
            text += f" ({cell.errors} err)"
        by_case.setdefault(cell.case_id, {})[cell.variant_id] = text
    console.print("[bold]passed / graded per case[/bold]")
    cases = Table()
    cases.add_column("case")
    variant_ids = [variant.variant_id for variant in report.variants]
    for variant_id in variant_ids:
        cases.add_column(variant_id, justify="right")
    for case in report.suite.cases:
        cells = by_case.get(case.id, {})
        cases.add_row(case.id, *(cells.get(variant_id, "-") for variant_id in variant_ids))
    console.print(cases)
