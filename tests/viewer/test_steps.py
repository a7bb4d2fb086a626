"""Issue 13 in the viewer: the sample page shows a sample's steps as a tree (nested under their parents, with
timings, tokens, cost, errors, and their input and output behind <details>), escaped and bidi-isolated like
every other model text; its plain-text and JSON twins carry them; the grid filters by "failed at step X"."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mendoza.core import Sample, Step
from mendoza.store import Store
from mendoza.viewer.pages.sample import build_steps
from tests.store.factories import grade, make_suite
from tests.viewer.live import live_viewer
from tests.viewer.test_hostile import exposed_bidi

RLO = "\u202e"
SCRIPT = "<script>alert(1)</script>"
PWN = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE_NAME = f"evil{RLO}{SCRIPT}"


def router_steps() -> tuple[Step, ...]:
    """The steps of one sample, in start order (as the store keeps them): a router with a retriever under it
    whose tool call errored and a late reranker, an audit between, an answer with a guardrail, a step whose
    parent is missing, and a step with a hostile name."""
    return (
        Step(
            "router",
            "llm",
            "r",
            None,
            0.0,
            40.0,
            input="Where is my refund?",
            output="billing",
            attributes={"gen_ai.request.model": "local/tiny", "temperature": 0.1, "labels": ["a", "b"]},
            tokens_in=12,
            tokens_out=2,
            cost=0.0012,
        ),
        Step("retrieve", "retrieval", "k", "r", 5.0, 10.0, input="refund policy", output="3 documents"),
        Step("lookup", "tool", "t", "k", 6.0, 3.0, input='{"order": 5512}', error="tool exploded: HTTP 500"),
        Step("audit", "other", "u", None, 20.0, 2.0),
        Step("rerank", "llm", "rr", "r", 30.0, 8.0, output="doc 2 first"),
        Step(
            "answer",
            "llm",
            "a",
            None,
            50.0,
            100.0,
            input=f"say {SCRIPT}",
            output=f"Refunds take 5 days {PWN}",
            tokens_in=40,
            tokens_out=9,
            cost=0.004,
        ),
        Step("guard", "guardrail", "g", "a", 120.0, 5.0, output=f"ok {RLO}sdrawkcab"),
        Step(HOSTILE_NAME, "tool", "h", "a", 140.0, 1.0, output=SCRIPT),
        Step("stray", "other", "s", "no-such-span", 151.0, 1.0),
    )


# The tree order: top-level steps in start order, each followed by its children (in start order), and theirs.
TREE = [
    ("router", 0),
    ("retrieve", 1),
    ("lookup", 2),
    ("rerank", 1),
    ("audit", 0),
    ("answer", 0),
    ("guard", 1),
    (HOSTILE_NAME, 1),
    ("stray", 0),
]


@dataclass(frozen=True)
class StepRun:
    db: Path
    run_id: str
    routed: int  # c1 / a repeat 0: the sample with the step tree, failed at "router"
    answered: int  # c2 / b: failed at "answer"
    plain: int  # c3 / a: no steps


def make_step_run(folder: Path) -> StepRun:
    db = folder / "steps.db"
    with Store(db) as store:
        run = store.runs.create(make_suite(n_cases=3, variant_ids=("a", "b"), repeats=2))
        graded = (grade(False), grade(True, grader="not-contains"))
        samples = [
            Sample(
                "c1",
                "a",
                0,
                "p",
                "billing",
                grades=graded,
                latency_ms=160.0,
                steps=router_steps(),
                failed_step="router",
            ),
            Sample("c1", "a", 1, "p", "x", grades=graded, steps=(Step("router", "llm", "r2"),), failed_step=None),
            Sample("c1", "b", 0, "p", "x", grades=graded),
            Sample("c2", "a", 0, "p", "x", grades=graded),
            Sample(
                "c2",
                "b",
                0,
                "p",
                "x",
                grades=graded,
                steps=(Step("answer", "llm", "a", error="timeout after 30 s"),),
                failed_step="answer",
            ),
            Sample("c3", "a", 0, "p", "x", grades=graded),
        ]
        store.samples.write(run.id, samples)
        ids = {
            (record.case_id, record.variant_id, record.repeat): record.id
            for case in ("c1", "c2", "c3")
            for record in store.browse.case_samples(run.id, case, ["a", "b"])
        }
    return StepRun(db, run.id, ids[("c1", "a", 0)], ids[("c2", "b", 0)], ids[("c3", "a", 0)])


@pytest.fixture(scope="module")
def step_run(tmp_path_factory: pytest.TempPathFactory) -> StepRun:
    return make_step_run(tmp_path_factory.mktemp("steps"))


@pytest.fixture
def client(step_run: StepRun, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(step_run.db)


class _StepTree(HTMLParser):
    """The step names of a page in document order, with how many ``li.step`` elements hold each."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[bool] = []  # per open <li>: is it a step
        self.in_name = 0
        self.steps: list[list[Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "li":
            if "step" in classes:
                self.steps.append(["", sum(self.open)])
            self.open.append("step" in classes)
        elif tag == "span" and "step-name" in classes:
            self.in_name = 1
        elif self.in_name:
            self.in_name += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.open.pop()
        elif self.in_name:
            self.in_name -= 1

    def handle_data(self, data: str) -> None:
        if self.in_name:
            self.steps[-1][0] += data


def step_tree(html: str) -> list[tuple[str, int]]:
    parser = _StepTree()
    parser.feed(html)
    assert parser.open == [], "every <li> of the tree is closed"
    return [(name, depth) for name, depth in parser.steps]


def shown(name: str) -> str:
    return name.replace(RLO, "⟨U+202E⟩")


def test_the_sample_page_nests_steps_under_their_parents_in_start_order(client: TestClient, step_run: StepRun) -> None:
    page = client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}")
    assert page.status_code == 200
    assert step_tree(page.text) == [(shown(name), depth) for name, depth in TREE]
    data = client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}.json").json()
    steps = data["steps"]
    assert [(node["name"], node["depth"]) for node in steps["nodes"]] == TREE
    assert steps["failed_step"] == "router" and steps["errors"] == 1 and steps["span_ms"] == 160.0
    stray = next(node for node in steps["nodes"] if node["name"] == "stray")
    assert stray["detached"] and stray["parent_id"] == "no-such-span"
    router = steps["nodes"][0]
    assert router["children"] == 2 and router["tokens_in"] == 12 and router["cost"] == 0.0012
    assert router["attributes"] == {"gen_ai.request.model": "local/tiny", "temperature": 0.1, "labels": ["a", "b"]}
    assert "bar_x" not in router  # the drawing is left out of the JSON


