"""The façade: everything that *acts* on a store, for Python callers, the CLI and the viewer alike. Load and run
a suite, resume a run, grade a finished run again, judge pairs, record a person's label, order what to look at,
review drafted cases into a suite (``DraftReview``, from ``config/drafts.py``), draft a rubric from the labels
and measure it on the held-out ones.
What they show is computed by ``mendoza.report``; the CLI and the viewer never reach the runner or the
soft-eval package but through here (an import-linter contract holds them to it).

Options travel as one value each: ``RunOptions`` for a run, ``GradeOptions`` for a regrade or a ranking.
"""

from __future__ import annotations

import contextlib
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from mendoza.core import EXECUTORS, Case, Run, Sample, Suite, Thresholds, Variant
from mendoza.errors import ConfigError, DiskError, StoreError
from mendoza.lazy_names import lazy_names
from mendoza.report import (
    VERDICTS,
    Comparison,
    Gate,
    RunReport,
    Verdicts,
    build_report,
    compare_variants,
    evaluate_gate,
    report_to_dict,
    variant_pairs,
)
from mendoza.store import (
    DEFAULT_DB_PATH,
    RUN_FILE_SUFFIX,
    ImportedRun,
    RunFileInfo,
    Store,
    read_run_file,
)
from mendoza.store import export_run as _export_run
from mendoza.store import import_run as _import_run

if TYPE_CHECKING:
    from mendoza.config import load_suite
    from mendoza.config.drafts import (
        BadLine,
        CaseIdTaken,
        Draft,
        DraftDecided,
        DraftReview,
        cases_target,
        decisions_path,
    )
    from mendoza.report import AgreementVerdict, Calibration
    from mendoza.runner import GradeOptions, Progress, RunOptions, progress_for
    from mendoza.soft import (
        QueueItem,
        RegradeResult,
        RubricDraft,
        clear_label,
        default_author,
        judge_run_pairs,
        label_queue,
        parse_grader_option,
        record_label,
        regrade_run,
        review_queue,
    )

__all__ = [
    "EXECUTORS",
    "RUN_FILE_SUFFIX",
    "BadLine",
    "CaseIdTaken",
    "Draft",
    "DraftDecided",
    "DraftReview",
    "DraftedRubric",
    "GradeOptions",
    "ImportedRun",
    "Progress",
    "QueueItem",
    "RegradeResult",
    "RunFileInfo",
    "RunOptions",
    "RunResult",
    "baseline_run",
    "cases_target",
    "clear_label",
    "decisions_path",
    "default_author",
    "draft_rubric",
    "export_run",
    "import_run",
    "is_run_file",
    "judge_run",
    "judge_run_pairs",
    "label_queue",
    "load_suite",
    "open_run",
    "open_store",
    "parse_grader_option",
    "progress_for",
    "read_run_file",
    "record_label",
    "regrade_run",
    "resume_run",
    "review_queue",
    "run",
    "run_suite",
    "run_suite_async",
    "suite",
]

#: What the façade passes on from the runner, the soft-eval package and the suite loader, imported on first use:
#: ``mendoza show`` (which reads a report) does not load the run loop, the judges' machinery or Jinja2.
__getattr__, _ = lazy_names(globals())


def open_store(db: str | Path | None = None, *, readonly: bool = False) -> Store:
    """Open the store (``.mendoza/mendoza.db`` in the current folder unless ``db`` says otherwise: another
    SQLite file, or a PostgreSQL database, ``postgresql://user@host/db``)."""
    return Store(db if db is not None else DEFAULT_DB_PATH, readonly=readonly)


