"""The core ``mendoza`` commands (init, run, runs, show, export, import, graders, providers, view). Each parses
its options, calls the API, and prints; errors become one line (``cli/main.py::main``). ``cli/main.py`` lists
them, and the commands of the other modules, in the program's table of commands."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import click
from rich.table import Table

from mendoza import api
from mendoza.cli.ci import append_step_summary, junit_option, run_summary, write_junit
from mendoza.cli.failures import is_machine_failure
from mendoza.cli.options import (
    EXIT_INTERRUPTED,
    concurrency_option,
    db_option,
    exit_for_gate,
    on_inconclusive_option,
    serve_options,
    verdicts_option,
)
from mendoza.cli.render import print_comparison, print_gate, print_report, print_runs
from mendoza.cli.text import clip, make_console, plain
from mendoza.errors import MendozaError
from mendoza.registry import grader_class, grader_names, provider_class, provider_names
from mendoza.report import (
    Verdicts,
    build_report,
    evaluate_gate,
    report_to_dict,
    report_to_junit,
    report_to_markdown,
    sample_lines,
)
from mendoza.store import DEFAULT_DB_PATH, Store, shown_database

__all__ = ["export", "graders", "import_command", "init", "providers", "run", "runs", "show", "view"]


#: Above this many cases, reports leave the per case table out unless asked (it would drown the headline).
CASES_SHOWN_BY_DEFAULT = 60


#: Where ``mendoza init`` writes when it is given no folder.
DEFAULT_INIT_FOLDER = Path("mendoza-suite")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
def init(directory: Path | None) -> None:
    """Scaffold a working example suite (on the embedded model) in DIRECTORY, a new or empty folder
    (default: ./mendoza-suite)."""
    target = directory if directory is not None else DEFAULT_INIT_FOLDER
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is not a folder" if not target.is_dir() else "is not empty"
        raise click.UsageError(f"{plain(target, 200)} {what}: give a new or empty folder, e.g. mendoza init evals")
    from importlib import resources

    source = resources.files("mendoza") / "scaffold"
    with resources.as_file(source) as path:
        shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    suite_file = plain(target / "suite.yaml", 300)
    click.echo(f"created {suite_file}; run it with:\n  mendoza run {suite_file}")


@click.command()
@click.argument("suite", type=click.Path(path_type=Path), required=False)
@db_option
@click.option(
    "--resume", "resume", metavar="RUN", help="Finish an interrupted run (its suite snapshot is used)."
)
@click.option(
    "--retry-errors", is_flag=True, help="With --resume: sample again the samples that ended in an error."
)
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model outputs from earlier runs.")
@concurrency_option("Calls in flight per variant (overrides the suite).", default=None)
@click.option(
    "--until-decided", is_flag=True, help="Sample adaptively until every variant's band is decided."
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    help="With --until-decided: at most this many samples "
    "(default: 4x the suite's cases x variants x repeats).",
)
@click.option(
    "--baseline",
    metavar="RUN",
    help="Compare with this earlier run, paired by case (and gate on the suite's max_regression): a run id, or "
    "a run file (FILE.mdz, from mendoza export), imported into the store first.",
)
@verdicts_option
@on_inconclusive_option
@junit_option("the gate")
@click.option(
    "--cases/--no-cases",
    default=None,
    help=f"Show the per case table (default: when the suite has at most {CASES_SHOWN_BY_DEFAULT} cases).",
)
@click.option(
    "--executor",
    type=click.Choice(api.EXECUTORS),
    default="local",
    show_default=True,
    help="Where samples are drawn and graded: this process, or Ray workers (pip install 'mendoza[ray]').",
)
@click.option(
    "--ray-address",
    metavar="ADDR",
    help="With --executor ray: the Ray cluster (host:port or ray://host:10001; default: $RAY_ADDRESS, else a "
    "Ray instance on this machine).",
)
@click.option(
    "--ray-workers",
    type=click.IntRange(min=1),
    help="With --executor ray: how many workers (Ray actors; default: one per CPU of the cluster).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def run(
    suite: Path | None,
    db: Path | str | None,
    resume: str | None,
    retry_errors: bool,
    no_cache: bool,
    concurrency: int | None,
    until_decided: bool,
    budget: int | None,
    baseline: str | None,
    verdicts: Verdicts,
    on_inconclusive: Literal["pass", "fail"] | None,
    junit: Path | None,
    cases: bool | None,
    executor: str,
    ray_address: str | None,
    ray_workers: int | None,
    quiet: bool,
) -> None:
    """Run SUITE (cases x variants x repeats), store every sample and grade, print the reliability report.

    Gates CI on the suite's thresholds: exits 0 when they pass, 1 when one fails (or every sample of a
    variant errored), 3 when one is inconclusive and on_inconclusive is fail (see the README's exit codes).
    With $GITHUB_STEP_SUMMARY set, appends the report's Markdown to that file.
    """
    if (suite is None) == (resume is None):
        raise click.UsageError("give a SUITE file to run, or --resume RUN to finish an interrupted run")
    if retry_errors and resume is None:
        raise click.UsageError("--retry-errors works only with --resume RUN (a new run has no errors to retry)")
    if budget is not None and not until_decided:
        raise click.UsageError("--budget works only with --until-decided (a fixed run takes every sample)")
    if executor != "ray" and (ray_address is not None or ray_workers is not None):
        raise click.UsageError("--ray-address and --ray-workers work only with --executor ray")
    import asyncio  # here, not at the top: the other commands of this module start no event loop
    import gc

    console = make_console()
    loaded = api.load_suite(suite) if suite is not None else None
    store = api.open_store(db)
    # What start-up made (modules, the suite, the providers) stays for the whole run: left out of the garbage
    # collector's passes, a full pass over thousands of requests in flight stalls the event loop less.
    gc.freeze()
    try:
        if baseline is not None:  # an unknown baseline is a mistake to report before sampling
            baseline = _baseline_run(store, baseline, quiet=quiet)
        try:
            finished = api.run_suite(
                loaded,
                db=store,
                resume=resume,
                retry_errors=retry_errors,
                use_cache=not no_cache,
                concurrency=concurrency,
                progress=api.progress_for(quiet=quiet),
                until_decided=until_decided,
                budget=budget,
                executor=executor,
                ray_address=ray_address,
                ray_workers=ray_workers,
            )
        except (KeyboardInterrupt, asyncio.CancelledError):
            latest = store.runs.get(resume or "latest")
            click.echo(
                f"\ninterrupted: {latest.done_samples}/{latest.expected_samples} samples stored; "
                f"finish with: mendoza run --resume {latest.id}",
                err=True,
            )
            click.get_current_context().exit(EXIT_INTERRUPTED)
        result = api.judge_run(
            store, finished.id, baseline=baseline, verdicts=verdicts, on_inconclusive=on_inconclusive
        )
        report, regressions, gate = result.report, result.regressions, result.gate
        many = len(report.suite.cases) > CASES_SHOWN_BY_DEFAULT
        print_report(console, report, show_cases=not many if cases is None else cases)
        for comparison in regressions:
            print_comparison(console, comparison)
        print_gate(console, gate)
        console.print(f"run id: {clip(finished.id)}  (mendoza show {clip(finished.id)})")
        append_step_summary(run_summary(report, gate, regressions, cases=not many if cases is None else cases))
        if junit is not None:
            again = f"the run is stored: mendoza show {finished.id} --junit FILE writes it"
            write_junit(junit, report_to_junit(report, gate, regressions), again=again)
        code = exit_for_gate(gate)
        if code:
            click.get_current_context().exit(code)
    finally:
        store.close()


def _baseline_run(store: Store, baseline: str, *, quiet: bool) -> str:
    """The id of the baseline run: ``baseline`` names a run of the store, or a run file (``.mdz``), which is
    imported into the store first (nothing to do when it is already there)."""
    if not api.is_run_file(baseline):
        return store.runs.get(baseline).id
    imported = api.import_run(baseline, db=store)
    if not quiet:
        done = "already in the store" if imported.already_there else "imported into the store"
        click.echo(f"baseline: run {clip(imported.run.id)} of {plain(baseline, 300)} ({done})", err=True)
    return imported.run.id


@click.command()
@db_option
@click.option("--limit", default=20, show_default=True, help="How many runs to list, newest first.")
def runs(db: Path | str | None, limit: int) -> None:
    """List runs, newest first."""
    with api.open_store(db, readonly=True) as store:
        print_runs(make_console(), store.runs.latest(limit=limit))


@click.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option(
    "--cases/--no-cases",
    default=None,
    help=f"Show the per case table (default: when the suite has at most {CASES_SHOWN_BY_DEFAULT} cases).",
)
@verdicts_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (schema mendoza.report/2).")
@click.option("--markdown", is_flag=True, help="Print the report as Markdown.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report as one self-contained HTML file with charts.",
)
@junit_option("the gate of the suite's thresholds")
def show(
    run_ref: str,
    db: Path | str | None,
    cases: bool | None,
    verdicts: Verdicts,
    as_json: bool,
    markdown: bool,
    html_path: Path | None,
    junit: Path | None,
) -> None:
    """The reliability report of RUN (an id, a unique prefix of one, or 'latest'): pass rate with its
    interval, band and advice per variant, errors and bounds, pass@k and pass^k, k/n per case, and how the
    suite's thresholds (other than max_regression, which needs a baseline) stand. With $GITHUB_STEP_SUMMARY
    set, appends the report's Markdown to that file."""
    with api.open_store(db, readonly=True) as store:
        report = build_report(store, run_ref, verdicts=verdicts)
    gate = evaluate_gate(report)
    many = len(report.suite.cases) > CASES_SHOWN_BY_DEFAULT
    if as_json:
        click.echo(json.dumps(report_to_dict(report, gate), indent=2))
    elif markdown:
        click.echo(report_to_markdown(report, gate), nl=False)
    elif html_path is not None:
        from mendoza.report import report_to_html  # Jinja2, only for the file that needs it

        try:
            html_path.write_text(report_to_html(report), encoding="utf-8")
        except OSError as exc:
            if is_machine_failure(exc):
                raise
            raise click.FileError(plain(html_path, 300), hint=exc.strerror or str(exc)) from None
        click.echo(f"wrote {plain(html_path, 300)}")
    else:
        console = make_console()
        print_report(console, report, show_cases=not many if cases is None else cases)
        print_gate(console, gate)
        if cases is None and many:
            console.print(f"({len(report.suite.cases)} cases: --cases lists them, `mendoza view` browses them)")
    append_step_summary(run_summary(report, gate, cases=not many if cases is None else cases))
    if junit is not None:
        write_junit(junit, report_to_junit(report, gate))


@click.command()
@click.argument("run_ref", metavar="RUN", default="latest")
@db_option
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write to this file (default: standard output). A name ending in .mdz gets a portable run file; any "
    "other, JSON Lines.",
)
@click.option(
    "--steps/--no-steps", default=True, show_default=True, help="Include each sample's steps (JSON Lines)."
)
def export(run_ref: str, db: Path | str | None, output: Path | None, steps: bool) -> None:
    """Every sample of RUN as JSON Lines: the run first, then each sample with its output, cost, verdicts,
    grades and steps (schema mendoza.samples/1). Streams: memory stays flat however large the run.

    With -o FILE.mdz: the whole run as a portable run file (format mendoza.run-file/1: its suite snapshot,
    samples, grades, labels, regrades, pairwise judgements and steps; not the model cache), for
    `mendoza import FILE.mdz` or `mendoza run SUITE --baseline FILE.mdz` on another machine."""
    if output is not None and output.suffix.lower() == api.RUN_FILE_SUFFIX:
        context = click.get_current_context()
        if context.get_parameter_source("steps") == click.core.ParameterSource.COMMANDLINE and not steps:
            raise click.UsageError("--no-steps is for JSON Lines: a run file (.mdz) holds the whole run")
        written = api.export_run(run_ref, output, db=db)
        click.echo(
            f"wrote run {clip(written.run_id)} ({written.samples} samples) to {plain(output, 300)} "
            f"({written.format})",
            err=True,
        )
        return
    with api.open_store(db, readonly=True) as store:
        lines = sample_lines(store, run_ref, steps=steps)
        if output is None:
            for line in lines:
                click.echo(line)
            return
        with output.open("w", encoding="utf-8") as handle:
            written_lines = -1  # the first line is the run
            for line in lines:
                handle.write(line + "\n")
                written_lines += 1
        click.echo(f"wrote {max(written_lines, 0)} samples to {output}", err=True)


