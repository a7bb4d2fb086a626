"""``mendoza history``: every run of a suite, oldest first, and which changes between them are real."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from mendoza import api
from mendoza.cli.options import db_option, verdicts_option
from mendoza.cli.text import clip, make_console
from mendoza.report import (
    CaseFlip,
    HistoryRun,
    VariantStep,
    Verdicts,
    band_words,
    history_dict,
    iter_history,
    rate_words,
    step_words,
    suite_runs,
)

__all__ = ["history"]

#: At most this many cases that newly pass (or fail) are printed per change; ``--json`` has them all.
FLIPS_SHOWN = 8


def _difference(step: VariantStep) -> str:
    paired = step.comparison.paired
    return f"{paired.difference:+.1%} [{paired.low:+.1%}, {paired.high:+.1%}] on {paired.n} cases"


def _flips(console: Console, what: str, flips: list[CaseFlip]) -> None:
    if not flips:
        return
    shown = "; ".join(clip(flip.words, 200) for flip in flips[:FLIPS_SHOWN])
    more = f"; and {len(flips) - FLIPS_SHOWN} more" if len(flips) > FLIPS_SHOWN else ""
    console.print(f"      {what} ({len(flips)}): {shown}{more}", emoji=False)


def _print_run(console: Console, entry: HistoryRun) -> None:
    run = entry.run
    console.print(
        f"[bold]{run.created_at[:16].replace('T', ' ')}[/bold]  run {clip(run.id)}  ({run.status}, "
        f"{run.done_samples}/{run.expected_samples} samples)",
        emoji=False,
    )
    if entry.suite_change is not None:
        colour = "yellow" if entry.suite_change.cases_or_graders else "cyan"
        console.print(f"  [{colour}]{clip(entry.suite_change.words, 300)}[/{colour}]", emoji=False)
    for point in entry.points:
        line = f"  {clip(point.variant_id)} ({clip(point.model)}): {rate_words(point.result.rate)}"
        band = band_words(point.result.rate)
        if band != "-":
            line += f", {band}"
        step = point.step
        if step is not None:
            if step.flagged:
                colour = "green" if step.direction == "better" else "red"
                line += f"  [{colour}]really {step.direction}: {_difference(step)}[/{colour}]"
            else:
                line += f"  no real change: {_difference(step)}"
            if step.before_model != step.after_model:
                line += f"  (model was {clip(step.before_model)})"
            elif step.variant_changed:
                line += "  (prompt or params changed)"
        console.print(line, emoji=False)
        if step is not None:
            _flips(console, "newly passing", step.newly_passing)
            _flips(console, "newly failing", step.newly_failing)


@click.command()
@click.argument("suite_name", metavar="SUITE_NAME")
@db_option
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="V",
    help="Only this variant (repeatable; a model matrix's id stands for all its models; default: every variant).",
)
@verdicts_option
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON (schema mendoza.history/1).")
def history(
    suite_name: str, db: Path | str | None, variants: tuple[str, ...], verdicts: Verdicts, as_json: bool
) -> None:
    """Every run of the suite named SUITE_NAME (as `mendoza runs` lists it), oldest first: per variant and model
    the pass rate with its interval, where the suite itself changed (its cases, graders, variants, settings),
    and between consecutive runs of a variant the change, flagged only where the paired comparison of
    `mendoza compare RUN_A RUN_B --variant V` says it is real, with the cases that newly pass or newly fail
    consistently. Each pair is tested on its own: over many runs, expect a chance flag about one time in twenty.
    """
    with api.open_store(db, readonly=True) as store:
        runs = suite_runs(store, suite_name)
        known = list(dict.fromkeys(variant for run in runs for variant in run.variant_ids))
        chosen: list[str] = []
        for asked in variants:
            # A model matrix's id stands for every variant it expanded to (few-shot: few-shot@a, few-shot@b).
            found = [asked] if asked in known else [vid for vid in known if vid.startswith(asked + "@")]
            if runs and not found:
                raise click.UsageError(
                    f"no run of suite {clip(suite_name)!r} has variant {clip(asked)!r} "
                    f"(its variants: {clip(', '.join(known), 300)})"
                )
            chosen.extend(found)
        entries = iter_history(store, suite_name, variants=chosen or None, verdicts=verdicts, runs=runs)
        if as_json:
            click.echo(json.dumps(history_dict(suite_name, verdicts, entries), indent=2, allow_nan=False))
            return
        console = make_console()
        console.print(
            f"[bold]history of suite {clip(suite_name)}[/bold]: {len(runs)} runs, oldest first ({verdicts} "
            "verdicts; each change paired by case with the variant's previous run, at the suite's confidence)",
            emoji=False,
        )
        flagged: list[VariantStep] = []
        compared = 0
        for entry in entries:
            _print_run(console, entry)
            steps = [point.step for point in entry.points if point.step is not None]
            compared += len(steps)
            flagged.extend(step for step in steps if step.flagged)
    if not flagged:
        console.print(f"no change between consecutive runs is statistically real ({compared} compared)")
        return
    console.print(f"[bold]statistically real changes[/bold] ({len(flagged)} of {compared} compared):")
    for step in flagged:
        colour = "green" if step.direction == "better" else "red"
        console.print(f"  [{colour}]{clip(step_words(step), 600)}[/{colour}]", emoji=False)
