"""``mendoza cases``: work on a suite's cases. ``cases analyze RUN`` is the item analysis of a finished run
(which cases tell variants apart, which are saturated, suspect or flaky); ``cases subset RUN --keep K`` picks K
cases whose pass rate estimates the whole suite's, with the error of that estimate beside random subsets'.

A group, not a command with a RUN argument, so that the other work on cases (drafting, importing, reviewing)
can join it as ``mendoza cases draft|import|review``. Every figure comes from ``mendoza.report``
(``analyse_items``, ``choose_subset``)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from mendoza import api
from mendoza.cli.cases_draft import draft, perturb, write_rows
from mendoza.cli.cases_import import dedupe_command, import_command
from mendoza.cli.cases_review import review_command
from mendoza.cli.options import db_option, verdicts_option
from mendoza.cli.text import clip, make_console, plain
from mendoza.report import (
    ItemAnalysis,
    Verdicts,
    analyse_items,
    choose_subset,
    discrimination_words,
    flakiness_words,
    items_to_dict,
    percent,
    rate_words,
    subset_cases,
    subset_to_dict,
    subset_words,
    suspect_words,
)

__all__ = ["cases", "print_items"]

#: How many cases ``cases analyze`` lists unless asked (worst first).
SHOWN_BY_DEFAULT = 40


def print_items(console: Console, analysis: ItemAnalysis, limit: int) -> None:
    """The variants' rates, the cases worst first (at most ``limit``; 0: all), the suggestions and notes."""
    run = analysis.run
    console.print(
        f"[bold]items of {clip(run.suite_name)}[/]  run {clip(run.id)}  ({len(analysis.items)} cases, "
        f"{len(analysis.variants)} variants x {run.repeats} repeats)"
    )
    rates = ", ".join(f"{clip(v.variant_id)} {percent(v.rate)}" for v in analysis.variants)
    console.print(f"variants, by pass rate on every case: {rates}")
    across = bool(analysis.other_runs)
    table = Table(title="cases, worst first", title_justify="left")
    columns = ["case", "flags", "pass rate \\[interval]", "discrimination"]
    columns += ["across runs"] if across else []
    columns += ["flaky on", "most common failing output"]
    for column in columns:
        table.add_column(column, justify="right" if column in ("discrimination", "across runs") else "left")
    shown = analysis.items if limit == 0 else analysis.items[:limit]
    for item in shown:
        row = [clip(item.case_id), ", ".join(item.flags), rate_words(item.difficulty),
               discrimination_words(item.discrimination)]
        row += [discrimination_words(item.discrimination_across_runs)] if across else []
        row += [flakiness_words(item), clip(suspect_words(item), 120)]
        table.add_row(*row)
    console.print(table)
    if len(shown) < len(analysis.items):
        console.print(f"  {len(analysis.items) - len(shown)} more cases: --limit 0 lists them all")
    console.print("[bold]suggestions[/]")
    for line in analysis.suggestions:
        console.print(f"  {clip(line, 1000)}")
    for note in analysis.notes:
        console.print(f"  note: {clip(note, 1000)}")


@click.group()
def cases() -> None:
    """Write and keep better cases: draft them with a model (draft), perturb them (perturb), import real traffic
    (import), drop duplicates (dedupe); then, after a run, see which are worth keeping (analyze) and a smaller
    suite that says the same (subset). Drafts and imports land in a drafts file, never in the suite unreviewed."""


@cases.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@verdicts_option
@click.option("--limit", type=click.IntRange(min=0), default=SHOWN_BY_DEFAULT, show_default=True,
              help="List at most this many cases, worst first (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON (schema mendoza.items/1).")
def analyze(run_ref: str, db: Path | str | None, verdicts: Verdicts, limit: int, as_json: bool) -> None:
    """Item analysis of RUN: per case its pass rate over every variant (difficulty, with its interval), whether
    it separates the better variants from the worse (discrimination: the point-biserial correlation with the
    variants' rates on the other cases, and across the other runs of the suite), how flaky it is, and whether it
    is saturated (every variant always passes) or suspect (every variant fails, often with one output: likely a
    wrong expected answer). Worst first, with what to do: drop saturated cases, check suspect ones, add repeats
    to flaky ones."""
    with api.open_store(db, readonly=True) as store:
        analysis = analyse_items(store, run_ref, verdicts=verdicts)
    if as_json:
        click.echo(json.dumps(items_to_dict(analysis), indent=2, ensure_ascii=False))
        return
    print_items(make_console(), analysis, limit)


@cases.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@click.option("--keep", type=click.IntRange(min=1), required=True, help="How many cases to keep.")
@db_option
@verdicts_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random subsets compared with.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the kept cases to this .jsonl cases file (as the run's suite snapshot has them).")
@click.option("--json", "as_json", is_flag=True, help="Print the subset as JSON (schema mendoza.subset/1).")
def subset(
    run_ref: str, keep: int, db: Path | str | None, verdicts: Verdicts, seed: int, output: Path | None, as_json: bool
) -> None:
    """KEEP cases of RUN whose pass rate estimates the whole suite's, stratified by difficulty and
    discrimination. The expected error of that estimate is measured by leaving each variant out (the subset
    chosen on the others) and on the other runs of the suite, and printed beside the error of random subsets
    of the same size. Prints the kept case ids; -o writes them as a cases file."""
    with api.open_store(db, readonly=True) as store:
        report = choose_subset(store, run_ref, keep, verdicts=verdicts, seed=seed)
        rows = subset_cases(store, report) if output is not None else []
    if output is not None:
        write_rows(output, rows)
    if as_json:
        click.echo(json.dumps(subset_to_dict(report), indent=2, ensure_ascii=False))
    else:
        console = make_console()
        console.print(f"[bold]a subset of {clip(report.run.suite_name)}[/]  run {clip(report.run.id)}")
        for line in subset_words(report):
            console.print(clip(line, 2000))
        for note in report.notes:
            console.print(f"  note: {clip(note, 1000)}")
        console.print(f"kept cases ({len(report.case_ids)}, one a line):")
        for case_id in report.case_ids:
            click.echo(plain(case_id, 200))
    if output is not None:
        click.echo(f"wrote {len(rows)} cases to {plain(output, 300)}", err=True)


cases.add_command(import_command)
cases.add_command(dedupe_command)
cases.add_command(perturb)
cases.add_command(draft)
cases.add_command(review_command)