async def run_suite_async(
    suite: Suite | None,
    store: Store,
    *,
    resume: str | None = None,
    retry_errors: bool = False,
    options: RunOptions | None = None,
) -> Run:
    """Run a suite into ``store`` (or resume run ``resume``, taking the suite from its snapshot).

    ``options.until_decided`` samples adaptively instead of the fixed cases x repeats design: in rounds,
    stopping each variant once its band is decided (by a confidence sequence), within ``options.budget``
    samples (default: four times the fixed design).

    The run's status ends ``complete`` when every (case, variant, repeat) is stored, ``interrupted`` when
    cancelled (Ctrl-C, SIGTERM) or the disk is full (``DiskError``), and ``failed`` on an error that stops
    the whole run.
    """
    import asyncio

    from mendoza.runner import RunOptions, execute_adaptive, execute_run, plan_run

    options = options or RunOptions()
    if resume is not None:
        run = store.runs.get(resume)
        suite = store.runs.suite(run.id)
        plan = plan_run(suite, options)
        if retry_errors:
            store.samples.delete_errored(run.id)
        store.runs.set_status(run.id, "running")
    elif suite is None:
        raise ValueError("give a suite to run, or a run id to resume")
    else:
        plan = plan_run(suite, options)
        fixed = len(suite.cases) * len(suite.variants) * suite.repeats
        budget = options.budget or 4 * fixed
        mode = {"mode": "adaptive", "budget": budget} if options.until_decided else {"mode": "fixed"}
        run = store.runs.create(suite, options=mode)
    try:
        if run.adaptive:
            await execute_adaptive(plan, store, run, int(run.options["budget"]))
        else:
            await execute_run(plan, store, run)
    except asyncio.CancelledError:
        store.runs.set_status(run.id, "interrupted")
        raise
    except BaseException as exc:
        # A full disk interrupts a run (resume it once there is space); and may refuse this write too, in which
        # case the error on its way out is the one to report.
        with contextlib.suppress(StoreError):
            store.runs.set_status(run.id, "interrupted" if isinstance(exc, DiskError) else "failed")
        raise
    finished = store.runs.get(run.id)
    store.runs.set_status(
        run.id, "complete" if finished.done_samples >= finished.expected_samples else "interrupted"
    )
    return store.runs.get(run.id)


def run_suite(
    suite: Suite | str | Path | None = None,
    *,
    db: str | Path | Store | None = None,
    resume: str | None = None,
    retry_errors: bool = False,
    use_cache: bool = True,
    concurrency: int | None = None,
    progress: Progress | None = None,
    until_decided: bool = False,
    budget: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
) -> Run:
    """Run a suite (a ``Suite`` or the path of a suite file) and return the finished ``Run``
    (``until_decided``/``budget``: see ``run_suite_async``). ``executor="ray"`` draws and grades the samples
    in Ray actors (``ray_workers`` of them, default one per CPU) on the cluster at ``ray_address`` (None:
    ``RAY_ADDRESS``, else a local Ray instance); the store is written here, as with the default ``"local"``.

    Interrupting it (Ctrl-C or SIGTERM) keeps every finished sample; ``run_suite(resume=run.id)`` completes
    it later without duplicating one.
    """
    from mendoza.config import load_suite
    from mendoza.runner import NullProgress, RunOptions

    if isinstance(suite, str | Path):
        suite = load_suite(suite)
    options = RunOptions(
        use_cache=use_cache, concurrency=concurrency, progress=progress or NullProgress(),
        until_decided=until_decided, budget=budget,
        executor=executor, ray_address=ray_address, ray_workers=ray_workers,
    )
    import asyncio  # here, not at the top: a report (`mendoza show`) never starts an event loop

    store = db if isinstance(db, Store) else open_store(db)
    try:
        return asyncio.run(_run_cancellable(suite, store, resume, retry_errors, options))
    finally:
        if not isinstance(db, Store):
            store.close()


async def _run_cancellable(
    suite: Suite | None, store: Store, resume: str | None, retry_errors: bool, options: RunOptions
) -> Run:
    import asyncio

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread and task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run_suite_async(suite, store, resume=resume, retry_errors=retry_errors, options=options)
    finally:
        if on_main_thread:
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signal.SIGTERM)


def resume_run(
    run_ref: str,
    *,
    db: str | Path | Store | None = None,
    retry_errors: bool = False,
    progress: Progress | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
) -> Run:
    """Finish an interrupted run: sample only what is missing, from the suite snapshot it started with (on
    either executor, whichever the run started on)."""
    return run_suite(
        None, db=db, resume=run_ref, retry_errors=retry_errors, progress=progress,
        executor=executor, ray_address=ray_address, ray_workers=ray_workers,
    )


