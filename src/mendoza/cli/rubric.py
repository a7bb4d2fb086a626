"""``mendoza rubric draft``: a rubric drafted by a model from a run's human labels and notes, measured at once
on the labels it was not drafted from.

A group, so that other work on rubrics can join it. The command parses its options, calls
``api.draft_rubric`` and prints (``cli/soft_render.py::print_rubric_draft``); the grader is written as YAML to
paste into a suite, never into one.
"""

from __future__ import annotations

from pathlib import Path

import click

from mendoza import api
from mendoza.cli.failures import is_machine_failure
from mendoza.cli.options import concurrency_option, db_option
from mendoza.cli.soft_render import print_rubric_draft
from mendoza.cli.text import make_console, plain

__all__ = ["rubric"]


@click.group()
def rubric() -> None:
    """Work on rubric graders: draft one from a run's labels."""


@rubric.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option("--grader", help="The run's rubric grader to build on: its judges and settings, criteria to improve "
              "(default: the run's first judged grader, if any).")
@click.option("--model", help="The model that drafts the criteria (default: the judge of that grader, else the "
              "embedded local/gemma-3-270m).")
@click.option("--judge", help="The drafted rubric's judge (default: that grader's judges, else --model).")
@click.option("--holdout", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True), default=0.5,
              show_default=True, help="Share of the labels held out to measure the draft on.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and of the drafting call.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the drafted grader (YAML) here instead of printing it.")
@click.option("--held-out-db", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep the held-out samples and their grades in this new SQLite file (default: a temporary one).")
@concurrency_option("Judge calls in flight.", default=32)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def draft(
    run_ref: str, db: Path | None, grader: str | None, model: str | None, judge: str | None, holdout: float,
    seed: int, output: Path | None, held_out_db: Path | None, concurrency: int, quiet: bool,
) -> None:
    """Draft rubric criteria from RUN's human labels and notes (`mendoza label`), then measure them at once.

    The labelled outputs are split (seeded, by verdict) into a half a model drafts criteria from and a half
    held out; the drafted rubric grades the held-out outputs and is compared with their labels: agreement,
    Cohen's kappa with its interval, and whether it is usable. The held-out grades go to a scratch database,
    never into RUN. The grader is printed (or written to --output) as YAML for a suite's `graders:`.
    """
    options = api.GradeOptions(concurrency=concurrency, progress=api.progress_for(quiet=quiet))
    with api.open_store(db, readonly=True) as store:
        drafted = api.draft_rubric(store, run_ref, grader=grader, model=model, judge=judge, holdout=holdout,
                                   seed=seed, held_out_db=held_out_db, options=options)
    console = make_console()
    print_rubric_draft(console, drafted)
    if output is None:
        click.echo(drafted.yaml, nl=False)
        return
    try:
        output.write_text(drafted.yaml, encoding="utf-8")
    except OSError as exc:
        if is_machine_failure(exc):
            raise
        raise click.FileError(plain(output, 300), hint=exc.strerror or str(exc)) from None
    console.print(f"wrote the grader to {plain(output, 300)}: paste it under your suite's graders:")