def test_each_step_shows_kind_timing_tokens_cost_attributes_and_its_error(
    client: TestClient, step_run: StepRun
) -> None:
    html = client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}").text
    assert '<span class="step-kind kind-retrieval">retrieval</span>' in html
    assert '<span class="step-kind kind-guardrail">guardrail</span>' in html
    assert "+50 ms · 100 ms · 40 / 9 tokens · $0.0040" in html
    assert "<dt><bdi>gen_ai.request.model</bdi></dt><dd><bdi>local/tiny</bdi></dd>" in html
    assert "<dd><bdi>[&#34;a&#34;, &#34;b&#34;]</bdi></dd>" in html
    lookup = re.search(r'<li class="step kind-tool step-error"[^>]*>.*?</pre>', html, re.S)
    assert lookup is not None and "tool exploded: HTTP 500" in lookup.group()
    # The timeline: the answer starts at 50 of 160 ms and lasts 100.
    assert '<rect class="timeline-bar kind-llm" x="31.25" y="0" width="62.5" height="6"/>' in html
    # Inputs and outputs are behind <details>, closed.
    assert html.count('<details class="step-text" data-part="output">') == 6
    assert "<details open" not in html


def test_the_first_failing_step_is_marked(client: TestClient, step_run: StepRun) -> None:
    html = client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}").text
    marked = re.findall(r'<li class="([^"]*first-failure[^"]*)"[^>]*id="failed-step"', html)
    assert marked == ["step kind-llm first-failure"]
    assert html.count('id="failed-step"') == 1
    assert 'first failed at <a href="#failed-step"><bdi>router</bdi></a>' in html
    other = client.get(f"/runs/{step_run.run_id}/samples/{step_run.answered}").text
    assert re.search(r'<li class="step kind-llm step-error first-failure"', other)
    assert "timeout after 30 s" in other
    # The other repeats of the case say where each failed.
    assert (
        '<span class="failed-at">failed at <bdi>router</bdi></span>'
        in client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}").text
    )


def test_hostile_step_text_is_escaped_and_bidi_isolated(client: TestClient, step_run: StepRun) -> None:
    html = client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}").text
    assert "<script>alert" not in html and "<script>window" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f"<bdi>evil⟨U+202E⟩{'&lt;script&gt;alert(1)&lt;/script&gt;'}</bdi>" in html  # a name: controls shown
    assert f"<bdi>ok {RLO}sdrawkcab</bdi>" in html  # an output: kept as written, isolated
    assert exposed_bidi(html) == []


def test_a_sample_without_steps_shows_no_step_panel(client: TestClient, step_run: StepRun) -> None:
    page = client.get(f"/runs/{step_run.run_id}/samples/{step_run.plain}")
    assert page.status_code == 200 and 'class="step-tree"' not in page.text
    assert page.text.count('id="steps"') == 0
    assert client.get(f"/runs/{step_run.run_id}/samples/{step_run.plain}.json").json()["steps"]["nodes"] == []
    missing = client.get(f"/runs/{step_run.run_id}/samples/{step_run.plain}/steps.txt")
    assert missing.status_code == 404 and "has no steps" in missing.text


