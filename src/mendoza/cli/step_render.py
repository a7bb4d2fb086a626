"""The per step section of the terminal report: under each variant whose samples recorded steps, a table of
its steps, where its failures start, and the end-to-end rate beside the product of the step rates. Every
figure and sentence comes from ``mendoza.report``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mendoza.cli.text import clip
from mendoza.report import (
    RunReport,
    VariantResult,
    failed_at_words,
    percent,
    rate_words,
    step_chain_words,
    step_ran_words,
    step_rate_words,
)

__all__ = ["print_steps"]


def print_steps(console: Console, report: RunReport) -> None:
    """The step section of every variant that has steps (nothing for a run without steps)."""
    for variant in report.variants:
        if variant.steps:
            _print_variant_steps(console, variant)


_COLUMNS = ("step", "kind", "ran", "pass rate \\[interval]", "errors", "p50/p95 ms", "tokens in/out", "cost share")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _print_variant_steps(console: Console, variant: VariantResult) -> None:
    console.print(
        f"[bold]steps of {clip(variant.variant_id)}[/bold] (own pass rate where a grader targets the step, "
        "automatic verdicts; errors: runs of the step that failed)"
    )
    table = Table()
    for column in _COLUMNS:
        table.add_column(column, justify="left" if column in ("step", "kind") else "right")
    for step in variant.steps:
        errors = f"{step.errors} ({percent(step.error_share)})" if step.errors else "0"
        table.add_row(
            clip(step.name),
            step.kind,
            step_ran_words(step),
            step_rate_words(step),
            f"[red]{errors}[/red]" if step.errors else errors,
            f"{_ms(step.latency_p50_ms)}/{_ms(step.latency_p95_ms)}",
            f"{step.tokens_in}/{step.tokens_out}",
            percent(step.cost_share),
        )
    if variant.final_output is not None:
        table.add_row("final output", "", "", rate_words(variant.final_output), "", "", "", "")
    console.print(table)
    where = failed_at_words(variant.failed_at)
    if where is not None:
        console.print(f"  where failures start: {clip(where, 600)}")
    if variant.step_chain is not None:
        console.print(f"  {clip(step_chain_words(variant.step_chain), 600)}")
