"""Issue 13 on the run overview: under each variant whose samples recorded steps, the report's per step table
(own pass rate with its interval, how often the step ran, errors, latency, tokens, cost share), where failures
start (each step a link to the grid filtered by it) and the end-to-end rate beside the product of the step
rates. Every figure is the report's (``build_report``), formatted as the page formats every rate; hostile
step names are escaped and isolated in text and percent-encoded in links; the JSON twin carries it all; a run
without steps shows none of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient

from mendoza.core import Case, Grade, GraderSpec, Sample, Step, Suite, Variant, first_failing_step
from mendoza.report import (
    Rate,
    StepReport,
    VariantResult,
    build_report,
    percent,
    step_chain_words,
    step_ran_words,
    step_rate_words,
)
from mendoza.store import Store
from mendoza.viewer.render import template_env
from tests.report.steps_factory import write_steps_run
from tests.viewer.conftest import Runs
from tests.viewer.test_hostile import exposed_bidi

RLO = "\u202e"
SCRIPT = "<script>alert(1)</script>"
# Every character that means something in HTML, in a query string or in a path, and a bidi override.
HOSTILE_STEP = f"r&ou\"te'<b>{RLO}/?#=% +{SCRIPT}"
LONG_STEP = "tool-" + "x" * 1200  # longer than the grid's failed_step filter takes
FILTERS = template_env().filters


@dataclass(frozen=True)
class StepRuns:
    db: Path
    steps: str  # the step factory's run: variant app with steps, variant plain without
    hostile: str  # steps with hostile and overlong names


def _grade(spec: GraderSpec, passed: bool) -> Grade:
    return Grade(spec.name, passed, float(passed), "", grader_hash=spec.definition_hash())


def write_hostile_run(store: Store) -> str:
    """Variant ``app``, two cases x two repeats: a hostile step that a grader targets (c0 repeat 0 fails it)
    and an overlong tool step that errors in c1 repeat 0."""
    on_step = GraderSpec(type="equals", params={"value": "ok"}, name="hostile-step", step=HOSTILE_STEP)
    answer = GraderSpec(type="contains", params={"value": "ok"}, name="answer")
    suite = Suite(
        name="hostile-steps",
        cases=(Case(id="c0", vars={"q": "a"}), Case(id="c1", vars={"q": "b"})),
        variants=(Variant(id="app", model="python:app:run"),),
        graders=(on_step, answer),
        repeats=2,
    )
    run = store.runs.create(suite)
    samples = []
    for case in ("c0", "c1"):
        for repeat in (0, 1):
            step_ok = (case, repeat) != ("c0", 0)
            tool_error = "KeyError: x" if (case, repeat) == ("c1", 0) else None
            steps = (
                Step(HOSTILE_STEP, "llm", "h", None, 0.0, 12.0, "q", "ok" if step_ok else "no", None, 3, 1, 0.001),
                Step(LONG_STEP, "tool", "t", None, 20.0, 5.0, "{}", "[]", None, error=tool_error),
            )
            passed = step_ok and tool_error is None
            failed = ({HOSTILE_STEP} if not step_ok else set()) | ({LONG_STEP} if tool_error else set())
            samples.append(
                Sample(
                    case,
                    "app",
                    repeat,
                    "p",
                    "ok" if passed else "no",
                    cost=0.002,
                    latency_ms=30.0,
                    grades=(_grade(on_step, step_ok), _grade(answer, passed)),
                    steps=steps,
                    failed_step=first_failing_step(steps, failed),
                )
            )
    store.samples.write(run.id, samples)
    store.runs.set_status(run.id, "complete")
    return run.id


@pytest.fixture(scope="module")
def step_runs(tmp_path_factory: pytest.TempPathFactory) -> StepRuns:
    db = tmp_path_factory.mktemp("overview-steps") / "steps.db"
    with Store(db) as store:
        steps = write_steps_run(store).id
        hostile = write_hostile_run(store)
    return StepRuns(db, steps, hostile)


@pytest.fixture
def client(step_runs: StepRuns, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(step_runs.db)


def report_variant(step_runs: StepRuns, run_id: str, variant_id: str) -> VariantResult:
    with Store(step_runs.db) as store:
        return build_report(store, run_id, verdicts="human-adjusted", judges=False).variant(variant_id)


class _Tables(HTMLParser):
    """The rows of the tables of the page's step sections: per section (by its ``data-variant``), per table
    class (``steps``, ``failure-starts``), each row's cell texts and the hrefs of its links."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.chains: dict[str, str] = {}
        self.variant: str | None = None
        self.depth = 0  # of <section> elements inside the current step section
        self.table: str | None = None
        self.row: dict[str, Any] | None = None
        self.cell: list[str] | None = None
        self.chain: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "section" and "steps-section" in classes:
            self.variant = found.get("data-variant") or ""
            self.sections[self.variant] = {}
        elif self.variant is None:
            return
        elif tag == "table":
            self.table = next(name for name in ("steps", "failure-starts") if name in classes)
            self.sections[self.variant][self.table] = []
        elif tag == "tr" and self.table is not None and ("step-row" in classes or "failure-start" in classes):
            self.row = {"cells": [], "links": [], "class": classes}
        elif tag == "td" and self.row is not None:
            self.cell = []
        elif tag == "a" and self.row is not None:
            self.row["links"].append(found.get("href"))
        elif tag == "p" and "step-chain" in classes:
            self.chain = []

    def handle_endtag(self, tag: str) -> None:
        if self.variant is None:
            return
        if tag == "section":
            self.variant = None
        elif tag == "table":
            self.table = None
        elif tag == "td" and self.row is not None and self.cell is not None:
            self.row["cells"].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            self.sections[self.variant][self.table].append(self.row)
            self.row = None
        elif tag == "p" and self.chain is not None:
            self.chains[self.variant] = "".join(self.chain)
            self.chain = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.chain is not None:
            self.chain.append(data)