def test_the_plain_text_twin_has_every_step_whole(client: TestClient, step_run: StepRun) -> None:
    response = client.get(f"/runs/{step_run.run_id}/samples/{step_run.routed}/steps.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "First failed at: router" in text
    heads = [line for line in text.splitlines() if line.lstrip().startswith("- ")]
    assert [(line.split(" [")[0].strip()[2:], (len(line) - len(line.lstrip())) // 4) for line in heads] == [
        (shown(name), depth) for name, depth in TREE
    ]
    assert (
        "- router [llm] start +0.0 ms, duration 40.0 ms, tokens 12 in / 2 out, cost $0.001200 <- FIRST FAILURE" in text
    )
    assert "        | tool exploded: HTTP 500" in text  # lookup's error, two levels down
    assert f"| Refunds take 5 days {PWN}" in text  # whole, not escaped: plain text is never rendered
    assert "| gen_ai.request.model: local/tiny" in text


def test_long_step_text_is_cut_on_the_page_and_whole_in_the_text_twin(
    tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    long = "word " * 4_000  # 20,000 characters
    nested = tuple(
        Step(f"s{index}", "other", f"id{index}", f"id{index - 1}" if index else None, float(index), 1.0)
        for index in range(300)
    )
    flat = tuple(Step(f"f{index}", "tool", f"f{index}", None, 300.0 + index, 1.0, output="ok") for index in range(300))
    db = tmp_path / "many.db"
    with Store(db) as store:
        run = store.runs.create(make_suite(n_cases=1, variant_ids=("a",), repeats=1))
        steps = (Step("big", "llm", "big", None, 0.0, 1.0, output=long), *nested, *flat)
        store.samples.write(run.id, [Sample("c1", "a", 0, "p", "x", steps=steps)])
        (record,) = store.browse.case_samples(run.id, "c1", ["a"])
    client = client_for(db)
    page = client.get(f"/runs/{run.id}/samples/{record.id}")
    assert page.status_code == 200
    assert "The first 5,000 of 20,000 characters" in page.text
    assert f'href="/runs/{run.id}/samples/{record.id}/steps.txt">show all (plain text)' in page.text
    tree = step_tree(page.text)
    assert len(tree) == 601 and tree[300] == ("s299", 299) and tree[301] == ("f0", 0)
    assert long.rstrip() in client.get(f"/runs/{run.id}/samples/{record.id}/steps.txt").text.replace("    | ", "")


def test_build_steps_survives_cycles_duplicate_ids_and_odd_times() -> None:
    steps = [
        Step("a", span_id="x", parent_id="y", start_ms=float("inf")),
        Step("b", span_id="y", parent_id="x", duration_ms=-5.0),
        Step("c", span_id="x", parent_id=None),  # a span id given twice: children go to the first
        Step("d", span_id="z", parent_id="z"),  # its own parent
    ]
    view = build_steps(steps, failed_step="b")
    assert [(node.name, node.depth) for node in view.nodes] == [("c", 0), ("d", 0), ("a", 0), ("b", 1)]
    assert {node.name for node in view.nodes if node.detached} == {"a", "d"}
    assert [node.name for node in view.nodes if node.first_failure] == ["b"]
    assert view.span_ms == 0.0 and all(0 <= node.bar_x <= 100 for node in view.nodes)


def grid_cases(client: TestClient, run_id: str, **params: Any) -> list[str]:
    response = client.get(f"/runs/{run_id}/grid.json", params=params)
    assert response.status_code == 200, response.text
    return [row["case"]["case_id"] for row in response.json()["rows"]]


def test_the_grid_keeps_the_cases_that_failed_at_a_step(client: TestClient, step_run: StepRun) -> None:
    run_id = step_run.run_id
    assert grid_cases(client, run_id) == ["c1", "c2", "c3"]
    assert grid_cases(client, run_id, failed_step="router") == ["c1"]
    assert grid_cases(client, run_id, failed_step="answer") == ["c2"]
    assert grid_cases(client, run_id, failed_step="router", variant="b") == []  # only in the chosen variants
    assert grid_cases(client, run_id, failed_step="answer", variant="b") == ["c2"]
    assert grid_cases(client, run_id, failed_step="router", q="billing") == ["c1"]  # with other filters
    assert grid_cases(client, run_id, failed_step="lookup") == []  # a step that ran but no sample failed at
    grid = client.get(f"/runs/{run_id}/grid.json", params={"failed_step": "router"}).json()
    assert grid["filters"]["failed_step"] == "router" and "failed_step=router" in grid["query"]
    assert grid["step_names"] == ["answer", "router"]
    cell = grid["rows"][0]["cells"][0]
    assert cell["variant_id"] == "a" and cell["sample_id"] == step_run.routed  # a click opens one that failed there


def test_an_unknown_step_is_an_empty_grid_and_a_bad_value_a_400(client: TestClient, step_run: StepRun) -> None:
    url = f"/runs/{step_run.run_id}/grid"
    unknown = client.get(url, params={"failed_step": f"nope{RLO}{SCRIPT}"})
    assert unknown.status_code == 200 and "No case matches these filters." in unknown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (no sample failed here)</option>" in unknown.text
    assert "<script>alert" not in unknown.text
    assert grid_cases(client, step_run.run_id, failed_step=" router") == []  # exact: no stripping
    bad = client.get(url + ".json", params={"failed_step": "x" * 1001})
    assert bad.status_code == 400
    assert bad.json()["error"] == "'failed_step' is limited to 1000 characters"
    page = client.get(url, params={"failed_step": "x" * 1001})
    assert page.status_code == 400 and "&#39;failed_step&#39; is limited to 1000 characters" in page.text


def test_the_grid_offers_the_steps_samples_failed_at(client: TestClient, step_run: StepRun) -> None:
    html = client.get(f"/runs/{step_run.run_id}/grid", params={"failed_step": "answer"}).text
    select = re.search(r'<select name="failed_step">.*?</select>', html, re.S)
    assert select is not None
    options = re.findall(r'<option value="([^"]*)"( selected)?>', select.group())
    assert options == [("", ""), ("answer", " selected"), ("router", "")]


def test_a_run_without_steps_offers_no_step_filter(shared_client: TestClient, shared_runs: Any) -> None:
    html = shared_client.get(f"/runs/{shared_runs.first.id}/grid").text
    assert 'name="failed_step"' not in html


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.incidents = []
    page.on("dialog", lambda dialog: (page.incidents.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: page.incidents.append(f"error: {error}"))
    yield page
    context.close()


@pytest.mark.browser
def test_the_step_tree_in_chromium(tab: Any, step_run: StepRun) -> None:
    from playwright.sync_api import expect

    with live_viewer(step_run.db) as base:
        tab.goto(f"{base}/runs/{step_run.run_id}/samples/{step_run.routed}")
        tree = tab.locator("ul.step-tree")
        expect(tree).to_be_visible()
        expect(tab.locator("li.step")).to_have_count(len(TREE))
        expect(tab.locator("li.step .step-name")).to_have_text([shown(name) for name, _ in TREE])
        expect(tab.locator("#failed-step > .step-head .step-name")).to_have_text("router")
        expect(tab.locator("li.step-error .step-error-text")).to_have_text("tool exploded: HTTP 500")
        answer = tab.locator('li.step[data-position="5"]')
        expect(answer.locator(":scope > .step-head .step-name")).to_have_text("answer")
        output = answer.locator(':scope > details[data-part="output"]')
        expect(output.locator("pre")).to_be_hidden()
        output.locator("summary").click()
        expect(output.locator("pre")).to_be_visible()
        expect(output.locator("pre")).to_have_text(f"Refunds take 5 days {PWN}")
        hostile = tab.locator('li.step[data-position="7"]')
        hostile.locator(':scope > details[data-part="output"] summary').click()
        expect(hostile.locator(':scope > details[data-part="output"] pre')).to_have_text(SCRIPT)
        assert tab.evaluate("window.__pwned") is None
        assert tab.evaluate("document.querySelectorAll('li.step img, li.step script').length") == 0
    assert tab.incidents == []


def test_the_store_lists_failed_steps_by_sample_and_their_names(tmp_path: Path) -> None:
    with Store(tmp_path / "names.db") as store:
        run = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=2))
        long = "n" * 1001
        store.samples.write(
            run.id,
            [
                Sample("c1", "a", 0, "p", "x", failed_step="zeta"),
                Sample("c1", "a", 1, "p", "x", failed_step="alpha"),
                Sample("c2", "a", 0, "p", "x", failed_step=long),
                Sample("c2", "a", 1, "p", "x"),
            ],
        )
        ids = [record.id for case in ("c1", "c2") for record in store.browse.case_samples(run.id, case, ["a"])]
        assert store.steps.failed_step_names(run.id) == ["alpha", long, "zeta"]
        assert store.steps.failed_step_names(run.id, max_chars=1000) == ["alpha", "zeta"]
        assert store.steps.failed_step_names("no-such-run") == []
        assert store.steps.failed_steps(ids) == {ids[0]: "zeta", ids[1]: "alpha", ids[2]: long}
        assert store.steps.failed_steps([]) == {}
