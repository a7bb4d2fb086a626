"""``mendoza label``, ``calibrate``, ``rank`` and ``regrade``: soft evals from the terminal.

Each command parses its options, calls ``mendoza.soft`` / ``mendoza.report`` / ``mendoza.soft``, and
prints; errors are one line (``mendoza.cli.main.main`` turns them into exit codes).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mendoza import api
from mendoza.api import (
    GradeOptions,
    QueueItem,
    default_author,
    judge_run_pairs,
    label_queue,
    parse_grader_option,
    progress_for,
    record_label,
    regrade_run,
)
from mendoza.cli.options import concurrency_option, db_option
from mendoza.cli.render import print_report
from mendoza.cli.soft_render import (
    print_calibration,
    print_label_sample,
    print_ranking,
    print_regrade,
)
from mendoza.cli.text import clip, make_console
from mendoza.errors import ConfigError
from mendoza.report import Calibration, Ranking, build_report, calibrate, rank_variants
from mendoza.store import CurrentGrade, Store

__all__ = ["calibrate_command", "label", "rank", "regrade"]

_HELP = (
    "p/pass, f/fail (a note may follow: 'f too rude'), a score 0-1 (e.g. 0.7), m/note (write a note first), "
    "n/next or Enter (leave unlabelled), s/skip, b/back, q/quit"
)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


@click.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option("--author", help="Who is labelling (default: your user name).")
@click.option("--variant", "variants", multiple=True, help="Only this variant (repeatable).")
@click.option(
    "--order",
    type=click.Choice(["queue", "random"]),
    default="queue",
    show_default=True,
    help="queue: samples most worth a look first (judge and grader disagreements, borderline verdicts, "
    "failures, flaky cases); random: a random sample, for an unbiased calibration.",
)
@click.option("--all", "include_labelled", is_flag=True, help="Also show samples already labelled.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many samples.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random order.")
def label(
    run_ref: str,
    db: Path | str | None,
    author: str | None,
    variants: tuple[str, ...],
    order: str,
    include_labelled: bool,
    limit: int | None,
    seed: int,
) -> None:
    """Label samples of RUN by hand, from the keyboard: pass, fail, a score, a note.

    Labels are stored as human grades beside the automatic ones, never over them; `mendoza calibrate RUN`
    then measures the graders against them.
    """
    console = make_console()
    with api.open_store(db) as store:
        run = store.runs.get(run_ref)
        unknown = [variant for variant in variants if variant not in run.variant_ids]
        if unknown:
            raise ConfigError(f"run {run.id} has no variant '{unknown[0]}' (variants: {', '.join(run.variant_ids)})")
        items = label_queue(
            store, run.id, variant_ids=list(variants) or None, order="random" if order == "random" else "queue",
            include_labelled=include_labelled, seed=seed,
        )
        if limit is not None:
            items = items[:limit]
        if not items:
            console.print("nothing to label: every sample with an output is labelled (--all shows them again)")
            return
        console.print(f"{len(items)} samples to label in run {run.id}. {_HELP}")
        counts = _label_loop(console, store, run.id, items, author or default_author())
    console.print(
        f"labelled {counts['pass'] + counts['fail'] + counts['score']} (pass {counts['pass']}, "
        f"fail {counts['fail']}, score {counts['score']}), skipped {counts['skip']}. "
        f"Next: mendoza calibrate {run.id}"
    )


def _grades_by_sample(store: Store, run_id: str) -> dict[int, list[CurrentGrade]]:
    grouped: dict[int, list[CurrentGrade]] = defaultdict(list)
    for grade in store.grades.current(run_id):
        grouped[grade.sample_id].append(grade)
    return grouped


def _parse_answer(answer: str) -> tuple[str, Any, str]:
    """(action, value, note) from what was typed at the prompt."""
    text = answer.strip()
    head, _, rest = text.partition(" ")
    word = head.lower().rstrip(":")
    note = rest.strip().lstrip(":").strip()
    if word in ("", "n", "next"):
        return "next", None, ""
    if word in ("s", "skip"):
        return "skip", None, ""
    if word in ("q", "quit", "exit"):
        return "quit", None, ""
    if word in ("b", "back", "prev"):
        return "back", None, ""
    if word in ("m", "note"):
        return "note", None, note
    if word in ("p", "pass", "+"):
        return "label", True, note
    if word in ("f", "fail", "-"):
        return "label", False, note
    if word in ("?", "h", "help"):
        return "help", None, ""
    try:
        score = float(word)
    except ValueError:
        return "unknown", None, ""
    return ("score", score, note) if 0.0 <= score <= 1.0 and math.isfinite(score) else ("unknown", None, "")


def _label_loop(console: Console, store: Store, run_id: str, items: list[QueueItem], author: str) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "score": 0, "skip": 0}
    grades = _grades_by_sample(store, run_id)
    position = 0
    pending_note = ""
    while 0 <= position < len(items):
        item = items[position]
        sample = store.browse.sample(item.sample_id)
        if sample is None:
            position += 1
            continue
        case = store.runs.case(run_id, sample.case_id)
        print_label_sample(console, position + 1, len(items), item, sample, case, grades.get(sample.id, []))
        while True:
            try:
                answer = click.prompt("label", default="", show_default=False, prompt_suffix=" > ")
            except click.exceptions.Abort:
                return counts  # end of input (Ctrl-D / a closed pipe): stop, keeping every label recorded
            action, value, note = _parse_answer(answer)
            if action == "help" or action == "unknown":
                console.print(("unknown answer. " if action == "unknown" else "") + _HELP)
                continue
            if action == "note":
                pending_note = note or click.prompt("note", default="", show_default=False, prompt_suffix=" > ")
                console.print("note kept; now p (pass), f (fail) or a score")
                continue
            break
        if action == "quit":
            return counts
        if action == "back":
            position = max(0, position - 1)
            continue
        if action in ("next", "skip"):
            counts["skip"] += 1
            position += 1
            continue
        note = " ".join(part for part in (pending_note, note) if part)
        pending_note = ""
        if action == "label":
            record_label(store, sample.id, passed=bool(value), note=note, author=author)
            counts["pass" if value else "fail"] += 1
            console.print(f"recorded: {'pass' if value else 'fail'}" + (f" ({note})" if note else ""))
        else:
            record_label(store, sample.id, score=float(value), note=note, author=author)
            counts["score"] += 1
            console.print(f"recorded: score {float(value):g}" + (f" ({note})" if note else ""))
        position += 1
    return counts


def _calibration_dict(calibration: Calibration) -> dict[str, Any]:
    matrix = calibration.matrix
    return {
        "run": calibration.run_id,
        "grader": calibration.grader,
        "judges": calibration.judges,
        "labelled": calibration.labelled,
        "agreement": _number(calibration.agreement),
        "kappa": {"estimate": _number(calibration.kappa.estimate), "low": _number(calibration.kappa.low),
                  "high": _number(calibration.kappa.high)},
        "confusion": {"true_positive": matrix.true_positive, "false_negative": matrix.false_negative,
                      "false_positive": matrix.false_positive, "true_negative": matrix.true_negative},
        "sensitivity": {"estimate": _number(calibration.sensitivity.estimate),
                        "low": _number(calibration.sensitivity.low), "high": _number(calibration.sensitivity.high)},
        "specificity": {"estimate": _number(calibration.specificity.estimate),
                        "low": _number(calibration.specificity.low), "high": _number(calibration.specificity.high)},
        "pass_rates": [
            {"variant": rate.variant_id, "graded": rate.graded, "observed": _number(rate.observed),
             "corrected": _number(rate.corrected.estimate), "low": _number(rate.corrected.low),
             "high": _number(rate.corrected.high)}
            for rate in calibration.rates
        ],
        "confidence": calibration.confidence,
        "notes": calibration.notes,
    }


@click.command(name="calibrate")
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option("--grader", help="The grader to check (default: the first judged grader; 'all': the overall verdict).")
@click.option("--json", "as_json", is_flag=True, help="Print the calibration as JSON.")
def calibrate_command(run_ref: str, db: Path | str | None, grader: str | None, as_json: bool) -> None:
    """Compare a grader of RUN with the human labels: agreement, Cohen's kappa, confusion matrix, sensitivity
    and specificity, and each variant's pass rate corrected for the grader's errors (Rogan-Gladen)."""
    with api.open_store(db, readonly=True) as store:
        calibration = calibrate(store, run_ref, grader)
    if as_json:
        click.echo(json.dumps(_calibration_dict(calibration), indent=2))
    elif calibration.labelled == 0:
        run_id = clip(calibration.run_id)
        make_console().print(
            f"no human labels in run {run_id} yet for {clip(calibration.grader)}: label samples with "
            f"`mendoza label {run_id}` (or p/f in `mendoza view`), then calibrate again"
        )
    else:
        print_calibration(make_console(), calibration)


def _ranking_dict(ranking: Ranking) -> dict[str, Any]:
    return {
        "run": ranking.run_id,
        "grader": ranking.grader,
        "judge": ranking.judge,
        "judgements": ranking.judgements,
        "errors": ranking.errors,
        "inconsistent": ranking.inconsistent,
        "confidence": ranking.confidence,
        "ratings": [
            {"variant": r.variant_id, "rating": _number(r.rating.estimate), "low": _number(r.rating.low),
             "high": _number(r.rating.high), "wins": r.wins, "losses": r.losses, "ties": r.ties}
            for r in ranking.ratings
        ],
        "notes": ranking.notes,
    }


@click.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option("--grader", help="The pairwise grader (needed only when the run has several).")
@click.option("--no-judge", is_flag=True, help="Rank from the judgements already stored; ask the judge nothing.")
@concurrency_option("Judge calls in flight.", default=32)
@click.option("--boot", type=click.IntRange(min=0), default=1000, show_default=True, help="Bootstrap replicates.")
@click.option("--json", "as_json", is_flag=True, help="Print the ranking as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def rank(
    run_ref: str, db: Path | str | None, grader: str | None, no_judge: bool, concurrency: int, boot: int, as_json: bool,
    quiet: bool,
) -> None:
    """Rank the variants of RUN by a judge's pairwise preferences (Bradley-Terry, bootstrap intervals).

    First asks the run's pairwise grader about the pairs not judged yet (each in both orders), unless
    --no-judge. Add a pairwise grader to a run with: mendoza regrade RUN --grader 'pairwise: Which is better?'
    """
    with api.open_store(db) as store:
        if not no_judge:
            progress = progress_for(quiet=quiet or as_json)
            judge_run_pairs(store, run_ref, grader, GradeOptions(concurrency=concurrency, progress=progress))
        ranking = rank_variants(store, run_ref, grader, n_boot=boot)
    if as_json:
        click.echo(json.dumps(_ranking_dict(ranking), indent=2))
    else:
        print_ranking(make_console(), ranking)


@click.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option("--suite", "suite_path", type=click.Path(path_type=Path),
              help="Take the graders (and expected values) from this suite file.")
@click.option(
    "--grader", "graders", multiple=True,
    help="A grader to apply: a name (of --suite's graders, else of the run's), or an inline YAML entry such as "
    "'contains: refund' or '{type: rubric, name: polite, criteria: [The reply is polite]}' (repeatable).",
)
@click.option("--force", is_flag=True, help="Grade again even where the same grader definition already graded.")
@click.option("--no-cache", is_flag=True, help="Ask judges again instead of reusing their cached answers.")
@concurrency_option("Judge calls in flight.", default=32)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def regrade(
    run_ref: str, db: Path | str | None, suite_path: Path | None, graders: tuple[str, ...], force: bool, no_cache: bool,
    concurrency: int, quiet: bool,
) -> None:
    """Apply new or changed graders to the stored outputs of RUN, without calling the model under test.

    New grades sit beside the old ones (each carries its grader's definition hash); the run's verdicts then
    follow the graders applied (--suite replaces the run's graders; --grader adds or replaces one).
    """
    suite = api.load_suite(suite_path) if suite_path is not None else None
    parsed = [parse_grader_option(text) for text in graders]
    console = make_console()
    with api.open_store(db) as store:
        options = GradeOptions(
            force=force, use_cache=not no_cache, concurrency=concurrency, progress=progress_for(quiet=quiet)
        )
        result = regrade_run(store, run_ref, suite=suite, graders=parsed, options=options)
        print_regrade(console, result)
        report = build_report(store, result.run.id)
    print_report(console, report, show_cases=False)