def export_run(run_ref: str, path: str | Path, *, db: str | Path | Store | None = None) -> RunFileInfo:
    """Write run ``run_ref`` (an id, a unique prefix, or ``latest``) to the portable run file ``path`` (``.mdz``,
    format ``mendoza.run-file/1``: docs/run-file.md): the run with its suite snapshot, samples, grades, labels,
    regrades, pairwise judgements and steps; not the model cache."""
    if isinstance(db, Store):
        return _export_run(db, run_ref, path)
    with open_store(db, readonly=True) as store:
        return _export_run(store, run_ref, path)


def import_run(
    path: str | Path, *, db: str | Path | Store | None = None, run_id: str | None = None
) -> ImportedRun:
    """Import the run of the run file ``path`` into the store (under ``run_id`` when given, else its own id).
    The same run already there is a no-op (``already_there``); a different run with the same id is a
    ``StoreError``, as is a damaged, foreign or newer file (one line naming it)."""
    if isinstance(db, Store):
        return _import_run(db, path, run_id=run_id)
    with open_store(db) as store:
        return _import_run(store, path, run_id=run_id)


def is_run_file(ref: str | Path) -> bool:
    """Whether a run reference names a run file (a path ending in ``.mdz``) rather than a stored run."""
    return Path(ref).suffix.lower() == RUN_FILE_SUFFIX


def baseline_run(store: Store, baseline: str | Path) -> Run:
    """The run a baseline names: a run of ``store`` (an id, a unique prefix of one, or ``latest``), or the run
    of a run file (a path ending in ``.mdz``), imported into ``store`` first (a no-op when it is there)."""
    if is_run_file(baseline):
        return import_run(baseline, db=store).run
    return store.runs.get(str(baseline))


# --- the public Python API: run a suite, get its report and gate -----------------------------------------