@click.command(name="import")
@click.argument("file", metavar="FILE", type=click.Path(path_type=Path))
@db_option
@click.option(
    "--as",
    "as_id",
    metavar="ID",
    help="Import the run under this id (when the store holds a different run with the file's id).",
)
def import_command(file: Path, db: Path | str | None, as_id: str | None) -> None:
    """Import the run of a run file (FILE.mdz, written by `mendoza export RUN -o FILE.mdz`) into the store.

    Importing a run the store already holds (same id, same content) does nothing; a different run with the
    same id is refused (--as gives it another id). A damaged, foreign or newer file is refused in one line."""
    imported = api.import_run(file, db=db, run_id=as_id)
    where = plain(shown_database(db if db is not None else DEFAULT_DB_PATH), 300)
    run_id = clip(imported.run.id)
    if imported.already_there:
        click.echo(f"run {run_id} of {plain(file, 300)} is already in {where}: nothing imported")
    else:
        click.echo(
            f"imported run {run_id} ({imported.file.samples} samples) from {plain(file, 300)} into {where}; "
            f"see: mendoza show {run_id}"
        )


def _listing(title: str, rows: Sequence[Sequence[str]], columns: Sequence[str]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    make_console().print(table)


@click.command()
def graders() -> None:
    """List the graders a suite can use."""
    rows: list[tuple[str, ...]] = []
    for name in grader_names():
        cls: Any = grader_class(name)
        params = ", ".join(field.alias or key for key, field in cls.Params.model_fields.items())
        rows.append((clip(name), clip(cls.description, 300), clip(params, 300), clip(cls.example, 300)))
    _listing(
        "graders (prefix any with 'not-' to negate it)", rows, ("name", "what it checks", "params", "example")
    )


@click.command()
def providers() -> None:
    """List the providers a variant's model can name."""
    rows: list[tuple[str, ...]] = []
    for name in provider_names():
        try:
            cls: Any = provider_class(name)
            rows.append((clip(name), clip(cls.description, 300), clip(cls.example, 300)))
        except MendozaError as exc:
            rows.append((clip(name), clip(f"(unavailable: {exc})", 300), ""))
    _listing("providers", rows, ("name", "what it is", "example model"))


@click.command()
@db_option
@serve_options
def view(db: Path | str | None, port: int, host: str, tokens: tuple[str, ...], tokens_file: Path | None) -> None:
    """Serve the web viewer: runs, the cases x variants grid, samples, overrule, review, compare."""
    from mendoza.viewer import parse_tokens, serve

    token, named = parse_tokens(tokens, tokens_file)
    serve(db, host=host, port=port, token=token, tokens=named, announce=click.echo)
