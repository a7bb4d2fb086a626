"""``mendoza design``: the designs a finished run supports (cascades, votes, human review, fallbacks), their
reliability with intervals, cost and human share, the frontier, and the cheapest design that reaches a target.
Every figure comes from ``mendoza.report`` (``build_design``)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from mendoza import api
from mendoza.cli.options import FiniteFloatRange, db_option
from mendoza.cli.text import clip, make_console
from mendoza.core import HumanReview
from mendoza.report import (
    DesignReport,
    band_reach_words,
    build_design,
    cost_words,
    design_to_dict,
    design_to_html,
    interval_words,
    percent,
    recommendation_words,
    versus_words,
)

__all__ = ["design"]


def print_design(console: Console, report: DesignReport, everything: bool) -> None:
    """The frontier (or every design), the recommendation and the notes."""
    checks = ", ".join(report.checks) or "none"
    console.print(
        f"[bold]designs of {clip(report.run.suite_name)}[/]  run {report.run.id}  (run-time checks: {clip(checks)}; "
        f"a person's review: {cost_words(report.human.cost)}, {report.human.seconds:g} s, assumed right)"
    )
    shown = report.designs if everything else [design for design in report.designs if design.on_frontier]
    shown = sorted(shown, key=lambda d: (d.cost, d.human_share, -d.reliability.estimate))
    table = Table(title=None if everything else "the frontier: no other design is as reliable for less cost "
                  "and less human work", title_justify="left")
    for column in ("design", "reliability [interval]", "vs best single", "cost/request", "to a person",
                   "p50/p95 ms", "band"):
        table.add_column(column, justify="left" if column in ("design", "band") else "right")
    for design in shown:
        table.add_row(
            clip(design.name, 70),
            interval_words(design),
            versus_words(design),
            cost_words(design.cost),
            percent(design.human_share),
            f"{design.latency_p50_ms:.0f}/{design.latency_p95_ms:.0f}",
            design.band if design.band_decided else f"undecided: {design.band}",
        )
    console.print(table)
    if not everything:
        console.print(f"  {len(report.designs)} designs measured; --all shows every one")
    console.print("which design reaches each band (cheapest first):")
    for line in band_reach_words(report):
        console.print(f"  {clip(line, 400)}")
    words = recommendation_words(report)
    if words:
        console.print(f"[bold]{words}[/]")
    for note in report.notes:
        console.print(f"  note: {note}")


@click.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option("--target", type=FiniteFloatRange(0.0, 1.0, min_open=True, max_open=True),
              help="Recommend the cheapest design that reaches this reliability (e.g. 0.9).")
@click.option("--check", "checks", multiple=True,
              help="A grader of the run that can run in production (needs no reference answer), to escalate "
              "on (repeatable; graders marked 'runtime: true' are used anyway).")
@click.option("--human-cost", type=FiniteFloatRange(0.0), help="US dollars per review by a person "
              "(default: the suite's human.cost, else 1.0).")
@click.option("--human-seconds", type=FiniteFloatRange(0.0), help="Seconds per review by a person "
              "(default: the suite's human.seconds, else 60).")
@click.option("--all", "everything", is_flag=True, help="Show every design, not only the frontier.")
@click.option("--json", "as_json", is_flag=True, help="Print the designs as JSON (schema mendoza.design/1).")
@click.option("--html", "html_path", type=click.Path(path_type=Path),
              help="Write a page with the frontier chart and every design.")
def design(
    run_ref: str, db: Path | str | None, target: float | None, checks: tuple[str, ...], human_cost: float | None,
    human_seconds: float | None, everything: bool, as_json: bool, html_path: Path | None,
) -> None:
    """Which design around RUN's variants reaches what reliability, at what cost and how much human work.

    Replays the stored samples (no model is called): each variant alone; a fallback when it errors; a cascade
    to another variant or a person when a run-time check flags an output (or its score is below a threshold,
    swept); the majority of k samples; the best of k by a check; a person auditing a share at random.
    Reliability intervals are clustered by case; "vs best single" is paired over cases (a bootstrap that
    resamples cases).
    """
    with api.open_store(db, readonly=True) as store:
        run = store.runs.get(run_ref)
        suite = store.runs.suite(run.id)
        base = suite.human or HumanReview()
        human = HumanReview(
            cost=base.cost if human_cost is None else human_cost,
            seconds=base.seconds if human_seconds is None else human_seconds,
        )
        report = build_design(store, run.id, checks=checks, target=target, human=human)
    if html_path is not None:
        html_path.write_text(design_to_html(report), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(design_to_dict(report), indent=2, ensure_ascii=False))
        return
    print_design(make_console(), report, everything)
    if html_path is not None:
        click.echo(f"wrote {html_path}", err=True)