@dataclass
class RunResult:
    """A finished (or interrupted) run with what ``mendoza show`` and the gate say of it.

    ``report``: the reliability report (``mendoza.report.RunReport``; ``report_dict()`` is ``show --json``);
    ``gate``: the suite's thresholds checked (pass / fail / inconclusive, each check with its reason), against
    ``baseline`` too when one was given; ``passed``: whether CI should pass (``gate.fails_ci`` applies
    ``on_inconclusive``). ``compare(other)`` pairs it with another run (or two of its variants) by case.
    """

    run: Run
    db: Path | str
    report: RunReport
    gate: Gate
    regressions: list[Comparison] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the gate lets CI pass."""
        return not self.gate.fails_ci

    def report_dict(self) -> dict[str, Any]:
        """The report as data: exactly ``mendoza show --json`` (schema ``mendoza.report/2``)."""
        return report_to_dict(self.report)

    def compare(
        self, other: RunResult | str | None = None, *, variants: Sequence[str] = (), verdicts: Verdicts | None = None
    ) -> list[Comparison]:
        """This run (as B) against ``other`` (as A: a ``RunResult`` or a run id in the same database), paired
        by case for each variant they share; or, with ``variants=(A, B)`` and no other, two variants of this
        run."""
        with open_store(self.db, readonly=True) as store:
            base = store.runs.get(other.run.id if isinstance(other, RunResult) else other or self.run.id)
            first, second = (base, self.run) if other is not None else (self.run, None)
            pairs = variant_pairs(first, second, variants)
            chosen = verdicts or self.report.verdicts
            return [
                compare_variants(store, first.id, a_id, (second or first).id, b_id, verdicts=chosen)
                for a_id, b_id in pairs
            ]

    def samples(self, *, steps: bool = False) -> Iterator[Sample]:
        """Every sample of the run with its grades (and steps), streamed in (variant, case, repeat) order."""
        with open_store(self.db, readonly=True) as store:
            yield from store.samples.iterate(self.run.id, steps=steps)


def judge_run(
    store: Store,
    run_ref: str,
    *,
    baseline: str | None,
    verdicts: Verdicts,
    on_inconclusive: Literal["pass", "fail"] | None,
) -> RunResult:
    """A stored run with its report and its gate (against ``baseline``, a run of ``store``, for
    ``max_regression``): what ``mendoza run`` prints and ``mendoza.run`` returns."""
    run = store.runs.get(run_ref)
    report = build_report(store, run.id, verdicts=verdicts)
    regressions: list[Comparison] = []
    if baseline is not None:
        base = store.runs.get(baseline)
        regressions = [
            compare_variants(store, base.id, a_id, run.id, b_id, verdicts=verdicts)
            for a_id, b_id in variant_pairs(base, run)
        ]
    gate = evaluate_gate(report, regressions, on_inconclusive=on_inconclusive)
    return RunResult(run, store.path, report, gate, regressions)


def run(
    suite: Suite | str | Path,
    *,
    db: str | Path | None = None,
    repeats: int | None = None,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    baseline: str | Path | None = None,
    on_inconclusive: Literal["pass", "fail"] | None = None,
    verdicts: Verdicts = "human-adjusted",
    use_cache: bool = True,
    concurrency: int | None = None,
    until_decided: bool = False,
    budget: int | None = None,
    progress: Progress | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
) -> RunResult:
    """Run a suite (a ``Suite``, e.g. from ``mendoza.suite(...)``, or a suite file's path) and return its
    ``RunResult``: every option of ``mendoza run``. ``repeats`` and ``thresholds`` (a ``Thresholds`` or a
    mapping of its fields) replace the suite's; ``baseline`` is a run id (or a unique prefix) in the same
    database, or the path of a run file (``.mdz``, imported into it first), for ``max_regression``.
    ``executor="ray"`` (with ``ray_address``, ``ray_workers``) draws the samples on Ray: see ``run_suite``.
    Nothing given is ignored: a mistake is a ``ConfigError``."""
    from mendoza.config import load_suite

    loaded = load_suite(suite) if isinstance(suite, str | Path) else suite
    if not isinstance(loaded, Suite):
        raise ConfigError(f"run() takes a Suite or a suite file's path, not {type(suite).__name__}")
    updates: dict[str, Any] = {}
    if repeats is not None:
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ConfigError(f"repeats must be a whole number of at least 1, not {repeats!r}")
        updates["repeats"] = repeats
    if thresholds is not None:
        try:
            fields = thresholds.model_dump(exclude_unset=True) if isinstance(thresholds, Thresholds) else thresholds
            updates["thresholds"] = Thresholds.model_validate({**loaded.thresholds.model_dump(), **dict(fields)})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"thresholds.{where}: {first['msg']}") from None
    if updates:
        loaded = loaded.model_copy(update=updates)
    if verdicts not in VERDICTS:
        raise ConfigError(f"verdicts must be one of {', '.join(VERDICTS)}, not {verdicts!r}")
    with open_store(db) as store:
        if baseline is not None:  # an unknown baseline is a mistake to report before sampling
            baseline = baseline_run(store, baseline).id
        finished = run_suite(
            loaded, db=store, use_cache=use_cache, concurrency=concurrency, progress=progress,
            until_decided=until_decided, budget=budget,
            executor=executor, ray_address=ray_address, ray_workers=ray_workers,
        )
        return judge_run(store, finished.id, baseline=baseline, verdicts=verdicts, on_inconclusive=on_inconclusive)


def open_run(
    db: str | Path | None = None,
    run_ref: str = "latest",
    *,
    baseline: str | None = None,
    verdicts: Verdicts = "human-adjusted",
    on_inconclusive: Literal["pass", "fail"] | None = None,
) -> RunResult:
    """A stored run (an id, a unique prefix of one, or ``latest``) as a ``RunResult``."""
    with open_store(db, readonly=True) as store:
        return judge_run(store, run_ref, baseline=baseline, verdicts=verdicts, on_inconclusive=on_inconclusive)


def suite(
    name: str,
    *,
    cases: Sequence[Mapping[str, Any] | Case],
    variants: Sequence[Mapping[str, Any] | Variant] = (),
    app: Callable[..., Any] | None = None,
    graders: Sequence[Any] = (),
    **fields: Any,
) -> Suite:
    """A suite built in Python, validated exactly as a suite file is: ``cases`` as mappings (or ``Case``s),
    ``variants`` as mappings (a variant's ``app`` may be a callable instead of a ``model``), or just ``app``
    (one variant, id ``app``), ``graders`` as a suite file writes them (``{"contains": "{{ expected }}"}``,
    ``"json"``, ``{"equals": "billing", "step": "router"}``), and any other suite field (``repeats``,
    ``thresholds``, ``seed``, ``human``, ...). Relative paths are resolved from the working directory."""
    from mendoza.config.suite_file import suite_from_document
    from mendoza.config.yaml_source import YamlDocument
    from mendoza.providers.python_callable import app_target

    entries: list[Any] = []
    for variant in variants:
        entry = variant.model_dump(exclude_defaults=True) if isinstance(variant, Variant) else dict(variant)
        if callable(entry.get("app")):
            entry["model"] = app_target(entry.pop("app"))
        entries.append(entry)
    if app is not None:
        entries.append({"id": "app", "model": app_target(app)})
    data = {
        "suite": name,
        "cases": [case.model_dump(exclude_defaults=True) if isinstance(case, Case) else dict(case) for case in cases],
        "variants": entries,
        "graders": list(graders),
        **fields,
    }
    return suite_from_document(YamlDocument(Path.cwd() / f"<suite {name!r} built in Python>", data, None))


# --- a rubric drafted from a run's labels -----------------------------------------------------------------


@dataclass(frozen=True)
class DraftedRubric:
    """A rubric drafted from a run's labels (``draft``: the split, the criteria and their provenance, the grader
    and where the held-out grades are), measured on the held-out labels (``calibration``, ``verdict``), and
    ``yaml``: the grader to paste under a suite's ``graders:``, the provenance and the measure as comments."""

    draft: RubricDraft
    calibration: Calibration
    verdict: AgreementVerdict
    yaml: str


def draft_rubric(
    store: Store,
    run_ref: str,
    *,
    grader: str | None = None,
    model: str | None = None,
    judge: str | None = None,
    holdout: float = 0.5,
    seed: int = 0,
    held_out_db: str | Path | None = None,
    options: GradeOptions | None = None,
) -> DraftedRubric:
    """Draft rubric criteria from run ``run_ref``'s human labels and notes with a model, grade the held-out share
    of the labels (``holdout``, split by ``seed``, stratified by verdict) with the drafted rubric, and measure it
    against them with ``report.calibrate`` (see ``mendoza.soft.rubric_draft``). The held-out grades go to a
    scratch SQLite file, never into the run: ``held_out_db`` keeps it (a new file), else it is a temporary one.
    ``grader``, ``model``, ``judge``: see ``soft.draft_rubric``."""
    from mendoza.report import agreement_verdict, calibrate
    from mendoza.soft import draft_rubric as _draft_rubric
    from mendoza.soft import grader_yaml

    with tempfile.TemporaryDirectory(prefix="mendoza-rubric-") as folder:
        path = Path(held_out_db) if held_out_db is not None else Path(folder) / "held-out.db"
        draft = _draft_rubric(store, run_ref, path, grader=grader, model=model, judge=judge, holdout=holdout,
                              seed=seed, options=options)
        with Store(path, readonly=True) as scratch:
            calibration = calibrate(scratch, draft.run.id, draft.spec.name, seed=seed)
    verdict = agreement_verdict(calibration)
    kappa = calibration.kappa
    drafted_from = "{} passes, {} failures".format(*draft.split.counts(draft.split.drafting))
    comments = [
        f"drafted by `mendoza rubric draft` from run {draft.run.id} ({drafted_from} to draft from)",
        f"model {draft.answer.model}, prompt sha256 {draft.answer.prompt_sha256}, seed {draft.answer.seed}, "
        f"{draft.answer.attempts} ask(s)",
        f"held out: {calibration.labelled} labels, agreement {calibration.agreement:.0%}, Cohen's kappa "
        f"{kappa.estimate:.2f} [{kappa.low:.2f}, {kappa.high:.2f}]: {verdict}",
    ]
    return DraftedRubric(draft, calibration, verdict, grader_yaml(draft.entry, comments))