def step_sections(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def shown(name: str) -> str:
    """A name as the page shows it (``ident``: bidi controls made visible)."""
    return name.replace(RLO, "⟨U+202E⟩")


def rate_text(rate: Rate) -> str:
    """A rate as every table of the overview shows it (``rate_with_interval``), from the report's figures
    formatted by the report's own ``percent`` (the CLI's)."""
    interval = rate.reliability.interval
    return f"{percent(rate.reliability.rate)} [{percent(interval.low)} – {percent(interval.high)}]"


def figures(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?%", text)


def expected_row(step: StepReport) -> list[str]:
    errors = f"{step.errors} ({percent(step.error_share)})" if step.errors else "0"
    return [
        shown(step.name),
        step.kind,
        step_ran_words(step),
        "no grader" if step.rate is None else rate_text(step.rate),
        errors,
        f"{FILTERS['ms'](step.latency_p50_ms)} / {FILTERS['ms'](step.latency_p95_ms)}",
        f"{step.tokens_in:,} / {step.tokens_out:,}",
        FILTERS["percent"](step.cost_share),
    ]


def test_the_steps_table_shows_the_reports_figures(client: TestClient, step_runs: StepRuns) -> None:
    page = client.get(f"/runs/{step_runs.steps}")
    assert page.status_code == 200
    sections = step_sections(page.text).sections
    assert list(sections) == ["app"]  # variant plain recorded no step: no section of its own
    app = report_variant(step_runs, step_runs.steps, "app")
    assert [step.name for step in app.steps] == ["router", "lookup", "answer"]
    rows = sections["app"]["steps"]
    assert [row["cells"] for row in rows[:-1]] == [expected_row(step) for step in app.steps]
    # the rates carry the very figures of the CLI's words (step_rate_words: "85.0% [62.9%, 95.5%]")
    for row, step in zip(rows, app.steps, strict=False):
        if step.rate is not None:
            assert figures(row["cells"][3]) == figures(step_rate_words(step))
    router, lookup, _, _ = rows
    assert router["cells"][2] == "19/20 (95.0%)" and lookup["cells"][2] == "19/20 (95.0%), 23 runs"
    assert lookup["cells"][4] == f"1 ({percent(1 / 23)})"
    # the final output: the answer grader's rate, as the report has it
    assert app.final_output is not None
    assert rows[-1]["cells"][0] == "final output" and rows[-1]["cells"][3] == rate_text(app.final_output)


def test_where_failures_start_links_each_step_to_the_filtered_grid(client: TestClient, step_runs: StepRuns) -> None:
    run_id = step_runs.steps
    sections = step_sections(client.get(f"/runs/{run_id}").text).sections
    app = report_variant(step_runs, run_id, "app")
    rows = sections["app"]["failure-starts"]
    expected = [[start.name, str(start.samples), FILTERS["percent"](start.share)] for start in app.failed_at]
    assert [row["cells"] for row in rows] == expected
    assert [start.name for start in app.failed_at] == ["router", "lookup", "final output", "errored"]
    links = {row["cells"][0]: row["links"] for row in rows}
    assert links["router"] == [f"/runs/{run_id}/grid?failed_step=router&variant=app"]
    assert links["lookup"] == [f"/runs/{run_id}/grid?failed_step=lookup&variant=app"]
    assert links["final output"] == [] and links["errored"] == []  # not steps: nothing to filter by
    grid = client.get(links["router"][0].replace("/grid?", "/grid.json?"))
    assert grid.status_code == 200
    assert [row["case"]["case_id"] for row in grid.json()["rows"]] == ["c0", "c1"]  # the route failed there
    assert grid.json()["filters"]["failed_step"] == "router" and grid.json()["filters"]["variants"] == ["app"]


def test_the_end_to_end_rate_is_set_beside_the_product(client: TestClient, step_runs: StepRuns) -> None:
    parsed = step_sections(client.get(f"/runs/{step_runs.steps}").text)
    app = report_variant(step_runs, step_runs.steps, "app")
    assert app.step_chain is not None
    assert parsed.chains == {"app": step_chain_words(app.step_chain)}


def test_hostile_step_names_are_escaped_in_text_and_encoded_in_links(client: TestClient, step_runs: StepRuns) -> None:
    run_id = step_runs.hostile
    html = client.get(f"/runs/{run_id}").text
    assert SCRIPT not in html and "<b>" not in html
    assert exposed_bidi(html) == []
    parsed = step_sections(html)
    rows = parsed.sections["app"]["steps"]
    assert [row["cells"][0] for row in rows] == [shown(HOSTILE_STEP), LONG_STEP, "final output"]
    starts = {row["cells"][0]: row["links"] for row in parsed.sections["app"]["failure-starts"]}
    assert set(starts) == {shown(HOSTILE_STEP), LONG_STEP}
    assert starts[LONG_STEP] == []  # too long for the grid's filter: shown, not linked
    (href,) = starts[shown(HOSTILE_STEP)]
    link = urlsplit(href)
    assert link.path == f"/runs/{run_id}/grid" and not link.fragment and "#" not in href
    assert parse_qsl(link.query) == [("failed_step", HOSTILE_STEP), ("variant", "app")]
    # in the HTML the link's & is escaped, and no character of the name is left raw
    raw = re.search(r'<a href="(/runs/[^"]*/grid\?failed_step=[^"]*)"', html)
    assert raw is not None and "&amp;variant=app" in raw.group(1) and "<" not in raw.group(1)
    grid = client.get(href.replace("/grid?", "/grid.json?"))
    assert grid.status_code == 200 and [row["case"]["case_id"] for row in grid.json()["rows"]] == ["c0"]
    assert parsed.chains["app"] == shown(step_chain_words(_chain(step_runs, run_id)))


def _chain(step_runs: StepRuns, run_id: str) -> Any:
    chain = report_variant(step_runs, run_id, "app").step_chain
    assert chain is not None
    return chain


def test_the_json_twin_carries_the_steps(client: TestClient, step_runs: StepRuns) -> None:
    run_id = step_runs.steps
    data = client.get(f"/runs/{run_id}.json").json()
    variants = {variant["variant_id"]: variant for variant in data["variants"]}
    app = report_variant(step_runs, run_id, "app")
    steps = variants["app"]["steps"]
    assert [step["name"] for step in steps] == [step.name for step in app.steps]
    for shown_step, step in zip(steps, app.steps, strict=True):
        assert shown_step["ran"] == step_ran_words(step)
        assert (shown_step["samples"], shown_step["runs"], shown_step["errors"]) == (
            step.samples,
            step.runs,
            step.errors,
        )
        assert shown_step["error_share"] == step.error_share and shown_step["cost_share"] == step.cost_share
        assert shown_step["latency_p50_ms"] == step.latency_p50_ms and shown_step["tokens_in"] == step.tokens_in
        assert shown_step["graders"] == step.graders
        if step.rate is None:
            assert shown_step["rate"] is None
        else:
            interval = step.rate.reliability.interval
            rate = shown_step["rate"]
            assert (rate["rate"], rate["low"], rate["high"]) == (
                step.rate.reliability.rate,
                interval.low,
                interval.high,
            )
    assert app.final_output is not None
    assert variants["app"]["final_output"]["rate"] == app.final_output.reliability.rate
    assert [
        (start["name"], start["kind"], start["samples"], start["share"]) for start in variants["app"]["failed_at"]
    ] == [(start.name, start.kind, start.samples, start.share) for start in app.failed_at]
    urls = [start["grid_url"] for start in variants["app"]["failed_at"]]
    grid = f"/runs/{run_id}/grid?failed_step="
    assert urls == [f"{grid}router&variant=app", f"{grid}lookup&variant=app", None, None]
    chain = variants["app"]["step_chain"]
    assert app.step_chain is not None
    assert chain["words"] == step_chain_words(app.step_chain)
    assert (chain["end_to_end"], chain["product"], chain["pattern"]) == (
        app.step_chain.end_to_end_rate,
        app.step_chain.product,
        app.step_chain.pattern,
    )
    assert [tuple(factor) for factor in chain["factors"]] == app.step_chain.factors
    plain = variants["plain"]
    assert (plain["steps"], plain["failed_at"], plain["final_output"], plain["step_chain"]) == ([], [], None, None)


def test_a_run_without_steps_shows_no_steps_section(shared_client: TestClient, shared_runs: Runs) -> None:
    for run in (shared_runs.first, shared_runs.xss):
        html = shared_client.get(f"/runs/{run.id}").text
        assert "steps-section" not in html and "Where failures start" not in html and "failed_step=" not in html
        data = shared_client.get(f"/runs/{run.id}.json").json()
        assert all(variant["steps"] == [] and variant["step_chain"] is None for variant in data["variants"])
