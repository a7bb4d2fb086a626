"""``mendoza compare`` and ``mendoza plan``: is a change real, and how much data does it take to know."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import click

from mendoza import api
from mendoza.cli.ci import append_step_summary, junit_option, write_junit
from mendoza.cli.options import FiniteFloatRange, db_option, exit_for_gate, on_inconclusive_option, verdicts_option
from mendoza.cli.render import print_comparison, print_gate, print_plan
from mendoza.cli.text import make_console
from mendoza.errors import ConfigError
from mendoza.report import (
    Comparison,
    Verdicts,
    compare_variants,
    comparison_to_dict,
    comparison_to_junit,
    comparison_to_markdown,
    estimate_components,
    estimate_difference_components,
    plan_comparison,
    plan_precision,
    regression_gate,
    variant_pairs,
)
from mendoza.store import Store

__all__ = ["MIN_EFFECT", "compare", "plan"]

#: The smallest difference or half-width ``plan`` designs for (0.01 points; smaller needs billions of cases).
MIN_EFFECT = 0.0001


def comparisons_for(
    store: Store,
    run_a: str,
    run_b: str | None,
    variants: tuple[str, ...],
    variant: str | None,
    *,
    verdicts: Verdicts = "human-adjusted",
) -> list[Comparison]:
    """The comparisons a ``compare`` call asks for (see its help; the pairing rule is ``variant_pairs``)."""
    first = store.runs.get(run_a)
    second = store.runs.get(run_b) if run_b else first
    try:
        pairs = variant_pairs(first, store.runs.get(run_b) if run_b else None, variants, variant)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    return [
        compare_variants(store, first.id, a_id, second.id, b_id, verdicts=verdicts) for a_id, b_id in pairs
    ]


@click.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="[RUN_B]", required=False)
@click.option(
    "--variants",
    nargs=2,
    metavar="A B",
    help="The two variants to compare (of RUN_A, or A of RUN_A and B of RUN_B).",
)
@click.option("--variant", help="Compare this variant of RUN_A with the same variant of RUN_B.")
@db_option
@verdicts_option
@on_inconclusive_option
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option("--markdown", is_flag=True, help="Print the comparison (and its gate) as Markdown.")
@junit_option("the comparison and its max_regression gate")
def compare(
    run_a: str,
    run_b: str | None,
    variants: tuple[str, ...],
    variant: str | None,
    db: Path | str | None,
    verdicts: Verdicts,
    on_inconclusive: Literal["pass", "fail"] | None,
    as_json: bool,
    markdown: bool,
    junit: Path | None,
) -> None:
    """Paired comparison, case by case: did B really get better or worse than A?

    Two variants of one run (``mendoza compare RUN --variants A B``) or two runs (``mendoza compare RUN_A RUN_B``,
    every variant id they share). With two runs, gates on RUN_B's suite's ``max_regression``: exits 1 when a
    regression beyond it is shown, 3 when it is inconclusive and on_inconclusive is fail. With
    $GITHUB_STEP_SUMMARY set, appends the comparison's Markdown to that file.
    """
    files = [ref for ref in (run_a, run_b) if ref is not None and api.is_run_file(ref)]
    if files:  # a run file (a baseline kept in the repository) is imported first: a no-op when it is there
        with api.open_store(db) as store:
            imported = {ref: api.baseline_run(store, ref).id for ref in files}
        run_a = imported.get(run_a, run_a)
        run_b = imported.get(run_b, run_b) if run_b is not None else None
    with api.open_store(db, readonly=True) as store:
        comparisons = comparisons_for(store, run_a, run_b, variants, variant, verdicts=verdicts)
        second = store.runs.get(run_b or run_a)
        thresholds = store.runs.suite(second.id).thresholds
    gated = comparisons if run_b is not None else []
    gate = regression_gate(thresholds, gated, second.repeats, on_inconclusive=on_inconclusive)
    if as_json:
        click.echo(json.dumps([comparison_to_dict(c) for c in comparisons], indent=2))
    elif markdown:
        click.echo(comparison_to_markdown(comparisons, gate), nl=False)
    else:
        console = make_console()
        for comparison in comparisons:
            print_comparison(console, comparison)
        print_gate(console, gate)
    append_step_summary(comparison_to_markdown(comparisons, gate))
    if junit is not None:
        write_junit(junit, comparison_to_junit(comparisons, gate, second))
    code = exit_for_gate(gate)
    if code:
        click.get_current_context().exit(code)


@click.command()
@click.option(
    "--delta",
    type=FiniteFloatRange(MIN_EFFECT, 1),
    help="The difference between two variants to detect (0.03 = 3 points; 0.05 tells 0.90 from 0.95).",
)
@click.option(
    "--halfwidth",
    type=FiniteFloatRange(MIN_EFFECT, 1),
    help="Instead: the ± half-width wanted on one variant's pass rate.",
)
@click.option(
    "--between",
    type=FiniteFloatRange(0, 0.25),
    help="Assumed variance between cases (of true per-case differences for --delta).",
)
@click.option(
    "--within",
    type=FiniteFloatRange(0, 0.25),
    help="Assumed variance within a case (p(1-p) of one case's samples, averaged).",
)
@click.option("--from-run", "from_run", metavar="RUN", help="Estimate both variances from an earlier run.")
@click.option(
    "--variants",
    nargs=2,
    metavar="A B",
    help="With --from-run and --delta: estimate from these two variants' per-case differences.",
)
@click.option(
    "--alpha", default=0.05, show_default=True, type=FiniteFloatRange(0, 1, min_open=True, max_open=True)
)
@click.option(
    "--power", default=0.8, show_default=True, type=FiniteFloatRange(0, 1, min_open=True, max_open=True)
)
@db_option
def plan(
    delta: float | None,
    halfwidth: float | None,
    between: float | None,
    within: float | None,
    from_run: str | None,
    variants: tuple[str, ...],
    alpha: float,
    power: float,
    db: Path | str | None,
) -> None:
    """How many cases x repeats to tell two variants apart (--delta), or to pin one down (--halfwidth).

    Example: ``mendoza plan --delta 0.05 --from-run latest`` (tell 0.90 from 0.95, with the variances of the
    latest run), or ``mendoza plan --delta 0.03 --between 0.02 --within 0.1``.
    """
    if (delta is None) == (halfwidth is None):
        raise click.UsageError("give --delta (compare two variants) or --halfwidth (one variant's precision)")
    if from_run is not None:
        with api.open_store(db, readonly=True) as store:
            if delta is not None and variants:
                between, within, source = estimate_difference_components(
                    store, from_run, variants[0], variants[1]
                )
            else:
                between, within, source = estimate_components(store, from_run)
    elif between is None or within is None:
        raise click.UsageError("give --between and --within, or --from-run RUN to estimate them")
    else:
        source = "assumed"
    try:
        if delta is not None:
            result = plan_comparison(delta, between, within, source, alpha=alpha, power=power)
        else:
            assert halfwidth is not None
            result = plan_precision(halfwidth, between, within, source, confidence=1 - alpha)
    except (ValueError, ArithmeticError) as exc:  # the design is out of reach (or the variances are zero)
        goal = f"--delta {delta:g}" if delta is not None else f"--halfwidth {halfwidth:g}"
        raise click.UsageError(f"cannot plan for {goal}: {exc}") from None
    print_plan(make_console(), result)
